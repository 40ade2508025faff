import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { gate, hasEvent, recordEvents, scope } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** `spawnHidden` / `awaitHidden` (needs in-process work). */
export const describeHiddenTasks: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();
  if (!harness.capabilities.inProcessWork) return;

  describe("hidden tasks", () => {
    const context = useHost(harness);

    it("awaitHidden waits for the scope's jobs, those spawned while waiting included", async () => {
      const host = context.host();
      const ran: string[] = [];
      const release = gate();
      host.spawnHidden(scope("root"), "first", async () => {
        await release.promise;
        ran.push("first");
        host.spawnHidden(scope("root"), "second", async () => {
          ran.push("second");
        });
      });
      const waited = host.awaitHidden(scope("root")).then(() => [...ran]);
      release.open();
      expect(await waited).toEqual(["first", "second"]);
    });

    it("awaitHidden does not wait for another session's jobs", async () => {
      const host = context.host();
      const otherRelease = gate();
      let otherDone = false;
      host.spawnHidden(scope("other"), "blocked", async () => {
        await otherRelease.promise;
        otherDone = true;
      });
      host.spawnHidden(scope("root"), "quick", async () => {});
      await host.awaitHidden(scope("root"));
      expect(otherDone).toBe(false);
      otherRelease.open();
      await host.awaitHidden(scope("other"));
      expect(otherDone).toBe(true);
    });

    it("hidden jobs are invisible to list and events; awaitHidden rejects with a failure only after every job settled", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const release = gate();
      let slowDone = false;
      host.spawnHidden(scope("root"), "failing", async () => {
        throw new Error("hidden failure");
      });
      host.spawnHidden(scope("root"), "slow", async () => {
        await release.promise;
        slowDone = true;
      });
      expect(await host.list({ includeTerminal: true })).toEqual([]);
      const waited = host.awaitHidden(scope("root")).then(
        () => "resolved",
        (error: unknown) => (slowDone ? `rejected after all: ${String(error)}` : "rejected too early"),
      );
      release.open();
      expect(await waited).toContain("rejected after all");
      expect(await waited).toContain("hidden failure");
      await host.register({ id: "marker", kind: "other", producer: "conformance", scope: scope("root") });
      await events.until(hasEvent("registered", "marker"));
      expect(events.items.map((event) => event.taskId)).toEqual(["marker"]);
      await host.awaitHidden(scope("root"));
      events.stop();
    });
  });
};
