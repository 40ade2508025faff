import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { eventTrail, hasEvent, recordEvents, registerRequest } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** `requestCancel` by cancel policy, and cancelling tasks that already ended. */
export const describeCancellation: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("cancellation by policy", () => {
    const context = useHost(harness);

    it("cooperative: the task moves to cancel_requested and its owner ends it; a second request changes nothing", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("t1"));
      await host.update("t1", { state: "running" });
      const requested = await host.requestCancel("t1", "user pressed stop");
      expect(requested.state).toBe("cancel_requested");
      expect(await host.requestCancel("t1", "again")).toEqual(requested);
      const cancelled = await host.complete("t1", { state: "cancelled", summary: "user pressed stop" });
      expect(cancelled.failure?.summary).toBe("user pressed stop");
      await events.until(hasEvent("cancelled", "t1"));
      expect(eventTrail(events.items, "t1")).toEqual([
        "registered",
        "state_changed:running",
        "state_changed:cancel_requested",
        "cancel_requested",
        "cancelled",
      ]);
      const request = events.items.find((event) => event.type === "cancel_requested");
      expect(request?.type === "cancel_requested" && request.reason).toBe("user pressed stop");
      events.stop();
    });

    it("abort_local: the task is cancelled at once with the reason in failure", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("t1", { cancelPolicy: "abort_local" }));
      await host.update("t1", { state: "running" });
      const cancelled = await host.requestCancel("t1", "too slow");
      expect(cancelled.state).toBe("cancelled");
      expect(cancelled.failure?.summary).toBe("too slow");
      expect(typeof cancelled.completedAt).toBe("number");
      await events.until(hasEvent("cancelled", "t1"));
      expect(eventTrail(events.items, "t1")).toEqual([
        "registered",
        "state_changed:running",
        "state_changed:cancel_requested",
        "cancel_requested",
        "cancelled",
      ]);
      events.stop();
    });

    it("external: only the request is recorded; the owner completes the task later", async () => {
      const host = context.host();
      await host.register(registerRequest("t1", { cancelPolicy: "external" }));
      const requested = await host.requestCancel("t1");
      expect(requested.state).toBe("cancel_requested");
      expect((await host.get("t1"))?.state).toBe("cancel_requested");
      const ended = await host.complete("t1", { state: "cancelled", summary: "owner stopped" });
      expect(ended.state).toBe("cancelled");
      expect(ended.failure?.summary).toBe("owner stopped");
    });

    it("a cancel without a reason still records one in failure", async () => {
      const host = context.host();
      await host.register(registerRequest("t1", { cancelPolicy: "abort_local" }));
      const cancelled = await host.requestCancel("t1");
      expect(cancelled.state).toBe("cancelled");
      expect(typeof cancelled.failure?.summary).toBe("string");
      expect(cancelled.failure?.summary).not.toBe("");
    });

    it("an ending without a summary still records why in failure: the cancel reason, or that it failed", async () => {
      const host = context.host();
      await host.register(registerRequest("asked"));
      await host.update("asked", { state: "running" });
      await host.requestCancel("asked", "user pressed stop");
      expect((await host.complete("asked", { state: "cancelled" })).failure).toEqual({ summary: "user pressed stop" });
      await host.register(registerRequest("plain"));
      expect((await host.complete("plain", { state: "cancelled" })).failure?.summary).toBe("cancelled");
      await host.register(registerRequest("broken"));
      expect((await host.complete("broken", { state: "failed" })).failure).toEqual({ summary: "failed" });
    });

    it("update to cancel_requested is a cancel request: its event is emitted and abort_local ends the task", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("t1"));
      await host.update("t1", { state: "running" });
      const requested = await host.update("t1", { state: "cancel_requested" });
      expect(requested.state).toBe("cancel_requested");
      await host.register(registerRequest("t2", { cancelPolicy: "abort_local" }));
      const ended = await host.update("t2", { state: "cancel_requested" });
      expect(ended.state).toBe("cancelled");
      expect(typeof ended.failure?.summary).toBe("string");
      await events.until(hasEvent("cancelled", "t2"));
      expect(eventTrail(events.items, "t1")).toEqual([
        "registered",
        "state_changed:running",
        "state_changed:cancel_requested",
        "cancel_requested",
      ]);
      expect(eventTrail(events.items, "t2")).toEqual(["registered", "state_changed:cancel_requested", "cancel_requested", "cancelled"]);
      events.stop();
    });

    it("cancelling a task that already ended returns its record and emits nothing", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("done"));
      const completed = await host.complete("done", { state: "completed", summary: "finished" });
      await host.register(registerRequest("failed", { cancelPolicy: "abort_local" }));
      const failed = await host.complete("failed", { state: "failed", summary: "broke" });
      await events.until(hasEvent("failed", "failed"));
      const seen = events.items.length;
      expect(await host.requestCancel("done", "too late")).toEqual(completed);
      expect(await host.requestCancel("failed")).toEqual(failed);
      await host.register(registerRequest("marker"));
      await events.until(hasEvent("registered", "marker"));
      expect(events.items.slice(seen).map((event) => `${event.type}:${event.taskId}`)).toEqual(["registered:marker"]);
      expect(await host.get("done")).toEqual(completed);
      events.stop();
    });
  });
};
