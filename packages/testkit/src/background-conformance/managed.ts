import { BackgroundTaskConflictError, BackgroundTaskUnsupportedError, UnknownBackgroundTaskError } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { aborted, eventTrail, gate, hasEvent, recordEvents, registration, scope, settle } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** The session-scoped API with in-process work: `spawnManaged`, `registerExternal` and friends. */
export const describeManaged: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  if (!harness.capabilities.inProcessWork) {
    describe("session-scoped API (declared: no in-process work)", () => {
      const context = useHost(harness);
      it("spawnManaged and spawnHidden throw BackgroundTaskUnsupportedError", async () => {
        const host = context.host();
        await expect(host.spawnManaged(scope("s1"), registration("m1"), async () => undefined)).rejects.toSatisfy(
          BackgroundTaskUnsupportedError.isInstance,
        );
        expect(() => host.spawnHidden(scope("s1"), "job", async () => {})).toThrow();
      });
    });
    return;
  }

  describe("session-scoped API", () => {
    const context = useHost(harness);

    it("spawnManaged records the task as running, lists it once and completes it when the work returns (with an event)", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const release = gate();
      const started = gate();
      const spawned = await host.spawnManaged(scope("s1"), registration("monitor:one"), async (work) => {
        started.open();
        expect(work.attempt).toBe(1);
        expect(work.record.id).toBe("monitor:one");
        await release.promise;
        return { summary: "watched", value: { hits: 2 } };
      });
      expect(spawned).toMatchObject({ id: "monitor:one", kind: "monitor", producer: "conformance", scope: { sessionId: "s1" } });
      expect(["pending", "running"]).toContain(spawned.state);
      await started.promise;
      const listed = await host.listManaged(scope("s1"));
      expect(listed.map((record) => record.id)).toEqual(["monitor:one"]);
      expect(listed[0]?.state).toBe("running");
      release.open();
      const ended = await host.waitForTerminal("monitor:one");
      expect(ended.state).toBe("completed");
      expect(ended.result).toEqual({ summary: "watched", value: { hits: 2 } });
      expect(typeof ended.completedAt).toBe("number");
      await events.until(hasEvent("completed", "monitor:one"));
      expect(eventTrail(events.items).at(-1)).toBe("completed");
      expect(eventTrail(events.items).filter((type) => type === "registered")).toHaveLength(1);
      expect(await host.getManaged(scope("s1"), "monitor:one")).toEqual(ended);
      events.stop();
    });

    it("work that throws fails the task with the error's message in failure, and emits failed", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.spawnManaged(scope("s1"), registration("m1"), async () => {
        throw new Error("disk on fire");
      });
      const ended = await host.waitForTerminal("m1");
      expect(ended.state).toBe("failed");
      expect(ended.failure?.summary).toContain("disk on fire");
      await events.until(hasEvent("failed", "m1"));
      events.stop();
    });

    it("a live managed id cannot be spawned again", async () => {
      const host = context.host();
      const release = gate();
      await host.spawnManaged(scope("s1"), registration("m1"), async () => release.promise);
      await expect(host.spawnManaged(scope("s2"), registration("m1"), async () => undefined)).rejects.toSatisfy(
        BackgroundTaskConflictError.isInstance,
      );
      release.open();
      await host.waitForTerminal("m1");
    });

    it("work reports progress and moves between running and waiting", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const release = gate();
      await host.spawnManaged(scope("s1"), registration("m1"), async (work) => {
        await work.progress("step 1");
        await work.setLiveState("waiting");
        await release.promise;
        await work.setLiveState("running");
      });
      await events.until((items) => items.some((event) => event.type === "state_changed" && event.state === "waiting"));
      expect((await host.get("m1"))?.state).toBe("waiting");
      release.open();
      await host.waitForTerminal("m1");
      await events.until(hasEvent("completed", "m1"));
      const trail = eventTrail(events.items, "m1");
      expect(trail[0]).toBe("registered");
      expect(trail.slice(trail.indexOf("progress"))).toEqual(["progress", "state_changed:waiting", "state_changed:running", "completed"]);
      const progress = events.items.find((event) => event.type === "progress");
      expect(progress?.type === "progress" && progress.message).toBe("step 1");
      events.stop();
    });

    it("cooperative cancel aborts the work's signal; the task ends cancelled with the reason once the work stops", async () => {
      const host = context.host();
      const events = recordEvents(host);
      let sawAbort = false;
      const started = gate();
      await host.spawnManaged(scope("s1"), registration("m1"), async (work) => {
        started.open();
        await aborted(work.signal);
        sawAbort = true;
        throw new Error("stopped because asked");
      });
      await started.promise;
      const requested = await host.cancelManaged(scope("s1"), "m1", "parent cancelled");
      expect(["cancel_requested", "cancelled"]).toContain(requested?.state);
      const ended = await host.waitForTerminal("m1");
      expect(sawAbort).toBe(true);
      expect(ended.state).toBe("cancelled");
      expect(ended.failure?.summary).toBe("parent cancelled");
      await events.until(hasEvent("cancelled", "m1"));
      expect(eventTrail(events.items).slice(-3)).toEqual(["state_changed:cancel_requested", "cancel_requested", "cancelled"]);
      events.stop();
    });

    it("abort_local cancel ends the task at once, even when the work ignores the signal", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const release = gate();
      await host.spawnManaged(scope("s1"), registration("m1", { cancelPolicy: "abort_local" }), async () => {
        await release.promise;
        return { summary: "finished anyway" };
      });
      const cancelled = await host.cancelManaged(scope("s1"), "m1", "abort");
      expect(cancelled?.state).toBe("cancelled");
      expect(cancelled?.failure?.summary).toBe("abort");
      release.open();
      await host.register({ id: "marker", kind: "other", producer: "conformance", scope: scope("s1") });
      await events.until(hasEvent("registered", "marker"));
      expect((await host.get("m1"))?.state).toBe("cancelled");
      expect(eventTrail(events.items, "m1").filter((type) => type === "cancelled" || type === "completed")).toEqual(["cancelled"]);
      events.stop();
    });

    it("registerExternal: cancelManaged calls the hook exactly once and marks the task cancelled; a second cancel emits nothing", async () => {
      const host = context.host();
      const events = recordEvents(host);
      let hookCalls = 0;
      const record = await host.registerExternal(
        scope("s1"),
        registration("subagent:child", { kind: "subagent", childSessionId: "child" }),
        async () => {
          hookCalls += 1;
        },
      );
      expect(record.state).toBe("running");
      expect(record.childSessionId).toBe("child");
      await host.cancelManaged(scope("s1"), "subagent:child", "stop child");
      const ended = await host.waitForTerminal("subagent:child");
      expect(ended.state).toBe("cancelled");
      expect(ended.failure?.summary).toBe("stop child");
      expect(hookCalls).toBe(1);
      await events.until(hasEvent("cancelled", "subagent:child"));
      const seen = events.items.length;
      expect(await host.cancelManaged(scope("s1"), "subagent:child")).toEqual(ended);
      await host.register({ id: "marker", kind: "other", producer: "conformance", scope: scope("s1") });
      await events.until(hasEvent("registered", "marker"));
      expect(events.items.slice(seen).map((event) => event.taskId)).toEqual(["marker"]);
      expect(hookCalls).toBe(1);
      events.stop();
    });

    it("markLiveState flips running and waiting but never revives an ended task", async () => {
      const host = context.host();
      await host.registerExternal(scope("s1"), registration("ext"));
      expect((await host.markLiveState(scope("s1"), "ext", "waiting"))?.state).toBe("waiting");
      expect((await host.markLiveState(scope("s1"), "ext", "running"))?.state).toBe("running");
      const ended = await host.markTerminal(scope("s1"), "ext", "completed", { summary: "ok" });
      expect(ended?.state).toBe("completed");
      expect(ended?.result?.summary).toBe("ok");
      expect(await host.markLiveState(scope("s1"), "ext", "waiting")).toEqual(ended);
      expect(await host.markTerminal(scope("s1"), "ext", "failed")).toEqual(ended);
      expect(await host.markLiveState(scope("s1"), "unknown", "waiting")).toBeUndefined();
    });

    it("the scoped methods only see their own scope's tasks", async () => {
      const host = context.host();
      await host.registerExternal(scope("s1"), registration("ext"));
      expect(await host.getManaged(scope("s2"), "ext")).toBeUndefined();
      expect(await host.cancelManaged(scope("s2"), "ext")).toBeUndefined();
      expect(await host.markTerminal(scope("s2"), "ext", "failed")).toBeUndefined();
      expect(await host.listManaged(scope("s2"))).toEqual([]);
      expect((await host.get("ext"))?.state).toBe("running");
    });

    it("transferManaged moves live task visibility and rewrites the record's scope", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.registerExternal(scope("s1"), registration("monitor:one"));
      const moved = await host.transferManaged(scope("s1"), scope("s2"), ["monitor:one", "missing"]);
      expect(moved.map((record) => record.id)).toEqual(["monitor:one"]);
      expect(await host.listManaged(scope("s1"))).toEqual([]);
      const there = await host.listManaged(scope("s2"));
      expect(there.map((record) => [record.id, record.state, record.scope.sessionId])).toEqual([["monitor:one", "running", "s2"]]);
      expect((await host.list({ sessionId: "s2" })).map((record) => record.id)).toEqual(["monitor:one"]);
      await events.until(hasEvent("transferred", "monitor:one"));
      events.stop();
    });

    it("cancelAllManaged cancels each live task of the scope and returns their records", async () => {
      const host = context.host();
      let hookCalls = 0;
      const hook = async (): Promise<void> => {
        hookCalls += 1;
      };
      await host.registerExternal(scope("s1"), registration("a"), hook);
      await host.registerExternal(scope("s1"), registration("b"), hook);
      await host.registerExternal(scope("s1"), registration("ended"), hook);
      await host.markTerminal(scope("s1"), "ended", "completed");
      await host.registerExternal(scope("s2"), registration("elsewhere"), hook);
      const records = await host.cancelAllManaged(scope("s1"));
      expect(records.map((record) => record.id).sort()).toEqual(["a", "b"]);
      for (const id of ["a", "b"]) expect((await host.waitForTerminal(id)).state).toBe("cancelled");
      expect(hookCalls).toBe(2);
      expect((await host.get("elsewhere"))?.state).toBe("running");
      expect((await host.get("ended"))?.state).toBe("completed");
    });

    it("update to cancel_requested aborts managed work like a cancel request; the task ends cancelled", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const started = gate();
      await host.spawnManaged(scope("s1"), registration("m1"), async (work) => {
        started.open();
        await aborted(work.signal);
        throw new Error("stopped because asked");
      });
      await started.promise;
      expect((await host.update("m1", { state: "cancel_requested" })).state).not.toBe("running");
      const ended = await host.waitForTerminal("m1");
      expect(ended.state).toBe("cancelled");
      expect(typeof ended.failure?.summary).toBe("string");
      await events.until(hasEvent("cancelled", "m1"));
      expect(eventTrail(events.items, "m1")).toEqual(["registered", "state_changed:cancel_requested", "cancel_requested", "cancelled"]);
      events.stop();
    });

    it("markTerminal cancelled without an outcome records the cancel reason in failure", async () => {
      const host = context.host();
      await host.registerExternal(scope("s1"), registration("ext", { cancelPolicy: "external" }));
      await host.cancelManaged(scope("s1"), "ext", "user pressed stop");
      const ended = await host.markTerminal(scope("s1"), "ext", "cancelled");
      expect(ended?.state).toBe("cancelled");
      expect(ended?.failure).toEqual({ summary: "user pressed stop" });
    });

    it("a waiter on a task that is unregistered rejects with UnknownBackgroundTaskError", async () => {
      const host = context.host();
      await host.registerExternal(scope("s1"), registration("ext"));
      const waiting = host.waitForTerminal("ext").catch((error: unknown) => error);
      await settle();
      await host.unregisterExternal(scope("s1"), "ext");
      expect(UnknownBackgroundTaskError.isInstance(await waiting)).toBe(true);
    });

    it("unregisterExternal forgets a task without an event", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.registerExternal(scope("s1"), registration("ext"));
      await host.unregisterExternal(scope("s1"), "ext");
      await host.unregisterExternal(scope("s1"), "never-there");
      expect(await host.get("ext")).toBeUndefined();
      await host.register({ id: "marker", kind: "other", producer: "conformance", scope: scope("s1") });
      await events.until(hasEvent("registered", "marker"));
      expect(events.items.map((event) => `${event.type}:${event.taskId}`)).toEqual(["registered:ext", "registered:marker"]);
      events.stop();
    });
  });
};
