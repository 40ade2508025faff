import { describe, expect, it } from "vitest";
import type { BackgroundTaskEvent, BackgroundTaskRecord, BackgroundTaskState } from "./background-task-schemas.js";
import { backgroundTaskStateSchema, isTerminalBackgroundTaskState } from "./background-task-schemas.js";
import {
  backgroundTaskEventMatches,
  backgroundTaskRecordMatches,
  compareBackgroundTaskRecords,
  isLegalBackgroundTaskTransition,
} from "./background-task-transitions.js";

const states = backgroundTaskStateSchema.options;

function record(overrides: Partial<BackgroundTaskRecord> = {}): BackgroundTaskRecord {
  return {
    id: "t1",
    kind: "other",
    producer: "test",
    scope: { sessionId: "s1" },
    state: "running",
    cancelPolicy: "cooperative",
    closePolicy: "keep",
    attempt: { attempt: 1 },
    createdAt: 10,
    updatedAt: 10,
    ...overrides,
  };
}

describe("background task state machine", () => {
  it("terminal states are exactly completed, failed and cancelled, and have no way out", () => {
    expect(states.filter(isTerminalBackgroundTaskState)).toEqual(["completed", "failed", "cancelled"]);
    for (const from of states.filter(isTerminalBackgroundTaskState)) {
      for (const to of states) expect(isLegalBackgroundTaskTransition(from, to)).toBe(false);
    }
  });

  it("follows the intended graph: pending starts, running and waiting alternate, cancel is requested once", () => {
    const legal = (from: BackgroundTaskState): BackgroundTaskState[] => states.filter((to) => isLegalBackgroundTaskTransition(from, to));
    expect(legal("pending")).toEqual(["running", "waiting", "completed", "failed", "cancel_requested", "cancelled"]);
    expect(legal("running")).toEqual(["waiting", "completed", "failed", "cancel_requested", "cancelled"]);
    expect(legal("waiting")).toEqual(["running", "completed", "failed", "cancel_requested", "cancelled"]);
    expect(legal("cancel_requested")).toEqual(["completed", "failed", "cancelled"]);
    for (const state of states) expect(isLegalBackgroundTaskTransition(state, state)).toBe(false);
  });
});

describe("filters and order", () => {
  it("records match by session, kind and liveness", () => {
    expect(backgroundTaskRecordMatches(record())).toBe(true);
    expect(backgroundTaskRecordMatches(record({ state: "completed" }))).toBe(false);
    expect(backgroundTaskRecordMatches(record({ state: "completed" }), { includeTerminal: true })).toBe(true);
    expect(backgroundTaskRecordMatches(record(), { sessionId: "s2" })).toBe(false);
    expect(backgroundTaskRecordMatches(record(), { kind: "monitor" })).toBe(false);
    expect(backgroundTaskRecordMatches(record({ kind: "monitor" }), { kind: "monitor", sessionId: "s1" })).toBe(true);
  });

  it("events match by their task, endings included; a transfer matches both scopes", () => {
    const ended: BackgroundTaskEvent = { type: "completed", taskId: "t1", record: record({ state: "completed" }) };
    expect(backgroundTaskEventMatches(ended, { sessionId: "s1" })).toBe(true);
    expect(backgroundTaskEventMatches(ended, { sessionId: "s1", includeTerminal: false })).toBe(true);
    expect(backgroundTaskEventMatches(ended, { kind: "subagent" })).toBe(false);
    const moved: BackgroundTaskEvent = {
      type: "transferred",
      taskId: "t1",
      record: record({ scope: { sessionId: "s2" } }),
      scope: { sessionId: "s2" },
      previousScope: { sessionId: "s1" },
    };
    expect(backgroundTaskEventMatches(moved, { sessionId: "s1" })).toBe(true);
    expect(backgroundTaskEventMatches(moved, { sessionId: "s2" })).toBe(true);
    expect(backgroundTaskEventMatches(moved, { sessionId: "s3" })).toBe(false);
  });

  it("orders by creation time, then id", () => {
    const records = [record({ id: "b", createdAt: 5 }), record({ id: "c", createdAt: 1 }), record({ id: "a", createdAt: 5 })];
    expect(records.sort(compareBackgroundTaskRecords).map((entry) => entry.id)).toEqual(["c", "a", "b"]);
  });
});
