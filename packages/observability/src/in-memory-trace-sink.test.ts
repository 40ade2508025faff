import { describe, expect, it } from "vitest";
import { createInMemoryTraceSink } from "./in-memory-trace-sink.js";

describe("InMemoryTraceSink", () => {
  it("keeps records in order, filters by type and clears", () => {
    const sink = createInMemoryTraceSink();
    const base = { timestamp: "2026-01-01T00:00:00.000Z", sessionId: "s", turnId: "t" };
    sink.record({ type: "commit", ...base, commitId: "a", ok: true, durationMs: 0 });
    sink.record({ type: "turn_started", ...base, turnIndex: 1, provider: "p", model: "m" });
    sink.record({ type: "commit", ...base, commitId: "b", ok: false, durationMs: 0 });
    expect(sink.records.map((record) => record.type)).toEqual(["commit", "turn_started", "commit"]);
    expect(sink.ofType("commit").map((record) => record.commitId)).toEqual(["a", "b"]);
    sink.clear();
    expect(sink.records).toEqual([]);
  });
});
