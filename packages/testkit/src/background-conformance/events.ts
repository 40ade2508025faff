import type { BackgroundTaskEvent } from "@lash/protocol";
import { BackgroundTaskHostClosedError, backgroundTaskEventSchema } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { eventTrail, hasEvent, recordEvents, recordWatch, registerRequest, scope } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** Event completeness and order, filtered subscriptions, `watch` without a gap, closing the host. */
export const describeEvents: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("events", () => {
    const context = useHost(harness);

    it("every change of a task's life emits exactly one well-formed event, in order, carrying the record after it", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const records = [await host.register(registerRequest("t1"))];
      records.push(await host.update("t1", { state: "running" }));
      records.push(await host.update("t1", { state: "waiting" }));
      records.push(await host.update("t1", { progress: "still here" }));
      records.push(await host.update("t1", { state: "running" }));
      records.push(await host.transfer("t1", scope("s2")));
      records.push(await host.complete("t1", { state: "completed", summary: "done" }));
      await events.until(hasEvent("completed", "t1"));
      expect(eventTrail(events.items)).toEqual([
        "registered",
        "state_changed:running",
        "state_changed:waiting",
        "progress",
        "state_changed:running",
        "transferred",
        "completed",
      ]);
      for (const [index, event] of events.items.entries()) {
        expect(backgroundTaskEventSchema.parse(event)).toEqual(event);
        expect(event.record).toEqual(records[index]);
      }
      events.stop();
    });

    it("a session filter delivers that session's events, endings included, and nothing of other sessions", async () => {
      const host = context.host();
      const mine = recordEvents(host, { sessionId: "s1" });
      const monitors = recordEvents(host, { kind: "monitor" });
      await host.register(registerRequest("other-session", { scope: scope("s2") }));
      await host.register(registerRequest("t1"));
      await host.register(registerRequest("m1", { kind: "monitor", scope: scope("s2") }));
      await host.complete("other-session", { state: "completed" });
      await host.complete("t1", { state: "failed", summary: "x" });
      await host.complete("m1", { state: "cancelled" });
      await mine.until(hasEvent("failed", "t1"));
      await monitors.until(hasEvent("cancelled", "m1"));
      expect(mine.items.map((event) => `${event.type}:${event.taskId}`)).toEqual(["registered:t1", "failed:t1"]);
      expect(monitors.items.map((event) => `${event.type}:${event.taskId}`)).toEqual(["registered:m1", "cancelled:m1"]);
      mine.stop();
      monitors.stop();
    });

    it("a transfer is seen by subscribers of the old and of the new session", async () => {
      const host = context.host();
      const before = recordEvents(host, { sessionId: "s1" });
      const after = recordEvents(host, { sessionId: "s2" });
      await host.register(registerRequest("t1"));
      await host.transfer("t1", scope("s2"));
      await host.complete("t1", { state: "completed" });
      await before.until(hasEvent("transferred", "t1"));
      await after.until(hasEvent("completed", "t1"));
      expect(eventTrail(before.items)).toEqual(["registered", "transferred"]);
      expect(eventTrail(after.items)).toEqual(["transferred", "completed"]);
      before.stop();
      after.stop();
    });

    it("every subscriber gets every event; an unsubscribed one gets no more", async () => {
      const host = context.host();
      const first = recordEvents(host);
      const second = recordEvents(host);
      await host.register(registerRequest("t1"));
      await first.until(hasEvent("registered", "t1"));
      first.stop();
      await host.update("t1", { state: "running" });
      await host.complete("t1", { state: "completed" });
      await second.until(hasEvent("completed", "t1"));
      expect(eventTrail(second.items)).toEqual(["registered", "state_changed:running", "completed"]);
      expect(eventTrail(first.items)).toEqual(["registered"]);
      second.stop();
    });

    it("watch delivers a snapshot of the current records, then live events, with nothing missed or repeated", async () => {
      const host = context.host();
      await host.register(registerRequest("old"));
      await host.register(registerRequest("elsewhere", { scope: scope("s2") }));
      await host.register(registerRequest("ended"));
      await host.complete("ended", { state: "completed" });
      const watched = recordWatch(host, { sessionId: "s1" });
      // Changes that race with the subscription: each must be in the snapshot or in a later event, never both.
      const racing = host.update("old", { state: "running" });
      await watched.until((items) => items.length >= 1);
      await racing;
      await host.register(registerRequest("new"));
      await host.complete("old", { state: "completed" });
      await watched.until((items) => items.some((item) => item.type === "completed" && item.taskId === "old"));
      const [snapshot, ...live] = watched.items;
      expect(snapshot?.type).toBe("snapshot");
      if (snapshot?.type !== "snapshot") throw new Error("the first watch item must be a snapshot");
      expect(snapshot.records.map((record) => record.id)).toEqual(["old"]);
      const liveEvents = live.filter((item): item is BackgroundTaskEvent => item.type !== "snapshot");
      expect(liveEvents).toHaveLength(live.length);
      const runningSeen =
        snapshot.records[0]?.state === "running" || liveEvents.some((event) => event.type === "state_changed" && event.state === "running");
      expect(runningSeen).toBe(true);
      expect(liveEvents.filter((event) => event.type === "state_changed" && event.state === "running").length).toBeLessThanOrEqual(1);
      expect(liveEvents.filter((event) => event.taskId !== "old").map((event) => `${event.type}:${event.taskId}`)).toEqual([
        "registered:new",
      ]);
      watched.stop();
    });

    it("closing the host completes every stream and refuses new work with BackgroundTaskHostClosedError", async () => {
      const host = context.host();
      const events = recordEvents(host);
      const watched = recordWatch(host);
      await host.register(registerRequest("t1"));
      await host.close();
      await events.until(() => events.completed);
      await watched.until(() => watched.completed);
      await expect(host.register(registerRequest("t2"))).rejects.toSatisfy(BackgroundTaskHostClosedError.isInstance);
      await host.close();
    });
  });
};
