import type { TraceRecord } from "@lash/protocol";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenTelemetryTraceSink } from "./opentelemetry-trace-sink.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
afterEach(() => exporter.reset());

const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
const base = (ms: number, turnId = "turn-1") => ({ timestamp: at(ms), sessionId: "root", turnId });
const usage = { inputTokens: 20, outputTokens: 5, cachedInputTokens: 4, reasoningTokens: 2 };
const summary = {
  eventCount: 1,
  textDeltaCount: 1,
  reasoningDeltaCount: 0,
  visibleChunkCount: 1,
  chunkSizes: [4],
  maxChunkChars: 4,
  avgChunkChars: 4,
  firstTokenLatencyMs: 7,
  streamDurationMs: 0,
};

function turn(turnId: string, outcome: "ok" | "failed-call" | "error"): TraceRecord[] {
  const records: TraceRecord[] = [
    { type: "turn_started", ...base(0, turnId), turnIndex: 1, provider: "openai", model: "gpt-4o" },
    { type: "prompt_built", ...base(1, turnId), systemPromptSha256: "abc", systemPromptChars: 10, messageCount: 1, toolCount: 1 },
    {
      type: "llm_call_started",
      ...base(2, turnId),
      callId: `${turnId}:llm:1`,
      modeIteration: 0,
      request: { provider: "openai", model: "gpt-4o", messageCount: 1, toolCount: 1 },
    },
  ];
  if (outcome === "failed-call") {
    records.push(
      { type: "llm_retry", ...base(3, turnId), callId: `${turnId}:llm:1`, attempt: 1, maxAttempts: 2, waitSeconds: 0, reason: "busy" },
      {
        type: "llm_call_failed",
        ...base(10, turnId),
        callId: `${turnId}:llm:1`,
        modeIteration: 0,
        model: "gpt-4o",
        durationMs: 8,
        error: { message: "boom", code: "http_500" },
        streamSummary: summary,
      },
      {
        type: "turn_completed",
        ...base(11, turnId),
        turnIndex: 1,
        model: "gpt-4o",
        durationMs: 11,
        outcome: { type: "stopped", stop: { type: "provider_error" } },
        usage,
      },
    );
    return records;
  }
  records.push(
    {
      type: "llm_call_completed",
      ...base(10, turnId),
      callId: `${turnId}:llm:1`,
      modeIteration: 0,
      model: "gpt-4o",
      durationMs: 8,
      usage,
      terminalReason: "tool_use",
      streamSummary: summary,
    },
    { type: "tool_call_started", ...base(11, turnId), callId: "call-1", toolName: "echo_tool" },
  );
  if (outcome === "error") {
    records.push({
      type: "turn_completed",
      ...base(13, turnId),
      turnIndex: 1,
      model: "gpt-4o",
      durationMs: 13,
      usage,
      error: { message: "store down", code: "store_commit_failed" },
    });
    return records;
  }
  records.push(
    { type: "tool_call_completed", ...base(12, turnId), callId: "call-1", toolName: "echo_tool", status: "success", durationMs: 1 },
    { type: "commit", ...base(13, turnId), commitId: `${turnId}:final`, ok: true, durationMs: 0 },
    {
      type: "turn_completed",
      ...base(14, turnId),
      turnIndex: 1,
      model: "gpt-4o",
      durationMs: 14,
      outcome: { type: "finished", finish: { type: "assistant_message", text: "done" } },
      usage,
    },
  );
  return records;
}

describe("createOpenTelemetryTraceSink", () => {
  it("makes one turn span with child chat and execute_tool spans carrying gen_ai attributes", () => {
    const sink = createOpenTelemetryTraceSink(provider.getTracer("test"));
    for (const record of turn("turn-1", "ok")) void sink.record(record);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name).sort()).toEqual(["chat gpt-4o", "execute_tool echo_tool", "invoke_agent lash"]);
    const root = spans.find((span) => span.name === "invoke_agent lash");
    const chat = spans.find((span) => span.name === "chat gpt-4o");
    const tool = spans.find((span) => span.name === "execute_tool echo_tool");
    if (!root || !chat || !tool) throw new Error("missing span");
    expect(root.parentSpanContext).toBeUndefined();
    expect(chat.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(tool.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(chat.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(root.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.conversation.id": "root",
      "gen_ai.request.model": "gpt-4o",
      "lash.turn.outcome": "finished",
    });
    expect(chat.kind).toBe(SpanKind.CLIENT);
    expect(chat.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.usage.input_tokens": 20,
      "gen_ai.usage.output_tokens": 7,
      "gen_ai.usage.cache_read.input_tokens": 4,
      "gen_ai.response.finish_reasons": ["tool_use"],
      "lash.time_to_first_token_ms": 7,
    });
    expect(tool.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "echo_tool",
      "gen_ai.tool.call.id": "call-1",
    });
    // Times come from the records.
    expect(root.startTime).toEqual([Math.floor(Date.parse(at(0)) / 1000), 0]);
    expect(chat.endTime).toEqual([Math.floor(Date.parse(at(10)) / 1000), 10_000_000]);
    expect(root.events.map((event) => event.name)).toEqual(["lash.prompt_built", "lash.commit"]);
  });

  it("marks a failed model call and keeps concurrent turns apart", () => {
    const sink = createOpenTelemetryTraceSink(provider.getTracer("test"), { agentName: "support-bot" });
    const first = turn("turn-a", "failed-call");
    const second = turn("turn-b", "ok");
    for (let index = 0; index < Math.max(first.length, second.length); index += 1) {
      const left = first[index];
      const right = second[index];
      if (left) void sink.record(left);
      if (right) void sink.record(right);
    }
    const spans = exporter.getFinishedSpans();
    const roots = spans.filter((span) => span.name === "invoke_agent support-bot");
    expect(roots).toHaveLength(2);
    const failedRoot = roots.find((span) => span.attributes["lash.turn.id"] === "turn-a");
    const failedChat = spans.find(
      (span) => span.name === "chat gpt-4o" && span.parentSpanContext?.spanId === failedRoot?.spanContext().spanId,
    );
    expect(failedChat?.status).toEqual({ code: SpanStatusCode.ERROR, message: "boom" });
    expect(failedChat?.attributes["error.type"]).toBe("http_500");
    expect(failedChat?.events.map((event) => event.name)).toEqual(["lash.retry"]);
    expect(failedRoot?.attributes["lash.turn.stop"]).toBe("provider_error");
    const okRoot = roots.find((span) => span.attributes["lash.turn.id"] === "turn-b");
    expect(
      spans
        .filter((span) => span.parentSpanContext?.spanId === okRoot?.spanContext().spanId)
        .map((span) => span.name)
        .sort(),
    ).toEqual(["chat gpt-4o", "execute_tool echo_tool"]);
  });

  it("a turn that failed ends its open spans and gets an error status", () => {
    const sink = createOpenTelemetryTraceSink(provider.getTracer("test"));
    for (const record of turn("turn-x", "error")) void sink.record(record);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    const root = spans.find((span) => span.name === "invoke_agent lash");
    expect(root?.status.code).toBe(SpanStatusCode.ERROR);
    expect(root?.attributes["error.type"]).toBe("store_commit_failed");
    expect(spans.find((span) => span.name === "execute_tool echo_tool")?.endTime).toEqual(root?.endTime);
  });

  it("records of an unknown turn start no spans", () => {
    const sink = createOpenTelemetryTraceSink(provider.getTracer("test"));
    void sink.record({ type: "tool_call_completed", ...base(0, "ghost"), callId: "x", toolName: "t", status: "success", durationMs: 0 });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
