import { createHash } from "node:crypto";
import { InMemoryTraceSink, SessionUsageReport } from "@lash/observability";
import type { JsonValue, ToolDefinition, TraceLevel, TraceRecord, TraceSink } from "@lash/protocol";
import { traceRecordSchema } from "@lash/protocol";
import { ScriptedProvider, type ScriptedProviderOptions, type ScriptedStep, textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, IMMEDIATE_RETRY, llmUsage, MODEL, toolCallPart } from "../../test/fixtures.js";
import { InMemorySessionStore, LashRuntime, textInput } from "../index.js";
import { TurnTracer } from "./turn-tracer.js";

interface TracedRuntimeOptions {
  readonly steps: readonly ScriptedStep[];
  readonly sink: TraceSink;
  readonly level?: TraceLevel;
  readonly tools?: readonly ToolDefinition<unknown>[];
  readonly providerOptions?: ScriptedProviderOptions;
}

function tracedRuntime(options: TracedRuntimeOptions): Promise<LashRuntime> {
  const provider = new ScriptedProvider(options.steps, { defaultModel: MODEL, providerId: "mock", ...options.providerOptions });
  let builder = LashRuntime.builder()
    .withSessionId("root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withProviderRetryPolicy(IMMEDIATE_RETRY)
    .withTraceSink(options.sink, options.level);
  if (options.tools) builder = builder.withTools(options.tools);
  return builder.build();
}

const helloWorld: ScriptedStep = {
  events: [
    { type: "delta", text: "Hello " },
    { type: "part", part: { type: "text", text: "world" } },
  ],
  response: { usage: llmUsage(10, 2) },
};

describe("turn tracing", () => {
  it("records stream events at the extended level and a stream summary of the call", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({ steps: [helloWorld], sink, level: "extended" });
    await runtime.streamTurn(textInput("hi"));
    const streamed = sink.ofType("runtime_stream_event");
    expect(streamed.map((record) => [record.event, record.raw])).toEqual([
      ["delta", "Hello "],
      ["text_part", "world"],
    ]);
    const [completed] = sink.ofType("llm_call_completed");
    expect(completed?.streamSummary).toMatchObject({
      textDeltaCount: 2,
      visibleChunkCount: 2,
      maxChunkChars: 6,
      avgChunkChars: 5.5,
      chunkSizes: [6, 5],
    });
    expect(completed?.streamSummary.firstTokenLatencyMs).not.toBeNull();
    expect(completed?.streamSummary.streamDurationMs).not.toBeNull();
    expect(completed?.usage).toMatchObject({ inputTokens: 10, outputTokens: 2 });
    for (const record of sink.records) expect(traceRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  it("a stream of 200,000 chunks is traced in a bounded record and never fails the turn", async () => {
    // Far past the argument limit of Math.max(...sizes): the summary keeps running figures instead.
    const events = Array.from({ length: 200_000 }, (_, index) => ({ type: "delta" as const, text: index === 7 ? "longest chunk" : "x" }));
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({ steps: [{ events, response: { usage: llmUsage(10, 2) } }], sink });
    const turn = await runtime.streamTurn(textInput("hi"));
    expect(turn.outcome.type).toBe("finished");
    const [completed] = sink.ofType("llm_call_completed");
    expect(completed?.streamSummary).toMatchObject({ textDeltaCount: 200_000, visibleChunkCount: 200_000, maxChunkChars: 13 });
    expect(completed?.streamSummary.avgChunkChars).toBeCloseTo((199_999 + 13) / 200_000, 10);
    expect(completed?.streamSummary.chunkSizes).toHaveLength(1_000);
    expect(completed?.streamSummary.chunkSizes.slice(6, 9)).toEqual([1, 13, 1]);
  });

  it("omits stream event entries at the standard level but keeps the stream summary", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({ steps: [helloWorld], sink });
    await runtime.streamTurn(textInput("hi"));
    expect(sink.ofType("runtime_stream_event")).toEqual([]);
    expect(sink.ofType("llm_call_completed")[0]?.streamSummary.visibleChunkCount).toBe(2);
  });

  it("records a failed model call with its message, code and raw body", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({
      steps: [
        { error: { kind: "unknown", message: "request builder failed", code: "builder", raw: "transport raw body", retryable: false } },
      ],
      sink,
    });
    const turn = await runtime.streamTurn(textInput("hi"));
    expect(turn.outcome.type).toBe("stopped");
    expect(turn.errors).toHaveLength(1);
    expect(turn.errors[0]?.raw).toBe("transport raw body");
    expect(sink.ofType("llm_call_started")[0]?.request.model).toBe("mock-model");
    const [failed] = sink.ofType("llm_call_failed");
    expect(failed?.error).toMatchObject({
      message: "request builder failed",
      code: "builder",
      raw: "transport raw body",
      retryable: false,
    });
    expect(sink.ofType("turn_completed")[0]?.outcome?.type).toBe("stopped");
  });
});

describe("turn tracing", () => {
  it("records a tool turn in order: turn, prompt, calls, tools, commits, end", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({
      steps: [
        { response: { parts: [toolCallPart("call-1", "echo_tool", { value: "x" })], terminalReason: "tool_use", usage: llmUsage(5, 2) } },
        { response: { fullText: "done", parts: [{ type: "text", text: "done" }], usage: llmUsage(7, 1, 3) } },
      ],
      sink,
      tools: [echoTool as ToolDefinition<unknown>],
    });
    const turn = await runtime.streamTurn(textInput("echo x"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "done" } });
    expect(sink.records.map((record) => record.type)).toEqual([
      "turn_started",
      "prompt_built",
      "llm_call_started",
      "llm_call_completed",
      "tool_call_started",
      "tool_call_completed",
      "llm_call_started",
      "llm_call_completed",
      "commit",
      "turn_completed",
    ]);
    const ids = new Set(sink.records.map((record) => `${record.sessionId}/${record.turnId}`));
    expect(ids.size).toBe(1);
    expect(sink.ofType("turn_started")[0]).toMatchObject({ turnIndex: 1, provider: "mock", model: "mock-model" });
    const [prompt] = sink.ofType("prompt_built");
    expect(prompt?.systemPromptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(prompt?.toolCount).toBe(sink.ofType("llm_call_started")[0]?.request.toolCount);
    expect(prompt?.toolCount).toBeGreaterThanOrEqual(1);
    const turnId = sink.records[0]?.turnId;
    expect(sink.ofType("llm_call_started").map((record) => record.callId)).toEqual([`${turnId}:llm:1`, `${turnId}:llm:2`]);
    expect(sink.ofType("tool_call_started")[0]).toEqual(expect.objectContaining({ callId: "call-1", toolName: "echo_tool" }));
    expect(sink.ofType("tool_call_started")[0]?.args).toBeUndefined();
    expect(sink.ofType("tool_call_completed")[0]).toMatchObject({ callId: "call-1", status: "success" });
    expect(sink.ofType("commit")[0]).toMatchObject({ ok: true, commitId: `${sink.records[0]?.turnId}:final` });
    expect(sink.ofType("turn_completed")[0]).toMatchObject({ outcome: turn.outcome, usage: turn.tokenUsage });
  });

  it("hashes the system prompt: the same prompt twice gives the same hash", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({ steps: [helloWorld, helloWorld], sink, providerOptions: { recordRequests: true } });
    await runtime.streamTurn(textInput("one"));
    await runtime.streamTurn(textInput("two"));
    const [first, second] = sink.ofType("prompt_built");
    expect(first?.systemPromptSha256).toBe(second?.systemPromptSha256);
    expect(first?.systemPromptSha256).not.toBe(createHash("sha256").update("").digest("hex"));
    expect(second?.messageCount).toBeGreaterThan(first?.messageCount ?? 0);
  });

  it("records retries of a model call", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({
      steps: [{ error: { kind: "http", message: "provider unavailable", code: "http_500", retryable: true } }, helloWorld],
      sink,
    });
    const turn = await runtime.streamTurn(textInput("hi"));
    expect(turn.outcome.type).toBe("finished");
    const [retry] = sink.ofType("llm_retry");
    expect(retry).toMatchObject({ attempt: 1, reason: "provider unavailable" });
    expect(retry?.callId).toBe(sink.ofType("llm_call_started")[0]?.callId);
    expect(sink.ofType("llm_call_completed")).toHaveLength(1);
  });

  it("arguments of tool calls are traced only at the extended level", async () => {
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({
      steps: [
        { response: { parts: [toolCallPart("call-1", "echo_tool", { value: "secret" })], terminalReason: "tool_use" } },
        { response: { fullText: "ok", parts: [{ type: "text", text: "ok" }] } },
      ],
      sink,
      level: "extended",
      tools: [echoTool as ToolDefinition<unknown>],
    });
    await runtime.streamTurn(textInput("x"));
    expect(sink.ofType("tool_call_started")[0]?.args).toEqual({ value: "secret" });
  });

  it("a sink that throws or rejects never breaks a turn", async () => {
    const throwing: TraceSink = {
      record() {
        throw new Error("sink exploded");
      },
    };
    const rejecting: TraceSink = { record: () => Promise.reject(new Error("write failed")) };
    for (const sink of [throwing, rejecting]) {
      const runtime = await tracedRuntime({ steps: [helloWorld], sink });
      const turn = await runtime.streamTurn(textInput("hi"));
      expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello world" } });
      expect(turn.errors).toEqual([]);
    }
  });

  it("builds no tracer and no record without a sink", () => {
    const identity = { sessionId: "s", turnId: "t", turnIndex: 1, provider: "p", model: "m" };
    expect(TurnTracer.start(undefined, "standard", identity)).toBeUndefined();
    const records: TraceRecord[] = [];
    expect(TurnTracer.start({ record: (record) => void records.push(record) }, "standard", identity)).toBeDefined();
    expect(records.map((record) => record.type)).toEqual(["turn_started"]);
  });

  it("rejects a sink without record and an unknown level as configuration errors", () => {
    expect(() => LashRuntime.builder().withTraceSink({} as TraceSink)).toThrow(/record/);
    expect(() => LashRuntime.builder().withTraceSink(new InMemoryTraceSink(), "verbose" as TraceLevel)).toThrow(/trace level/);
  });
});

describe("LashRuntime.usageReport", () => {
  it("is the report of the token ledger", async () => {
    const runtime = await tracedRuntime({ steps: [helloWorld], sink: new InMemoryTraceSink() });
    await runtime.streamTurn(textInput("hi"));
    const report = runtime.usageReport();
    expect(report).toEqual(SessionUsageReport.fromEntries(runtime.tokenLedger()));
    expect(report.bySource.get("turn")).toMatchObject({ inputTokens: 10, outputTokens: 2, totalTokens: 12 });
  });

  it("reports child usage under its source, and traces the child's turn as its own session", async () => {
    const childUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 9, reasoningTokens: 0 };
    const spawn: ToolDefinition<JsonValue> = {
      name: "spawn_subagent",
      description: "Runs a subagent.",
      inputSchema: { type: "object" },
      execute: async (_input, context) => {
        const sessionId = await context.sessions.createSession({
          sessionId: "subagent-child",
          relation: { type: "child", parentSessionId: context.sessionId },
          usageSource: "subagent",
        });
        const turn = await context.sessions.runTurn(sessionId, textInput("sub task"));
        return { answer: turn.assistantOutput.safeText };
      },
    };
    const sink = new InMemoryTraceSink();
    const runtime = await tracedRuntime({
      steps: [
        toolCallStep([{ callId: "spawn-1", name: "spawn_subagent", args: {} }], { usage: { inputTokens: 10, outputTokens: 3 } }),
        textStep("child result", { usage: childUsage }),
        textStep("parent done", { usage: { inputTokens: 20, outputTokens: 5 } }),
      ],
      sink,
      tools: [spawn as ToolDefinition<unknown>],
    });
    await runtime.streamTurn(textInput("delegate"));
    const report = runtime.usageReport();
    expect(report.bySource.get("subagent")).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 9,
      reasoningTokens: 0,
      totalTokens: 0,
      contextTotalTokens: 9,
    });
    expect(report.bySource.get("turn")).toMatchObject({ inputTokens: 30, outputTokens: 8 });
    expect(report.usage.contextTotalTokens).toBe(47);
    const started = sink.ofType("turn_started").map((record) => record.sessionId);
    expect(started).toEqual(["root", "subagent-child"]);
    const childCompleted = sink.ofType("turn_completed").find((record) => record.sessionId === "subagent-child");
    expect(childCompleted?.usage).toEqual(childUsage);
  });

  it("records a failed commit and a turn that failed with its error", async () => {
    const sink = new InMemoryTraceSink();
    const store = new InMemorySessionStore();
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(new ScriptedProvider([helloWorld], { defaultModel: MODEL }))
      .withTraceSink(sink)
      .withStore(store)
      .build();
    // A store that fails every commit from now on (a fault a test cannot cause otherwise).
    store.commit = () => Promise.reject(new Error("disk full"));
    await expect(runtime.streamTurn(textInput("hi"))).rejects.toMatchObject({ code: "store_commit_failed" });
    const commits = sink.ofType("commit");
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((record) => !record.ok && record.error?.message === "disk full")).toBe(true);
    const [completed] = sink.ofType("turn_completed");
    expect(completed?.outcome).toBeUndefined();
    expect(completed?.error?.code).toBe("store_commit_failed");
  });
});
