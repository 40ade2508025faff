import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { aborted, type Gate, gate, hasEvent, recordEvents, registration, scope, settle } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** Attempts with retry, and bounded concurrency (each behind its capability). */
export const describeRetriesAndConcurrency: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();
  if (!harness.capabilities.inProcessWork) return;

  describe("attempts and concurrency", () => {
    const context = useHost(harness);

    if (harness.capabilities.retries) {
      it("failed attempts are retried while maxAttempts allows, with a retrying event each", async () => {
        const host = context.host();
        const events = recordEvents(host);
        const attempts: number[] = [];
        await host.spawnManaged(scope("s1"), registration("flaky", { attempt: { attempt: 0, maxAttempts: 3 } }), async (work) => {
          attempts.push(work.attempt);
          if (work.attempt < 3) throw new Error(`attempt ${work.attempt} failed`);
          return { summary: "third time lucky" };
        });
        const ended = await host.waitForTerminal("flaky");
        expect(attempts).toEqual([1, 2, 3]);
        expect(ended.state).toBe("completed");
        expect(ended.attempt).toMatchObject({ attempt: 3, maxAttempts: 3 });
        await events.until(hasEvent("completed", "flaky"));
        const retries = events.items.filter((event) => event.type === "retrying");
        expect(retries.map((event) => (event.type === "retrying" ? [event.attempt, event.error] : []))).toEqual([
          [2, "attempt 1 failed"],
          [3, "attempt 2 failed"],
        ]);
        events.stop();
      });

      it("a task that fails every attempt ends failed with the last error", async () => {
        const host = context.host();
        let calls = 0;
        await host.spawnManaged(scope("s1"), registration("broken", { attempt: { attempt: 0, maxAttempts: 2 } }), async (work) => {
          calls += 1;
          throw new Error(`failure ${work.attempt}`);
        });
        const ended = await host.waitForTerminal("broken");
        expect(calls).toBe(2);
        expect(ended.state).toBe("failed");
        expect(ended.failure?.summary).toContain("failure 2");
      });
    } else {
      it("(declared: no retries) a failing task fails after its first attempt", async () => {
        const host = context.host();
        let calls = 0;
        await host.spawnManaged(scope("s1"), registration("broken", { attempt: { attempt: 0, maxAttempts: 3 } }), async () => {
          calls += 1;
          throw new Error("no retry");
        });
        expect((await host.waitForTerminal("broken")).state).toBe("failed");
        expect(calls).toBe(1);
      });
    }

    it("a cancelled task is not retried", async () => {
      const host = context.host();
      let calls = 0;
      const started = gate();
      await host.spawnManaged(scope("s1"), registration("t", { attempt: { attempt: 0, maxAttempts: 3 } }), async (work) => {
        calls += 1;
        started.open();
        await new Promise<void>((resolve) => work.signal.addEventListener("abort", () => resolve(), { once: true }));
        throw new Error("aborted");
      });
      await started.promise;
      await host.cancelManaged(scope("s1"), "t", "stop");
      expect((await host.waitForTerminal("t")).state).toBe("cancelled");
      expect(calls).toBe(1);
    });

    if (harness.capabilities.concurrencyLimit) {
      it("at most maxConcurrentTasks managed tasks run at once; the others wait pending and start in turn", async () => {
        const host = await context.recreate({ maxConcurrentTasks: 2 });
        const gates = new Map<string, Gate>();
        const started: string[] = [];
        let running = 0;
        let maxRunning = 0;
        const startedGate = new Map<string, Gate>();
        for (const id of ["a", "b", "c", "d"]) {
          gates.set(id, gate());
          startedGate.set(id, gate());
        }
        for (const id of ["a", "b", "c", "d"]) {
          await host.spawnManaged(scope("s1"), registration(id), async () => {
            running += 1;
            maxRunning = Math.max(maxRunning, running);
            started.push(id);
            startedGate.get(id)?.open();
            await gates.get(id)?.promise;
            running -= 1;
          });
        }
        await startedGate.get("a")?.promise;
        await startedGate.get("b")?.promise;
        expect(started).toEqual(["a", "b"]);
        expect((await host.get("c"))?.state).toBe("pending");
        expect((await host.get("d"))?.state).toBe("pending");
        gates.get("a")?.open();
        await startedGate.get("c")?.promise;
        expect((await host.get("d"))?.state).toBe("pending");
        for (const id of ["b", "c", "d"]) gates.get(id)?.open();
        for (const id of ["a", "b", "c", "d"]) expect((await host.waitForTerminal(id)).state).toBe("completed");
        expect(maxRunning).toBe(2);
        expect(started).toEqual(["a", "b", "c", "d"]);
      });

      it("cancelling a task that waits for a slot cancels it without running its work", async () => {
        const host = await context.recreate({ maxConcurrentTasks: 1 });
        const release = gate();
        let queuedRan = false;
        await host.spawnManaged(scope("s1"), registration("busy"), async () => release.promise);
        await host.spawnManaged(scope("s1"), registration("queued"), async () => {
          queuedRan = true;
        });
        await host.cancelManaged(scope("s1"), "queued", "not needed");
        expect((await host.waitForTerminal("queued")).state).toBe("cancelled");
        release.open();
        await host.waitForTerminal("busy");
        expect(queuedRan).toBe(false);
      });

      it("close cancels a task waiting for a slot without running its work", async () => {
        const host = await context.recreate({ maxConcurrentTasks: 1 });
        const started = gate();
        let queuedRan = false;
        await host.spawnManaged(scope("s1"), registration("busy"), async (work) => {
          started.open();
          await aborted(work.signal);
        });
        await host.spawnManaged(scope("s1"), registration("queued"), async () => {
          queuedRan = true;
        });
        await started.promise;
        await host.close();
        await settle();
        expect(queuedRan).toBe(false);
        expect((await host.get("queued"))?.state).toBe("cancelled");
      });

      it("closeScope cancels a task waiting for a slot without running its work, whatever frees the slot first", async () => {
        const host = await context.recreate({ maxConcurrentTasks: 1 });
        const started = gate();
        let queuedRan = false;
        await host.spawnManaged(scope("s1"), registration("busy", { closePolicy: "cancel", cancelPolicy: "abort_local" }), async (work) => {
          started.open();
          await aborted(work.signal);
        });
        await host.spawnManaged(scope("s1"), registration("queued", { closePolicy: "cancel" }), async () => {
          queuedRan = true;
        });
        await started.promise;
        const report = await host.closeScope(scope("s1"), { reason: "session over" });
        expect(report.cancelled.map((record) => [record.id, record.state])).toEqual([
          ["busy", "cancelled"],
          ["queued", "cancelled"],
        ]);
        await settle();
        expect(queuedRan).toBe(false);
        expect(await host.get("queued")).toMatchObject({ state: "cancelled", failure: { summary: "session over" } });
      });
    }
  });
};
