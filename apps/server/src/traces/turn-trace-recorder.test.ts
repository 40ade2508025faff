import type { TraceRecord } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { TurnTraceRecorder, teeTraceSink } from "./turn-trace-recorder.js";

const usage = { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 };

function started(turnId: string, sessionId = "s"): TraceRecord {
  return { type: "turn_started", timestamp: "2026-12-07T10:00:00.000Z", sessionId, turnId, turnIndex: 1, provider: "p", model: "m" };
}
function commit(turnId: string, n: number): TraceRecord {
  return {
    type: "commit",
    timestamp: "2026-12-07T10:00:00.010Z",
    sessionId: "s",
    turnId,
    commitId: `${turnId}:${n}`,
    ok: true,
    durationMs: 1,
  };
}
function completed(turnId: string): TraceRecord {
  return {
    type: "turn_completed",
    timestamp: "2026-12-07T10:00:00.020Z",
    sessionId: "s",
    turnId,
    turnIndex: 1,
    model: "m",
    durationMs: 20,
    usage,
  };
}

describe("TurnTraceRecorder", () => {
  it("keeps interleaved turns apart, and a turn dropped while its records still come starts a trace of its own", () => {
    const recorder = new TurnTraceRecorder({ maxTracedTurns: 1, maxTraceRecordsPerTurn: 10 });
    recorder.record(started("t1"));
    recorder.record(commit("t1", 1));
    // t2 pushes t1 out; t1's later records make a new trace, which pushes t2 out in turn.
    recorder.record(started("t2"));
    recorder.record(commit("t1", 2));
    expect(recorder.trace("s", "t2")).toBeUndefined();
    expect(recorder.trace("s", "t1")?.records.map((record) => record.type)).toEqual(["commit"]);
    recorder.forgetSession("s");
    recorder.record(completed("t1"));
    expect(recorder.trace("s", "t1")).toEqual({
      sessionId: "s",
      turnId: "t1",
      records: [completed("t1")],
      complete: true,
      truncated: false,
    });
  });

  it("keeps the most recent turns, and the ending of a turn past its record bound", () => {
    const recorder = new TurnTraceRecorder({ maxTracedTurns: 2, maxTraceRecordsPerTurn: 3 });
    for (const turnId of ["t1", "t2", "t3"]) recorder.record(started(turnId));
    expect(recorder.trace("s", "t1")).toBeUndefined();
    expect(recorder.sessionTraces("s").map((trace) => trace.turnId)).toEqual(["t3", "t2"]);

    for (let n = 0; n < 5; n += 1) recorder.record(commit("t3", n));
    recorder.record(completed("t3"));
    const trace = recorder.trace("s", "t3");
    expect(trace).toMatchObject({ complete: true, truncated: true });
    expect(trace?.records.map((record) => record.type)).toEqual(["turn_started", "commit", "commit", "turn_completed"]);
  });

  it("drops per-chunk stream events, and reopens a turn that an approval continues", () => {
    const recorder = new TurnTraceRecorder();
    recorder.record(started("t1"));
    recorder.record({
      type: "runtime_stream_event",
      timestamp: "2026-12-07T10:00:00.001Z",
      sessionId: "s",
      turnId: "t1",
      callId: "c",
      event: "delta",
      offsetMs: 1,
    });
    recorder.record(completed("t1"));
    expect(recorder.trace("s", "t1")?.complete).toBe(true);
    recorder.record(started("t1"));
    expect(recorder.trace("s", "t1")).toMatchObject({ complete: false });
    expect(recorder.trace("s", "t1")?.records.map((record) => record.type)).toEqual(["turn_started", "turn_completed", "turn_started"]);
    recorder.forgetSession("s");
    expect(recorder.trace("s", "t1")).toBeUndefined();
  });

  it("tees every record to the host's sink, and flushes and closes only the host's", async () => {
    const recorder = new TurnTraceRecorder();
    const seen: string[] = [];
    let flushed = 0;
    const tee = teeTraceSink(recorder, {
      record: (record) => void seen.push(record.type),
      flush: async () => {
        flushed += 1;
      },
    });
    await tee.record(started("t1"));
    await tee.flush?.();
    expect(seen).toEqual(["turn_started"]);
    expect(recorder.trace("s", "t1")?.records).toHaveLength(1);
    expect(flushed).toBe(1);
    expect(tee.close).toBeUndefined();
  });
});
