import {
  BackgroundTaskConflictError,
  BackgroundTaskHostClosedError,
  BackgroundTaskTransitionError,
  backgroundTaskRecordSchema,
  LashError,
  UnknownBackgroundTaskError,
} from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { eventTrail, hasEvent, recordEvents, registerRequest, scope } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** `register`, `update`, `complete`, `get`, `list`, `transfer`: the record API and its state machine. */
export const describeRecordApi: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("record API", () => {
    const context = useHost(harness);

    it("register creates a pending record with the request's identity, default policies and epoch-ms times", async () => {
      const host = context.host();
      const before = Date.now();
      const record = await host.register(
        registerRequest("t1", { childSessionId: "child-1", parentTaskId: "parent-task", kind: "subagent" }),
      );
      expect(backgroundTaskRecordSchema.parse(record)).toEqual(record);
      expect(record).toMatchObject({
        id: "t1",
        kind: "subagent",
        producer: "conformance",
        scope: { sessionId: "s1" },
        childSessionId: "child-1",
        parentTaskId: "parent-task",
        state: "pending",
        cancelPolicy: "cooperative",
        closePolicy: "keep",
        attempt: { attempt: 0 },
      });
      expect(record.result).toBeUndefined();
      expect(record.failure).toBeUndefined();
      expect(record.completedAt).toBeUndefined();
      expect(record.createdAt).toBeGreaterThanOrEqual(before - 60_000);
      expect(record.updatedAt).toBeGreaterThanOrEqual(record.createdAt);
      expect(await host.get("t1")).toEqual(record);
    });

    it("register keeps the given policies and attempt settings", async () => {
      const host = context.host();
      const record = await host.register(
        registerRequest("t1", {
          cancelPolicy: "external",
          closePolicy: "transfer",
          attempt: { attempt: 0, maxAttempts: 3, idempotencyKey: "key-1" },
        }),
      );
      expect(record.cancelPolicy).toBe("external");
      expect(record.closePolicy).toBe("transfer");
      expect(record.attempt).toEqual({ attempt: 0, maxAttempts: 3, idempotencyKey: "key-1" });
    });

    it("register, update, complete and filter", async () => {
      const host = context.host();
      const registered = await host.register(registerRequest("task-1", { childSessionId: "child" }));
      expect(registered.state).toBe("pending");
      expect(registered.childSessionId).toBe("child");
      const running = await host.update("task-1", { state: "running" });
      expect(running.state).toBe("running");
      expect(await host.list({ sessionId: "s1", kind: "other", includeTerminal: false })).toHaveLength(1);
      const completed = await host.complete("task-1", { state: "completed", summary: "done" });
      expect(completed.state).toBe("completed");
      expect(completed.result?.summary).toBe("done");
      expect(completed.failure).toBeUndefined();
      expect(typeof completed.completedAt).toBe("number");
      expect(await host.list({ sessionId: "s1" })).toEqual([]);
      expect(await host.list({ sessionId: "s1", includeTerminal: true })).toEqual([completed]);
    });

    it("complete keeps a failure's and a cancellation's reason in `failure`, and a JSON value with it", async () => {
      const host = context.host();
      await host.register(registerRequest("failed"));
      await host.register(registerRequest("cancelled"));
      await host.register(registerRequest("valued"));
      const failed = await host.complete("failed", { state: "failed", summary: "boom" });
      const cancelled = await host.complete("cancelled", { state: "cancelled", summary: "stopped by user" });
      const valued = await host.complete("valued", { state: "completed", summary: "ok", value: { answer: [1, "two"] } });
      expect(failed.failure).toEqual({ summary: "boom" });
      expect(failed.result).toBeUndefined();
      expect(cancelled.failure).toEqual({ summary: "stopped by user" });
      expect(cancelled.result).toBeUndefined();
      expect(valued.result).toEqual({ summary: "ok", value: { answer: [1, "two"] } });
    });

    it("a live id cannot be registered twice, in any scope; an ended task's id can be reused and replaces it", async () => {
      const host = context.host();
      await host.register(registerRequest("t1"));
      await expect(host.register(registerRequest("t1"))).rejects.toSatisfy(BackgroundTaskConflictError.isInstance);
      await expect(host.register(registerRequest("t1", { scope: scope("s2") }))).rejects.toSatisfy(BackgroundTaskConflictError.isInstance);
      await host.complete("t1", { state: "failed", summary: "first run" });
      const again = await host.register(registerRequest("t1", { scope: scope("s2") }));
      expect(again.state).toBe("pending");
      expect(again.failure).toBeUndefined();
      expect(again.completedAt).toBeUndefined();
      expect(await host.list({ includeTerminal: true })).toEqual([again]);
    });

    it("update records progress, attempts and live moves; moving to the current state changes nothing", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("t1"));
      await host.update("t1", { state: "running" });
      await host.update("t1", { progress: "half way" });
      const waiting = await host.update("t1", { state: "waiting", attempt: 2 });
      expect(waiting.state).toBe("waiting");
      expect(waiting.attempt.attempt).toBe(2);
      const same = await host.update("t1", { state: "waiting" });
      expect(same.state).toBe("waiting");
      await host.update("t1", { state: "running" });
      await events.until(hasEvent("state_changed", "t1"));
      await events.until((items) => eventTrail(items, "t1").length === 5);
      expect(eventTrail(events.items, "t1")).toEqual([
        "registered",
        "state_changed:running",
        "progress",
        "state_changed:waiting",
        "state_changed:running",
      ]);
      const progress = events.items.find((event) => event.type === "progress");
      expect(progress?.type === "progress" && progress.message).toBe("half way");
      const move = events.items[3];
      expect(move?.type === "state_changed" && move.previousState).toBe("running");
      events.stop();
    });

    it("illegal moves are typed errors that change nothing", async () => {
      const host = context.host();
      await host.register(registerRequest("t1"));
      await host.update("t1", { state: "cancel_requested" });
      await expect(host.update("t1", { state: "running" })).rejects.toSatisfy(BackgroundTaskTransitionError.isInstance);
      await host.complete("t1", { state: "completed", summary: "done" });
      const ended = await host.get("t1");
      const transition = await host.complete("t1", { state: "failed", summary: "overwrite?" }).catch((error: unknown) => error);
      expect(BackgroundTaskTransitionError.isInstance(transition)).toBe(true);
      expect(transition).toMatchObject({ code: "invalid_argument", taskId: "t1", from: "completed", to: "failed" });
      await expect(host.update("t1", { state: "running" })).rejects.toSatisfy(BackgroundTaskTransitionError.isInstance);
      await expect(host.update("t1", { progress: "late" })).rejects.toSatisfy(BackgroundTaskTransitionError.isInstance);
      expect(await host.get("t1")).toEqual(ended);
    });

    it("malformed requests are invalid_argument errors naming the field", async () => {
      const host = context.host();
      const badKind = await host.register({ ...registerRequest("t1"), kind: "bogus" as never }).catch((error: unknown) => error);
      expect(LashError.isInstance(badKind) && badKind.code).toBe("invalid_argument");
      expect(String((badKind as Error).message)).toContain("kind");
      const emptyId = await host.register(registerRequest("")).catch((error: unknown) => error);
      expect(LashError.isInstance(emptyId) && emptyId.code).toBe("invalid_argument");
      expect(String((emptyId as Error).message)).toContain("id");
      await host.register(registerRequest("t1"));
      const terminalUpdate = await host.update("t1", { state: "completed" as never }).catch((error: unknown) => error);
      expect(LashError.isInstance(terminalUpdate) && terminalUpdate.code).toBe("invalid_argument");
      const liveCompletion = await host.complete("t1", { state: "running" as never }).catch((error: unknown) => error);
      expect(LashError.isInstance(liveCompletion) && liveCompletion.code).toBe("invalid_argument");
      await host.update("t1", { attempt: 3 });
      const lowerAttempt = await host.update("t1", { attempt: 2 }).catch((error: unknown) => error);
      expect(LashError.isInstance(lowerAttempt) && lowerAttempt.code).toBe("invalid_argument");
      expect((await host.get("t1"))?.state).toBe("pending");
    });

    it("unknown ids: get is undefined, every other method throws UnknownBackgroundTaskError", async () => {
      const host = context.host();
      expect(await host.get("nope")).toBeUndefined();
      await expect(host.update("nope", { state: "running" })).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
      await expect(host.complete("nope", { state: "completed" })).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
      await expect(host.requestCancel("nope")).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
      await expect(host.transfer("nope", scope("s2"))).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
      await expect(host.waitForTerminal("nope")).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
    });

    it("waitForTerminal resolves with the ended record, at once for an ended task, and rejects when its signal aborts", async () => {
      const host = context.host();
      await host.register(registerRequest("t1"));
      const waited = host.waitForTerminal("t1");
      await host.update("t1", { state: "running" });
      const completed = await host.complete("t1", { state: "completed", summary: "done" });
      expect(await waited).toEqual(completed);
      expect(await host.waitForTerminal("t1")).toEqual(completed);
      await host.register(registerRequest("t2"));
      const controller = new AbortController();
      const abandoned = host.waitForTerminal("t2", controller.signal);
      controller.abort(new Error("stop waiting"));
      await expect(abandoned).rejects.toThrow("stop waiting");
      expect((await host.get("t2"))?.state).toBe("pending");
    });

    it("waitForTerminal after close rejects with BackgroundTaskHostClosedError", async () => {
      const host = context.host();
      await host.register(registerRequest("t1"));
      await host.close();
      await expect(host.waitForTerminal("t1")).rejects.toSatisfy(BackgroundTaskHostClosedError.isInstance);
    });
  });
};
