import { describe, expect, it } from "vitest";
import type { TraceRecord } from "../trace-schemas.js";
import { traceLevelSchema, traceRecordSchema } from "../trace-schemas.js";
import type { TraceSink } from "./trace-sink.js";

const base = { timestamp: "2026-01-01T00:00:00.000Z", sessionId: "root", turnId: "turn-1" };

describe("trace records", () => {
  it("parses every record type and round-trips through JSON", () => {
    const summary = {
      eventCount: 3,
      textDeltaCount: 2,
      reasoningDeltaCount: 0,
      visibleChunkCount: 2,
      chunkSizes: [6, 5],
      maxChunkChars: 6,
      avgChunkChars: 5.5,
      firstTokenLatencyMs: 1,
      streamDurationMs: 2,
    };
    const usage = { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 };
    const records: TraceRecord[] = [
      { type: "turn_started", ...base, turnIndex: 1, provider: "scripted", model: "m" },
      { type: "prompt_built", ...base, systemPromptSha256: "ab", systemPromptChars: 10, messageCount: 1, toolCount: 0 },
      {
        type: "llm_call_started",
        ...base,
        callId: "turn-1:llm:1",
        modeIteration: 0,
        request: { provider: "scripted", model: "m", messageCount: 1, toolCount: 0 },
      },
      { type: "runtime_stream_event", ...base, callId: "turn-1:llm:1", event: "delta", raw: "Hello ", offsetMs: 0 },
      { type: "llm_retry", ...base, callId: "turn-1:llm:1", attempt: 1, maxAttempts: 2, waitSeconds: 0, reason: "busy" },
      {
        type: "llm_call_completed",
        ...base,
        callId: "turn-1:llm:1",
        modeIteration: 0,
        model: "m",
        durationMs: 3,
        usage,
        terminalReason: "stop",
        streamSummary: summary,
      },
      {
        type: "llm_call_failed",
        ...base,
        callId: "turn-1:llm:2",
        modeIteration: 1,
        model: "m",
        durationMs: 3,
        error: { message: "boom", code: "builder", raw: "body" },
        streamSummary: summary,
      },
      { type: "tool_call_started", ...base, callId: "c1", toolName: "echo", args: { value: "x" } },
      { type: "tool_call_completed", ...base, callId: "c1", toolName: "echo", status: "success", durationMs: 1 },
      { type: "commit", ...base, commitId: "turn-1:final", ok: true, durationMs: 1 },
      {
        type: "turn_completed",
        ...base,
        turnIndex: 1,
        model: "m",
        durationMs: 5,
        outcome: { type: "finished", finish: { type: "assistant_message", text: "hi" } },
        usage,
      },
    ];
    for (const record of records) {
      expect(traceRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
    }
  });

  it("rejects an unknown type and a negative count, naming the field", () => {
    expect(traceRecordSchema.safeParse({ type: "nope", ...base }).success).toBe(false);
    const bad = traceRecordSchema.safeParse({
      type: "prompt_built",
      ...base,
      systemPromptSha256: "",
      systemPromptChars: -1,
      messageCount: 0,
      toolCount: 0,
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["systemPromptChars"]);
  });

  it("knows exactly two levels", () => {
    expect(traceLevelSchema.options).toEqual(["standard", "extended"]);
  });

  it("a sink needs only record", () => {
    const seen: TraceRecord[] = [];
    const sink: TraceSink = { record: (record) => void seen.push(record) };
    void sink.record({ type: "commit", ...base, commitId: "c", ok: true, durationMs: 0 });
    expect(seen.map((record) => record.type)).toEqual(["commit"]);
  });
});
