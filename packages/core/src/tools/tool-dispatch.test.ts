import type { JsonValue, LlmRequest, SessionAccess, ToolCallOutput, ToolDefinition, ToolRetryPolicy } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { type ScriptedStep, textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createRuntime, echoTool, RecordingActivities, RecordingSink, toolCallPart } from "../../test/fixtures.js";
import { createBatchTool } from "../modes/batch-tool.js";
import type { PendingToolCall } from "../modes/execution-mode.js";
import type { LashPlugin } from "../plugins/plugin.js";
import { PluginHost } from "../plugins/plugin-host.js";
import { TurnEventPipe } from "../turn/event-pipe.js";
import { TurnAssembler } from "../turn/turn-assembler.js";
import { textInput } from "../turn/turn-input-builders.js";
import { defineTool } from "./define-tool.js";
import { runToolBatch } from "./tool-batch.js";
import { createToolProvider, ToolSurface } from "./tool-surface.js";

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A model step that calls one tool. */
function callStep(callId: string, toolName: string, args: JsonValue | string): ScriptedStep {
  return { response: { parts: [toolCallPart(callId, toolName, args)], terminalReason: "tool_use" } };
}

/** Runs one turn: the model calls `toolName` with `args`, then answers "done". */
async function runOneCall(options: {
  toolName: string;
  args: JsonValue | string;
  tools: readonly ToolDefinition<unknown>[];
  plugins?: readonly LashPlugin[];
}) {
  const { runtime, provider } = await createRuntime({
    steps: [callStep("call-1", options.toolName, options.args), textStep("done")],
    tools: options.tools,
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
  const events = new RecordingSink();
  const activities = new RecordingActivities();
  const turn = await runtime.streamTurn(textInput("go"), { events, activities });
  return { turn, runtime, provider, events, activities };
}

/** The tool-result text the model saw on its second call for `callId`. */
function toolResultText(request: LlmRequest | undefined, callId: string): string | undefined {
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result" && block.callId === callId) return block.content;
  }
  return undefined;
}

function payloadOf(output: ToolCallOutput | undefined): JsonValue | undefined {
  return output?.outcome.status === "success" ? output.outcome.payload : undefined;
}

interface BatchResult {
  readonly index: number;
  readonly tool: string;
  readonly success: boolean;
  readonly duration_ms: number;
  readonly result?: JsonValue;
  readonly error?: string;
}

function batchResults(output: ToolCallOutput | undefined): BatchResult[] {
  const payload = payloadOf(output) as { results?: BatchResult[] } | undefined;
  if (!payload?.results) throw new Error(`expected batch results, got ${JSON.stringify(output)}`);
  return payload.results;
}

function counting<T>(definition: ToolDefinition<T>): ToolDefinition<T> & { calls: T[] } {
  const calls: T[] = [];
  return {
    ...definition,
    calls,
    execute: (input: T, context) => {
      calls.push(input);
      return definition.execute(input, context);
    },
  };
}

/** A tool that fails `failures` times with the given error, then returns "recovered". */
function flakyTool(options: {
  failures: number;
  error: () => Error;
  retryPolicy?: ToolRetryPolicy;
  name?: string;
}): ToolDefinition<JsonValue> & { attempts: number } {
  const tool = {
    name: options.name ?? "flaky",
    description: "Fails a few times.",
    inputSchema: { type: "object" },
    attempts: 0,
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    execute: () => {
      tool.attempts += 1;
      if (tool.attempts <= options.failures) throw options.error();
      return "recovered";
    },
  };
  return tool;
}

const safeError = (afterMs?: number) => () =>
  new ToolError({
    class: "rate_limited",
    code: "try_again",
    message: "busy, try again",
    retry: afterMs === undefined ? { type: "safe" } : { type: "safe", afterMs },
  });

const noSessions: SessionAccess = {
  currentSessionId: "s",
  createSession: async () => "child",
  runTurn: async () => {
    throw new Error("not available in this test");
  },
  closeSession: async () => {},
};

/** Runs a batch directly, with a sleep that records its delays instead of waiting. */
async function runDirect(
  calls: readonly PendingToolCall[],
  tools: readonly ToolDefinition<unknown>[],
  plugins: readonly LashPlugin[] = [],
) {
  const sleeps: number[] = [];
  const events = new RecordingSink();
  const activities = new RecordingActivities();
  const surface = await ToolSurface.build({ nativeTools: [createBatchTool()], providers: [createToolProvider(tools)] });
  const pipe = new TurnEventPipe(new TurnAssembler({ captureTextDeltas: false }), events, activities);
  const { completed: results } = await runToolBatch(calls, {
    surface,
    plugins: new PluginHost(plugins),
    sessionId: "s",
    turnIndex: 1,
    sessions: noSessions,
    signal: new AbortController().signal,
    emit: (event) => pipe.session(event),
    enqueueMessages: () => {},
    sleep: async (milliseconds) => {
      sleeps.push(milliseconds);
    },
    now: () => 0,
    pipe,
    turnId: "t",
    approve: undefined,
    expiresInMs: undefined,
  });
  return { results, sleeps, events, activities };
}

function pending(callId: string, toolName: string, args: JsonValue): PendingToolCall {
  return { callId, toolName, inputJson: JSON.stringify(args) };
}

// ---------------------------------------------------------------------------------------------

describe("the batch tool", () => {
  it("runs the calls and returns their results sorted by index, whatever order they finish in", async () => {
    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const finished: string[] = [];
    const gate: ToolDefinition<{ name: string }> = {
      name: "gate",
      description: "Finishes in a controlled order.",
      inputSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
      execute: async ({ name }) => {
        if (name === "slow") await slowGate;
        else releaseSlow();
        finished.push(name);
        return `finished ${name}`;
      },
    };
    const { turn, provider } = await runOneCall({
      toolName: "batch",
      args: {
        tool_calls: [
          { tool: "gate", parameters: { name: "slow" } },
          { tool: "gate", parameters: { name: "fast" } },
          { tool: "echo_tool", parameters: { value: "v" } },
        ],
      },
      tools: [gate as ToolDefinition<unknown>, echoTool as ToolDefinition<unknown>],
    });
    expect(finished).toEqual(["fast", "slow"]);
    const results = batchResults(turn.toolCalls[0]?.output);
    expect(results.map((result) => [result.index, result.tool, result.success, result.result])).toEqual([
      [0, "gate", true, "finished slow"],
      [1, "gate", true, "finished fast"],
      [2, "echo_tool", true, { payload: "raw:v" }],
    ]);
    // The model sees the results as JSON with sorted keys.
    const seen = toolResultText(provider.requests[1], "call-1");
    expect(seen).toBeDefined();
    expect(JSON.parse(seen ?? "null")).toEqual(payloadOf(turn.toolCalls[0]?.output));
    expect(seen).toMatch(/^\{"results":\[\{"duration_ms":\d+,"index":0,"result":"finished slow","success":true,"tool":"gate"\}/);
  });

  it("refuses a nested batch call: Tool 'batch' is not allowed inside batch", async () => {
    const { turn } = await runOneCall({
      toolName: "batch",
      args: {
        tool_calls: [
          { tool: "echo_tool", parameters: { value: "a" } },
          { tool: "batch", parameters: { tool_calls: [{ tool: "echo_tool", parameters: { value: "b" } }] } },
        ],
      },
      tools: [echoTool as ToolDefinition<unknown>],
    });
    const results = batchResults(turn.toolCalls[0]?.output);
    expect(results[0]).toMatchObject({ index: 0, tool: "echo_tool", success: true, result: { payload: "raw:a" } });
    expect(results[1]).toEqual({
      index: 1,
      tool: "batch",
      success: false,
      duration_ms: 0,
      error: "Tool 'batch' is not allowed inside batch",
    });
  });

  it("refuses the calls past the 25th: Maximum of 25 tool calls allowed in batch", async () => {
    const echo = counting(echoTool);
    const { turn } = await runOneCall({
      toolName: "batch",
      args: { tool_calls: Array.from({ length: 27 }, (_, index) => ({ tool: "echo_tool", parameters: { value: `v${index}` } })) },
      tools: [echo as ToolDefinition<unknown>],
    });
    const results = batchResults(turn.toolCalls[0]?.output);
    expect(results).toHaveLength(27);
    expect(results.slice(0, 25).every((result) => result.success)).toBe(true);
    expect(results[24]).toMatchObject({ index: 24, result: { payload: "raw:v24" } });
    expect(results[25]).toEqual({
      index: 25,
      tool: "echo_tool",
      success: false,
      duration_ms: 0,
      error: "Maximum of 25 tool calls allowed in batch",
    });
    expect(results[26]).toMatchObject({ index: 26, success: false, error: "Maximum of 25 tool calls allowed in batch" });
    expect(echo.calls).toHaveLength(25);
  });

  it("fails without tool_calls: Missing required parameter: tool_calls", async () => {
    const { turn, provider } = await runOneCall({ toolName: "batch", args: {}, tools: [echoTool as ToolDefinition<unknown>] });
    const output = turn.toolCalls[0]?.output;
    expect(output?.outcome.status).toBe("failure");
    expect(output?.outcome.status === "failure" ? output.outcome.payload.message : "").toBe("Missing required parameter: tool_calls");
    expect(toolResultText(provider.requests[1], "call-1")).toBe("[Tool execution failed]\nMissing required parameter: tool_calls");
    // A tool failure never ends the turn.
    expect(turn.assistantOutput.safeText).toBe("done");
  });

  it("fails with an empty list: Invalid tool_calls: expected at least one call", async () => {
    const { turn } = await runOneCall({ toolName: "batch", args: { tool_calls: [] }, tools: [echoTool as ToolDefinition<unknown>] });
    const output = turn.toolCalls[0]?.output;
    expect(output?.outcome.status === "failure" ? output.outcome.payload.message : "").toBe(
      "Invalid tool_calls: expected at least one call",
    );
  });

  it("nested calls emit no tool events of their own and are not recorded as calls", async () => {
    const { turn, runtime, events, activities } = await runOneCall({
      toolName: "batch",
      args: {
        tool_calls: [
          { tool: "echo_tool", parameters: { value: "a" } },
          { tool: "echo_tool", parameters: { value: "b" } },
        ],
      },
      tools: [echoTool as ToolDefinition<unknown>],
    });
    expect(activities.ofType("tool_call_started").map((activity) => [activity.callId, activity.name])).toEqual([["call-1", "batch"]]);
    expect(activities.ofType("tool_call_completed").map((activity) => activity.name)).toEqual(["batch"]);
    expect(events.ofType("tool_call_started").map((event) => event.name)).toEqual(["batch"]);
    expect(events.ofType("tool_call_completed").map((event) => event.name)).toEqual(["batch"]);
    expect(turn.toolCalls.map((record) => record.tool)).toEqual(["batch"]);
    expect(runtime.activeToolCalls().map((record) => record.tool)).toEqual(["batch"]);
  });

  it("nested calls are validated like top-level calls, and an unknown tool is unavailable", async () => {
    const echo = counting(echoTool);
    const { turn } = await runOneCall({
      toolName: "batch",
      args: { tool_calls: [{ tool: "echo_tool", parameters: {} }, { tool: "no_such_tool" }] },
      tools: [echo as ToolDefinition<unknown>],
    });
    const results = batchResults(turn.toolCalls[0]?.output);
    expect(results[0]).toMatchObject({ index: 0, success: false, duration_ms: 0 });
    expect(results[0]?.error).toContain("value");
    expect(results[1]).toMatchObject({ index: 1, tool: "no_such_tool", success: false, error: "Tool is unavailable in this session" });
    expect(echo.calls).toEqual([]);
  });

  it("offers the model a schema for tool_calls", async () => {
    const { provider } = await runOneCall({
      toolName: "batch",
      args: { tool_calls: [{ tool: "echo_tool", parameters: { value: "a" } }] },
      tools: [echoTool as ToolDefinition<unknown>],
    });
    const spec = provider.requests[0]?.tools.find((tool) => tool.name === "batch");
    expect(spec?.inputSchema).toMatchObject({ type: "object", required: ["tool_calls"], properties: { tool_calls: { type: "array" } } });
  });
});

describe("tool retry policies", () => {
  it("safe: retries failures whose hint is safe, until the tool succeeds", async () => {
    const tool = flakyTool({
      failures: 2,
      error: safeError(),
      retryPolicy: { type: "safe", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { turn, provider } = await runOneCall({ toolName: "flaky", args: {}, tools: [tool] });
    expect(tool.attempts).toBe(3);
    expect(turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: "recovered" } });
    expect(toolResultText(provider.requests[1], "call-1")).toBe("recovered");
  });

  it("safe: marks the failure exhausted when every attempt failed", async () => {
    const tool = flakyTool({
      failures: 10,
      error: safeError(),
      retryPolicy: { type: "safe", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { turn } = await runOneCall({ toolName: "flaky", args: {}, tools: [tool] });
    expect(tool.attempts).toBe(3);
    expect(turn.toolCalls[0]?.output).toEqual({
      outcome: {
        status: "failure",
        payload: {
          class: "rate_limited",
          code: "try_again",
          message: "busy, try again",
          source: "tool",
          retry: { type: "exhausted", attempts: 3 },
        },
      },
    });
  });

  it("safe: does not retry a failure whose hint is never", async () => {
    const tool = flakyTool({
      failures: 1,
      error: () => new ToolError({ code: "bad_input", message: "no" }),
      retryPolicy: { type: "safe", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { turn } = await runOneCall({ toolName: "flaky", args: {}, tools: [tool] });
    expect(tool.attempts).toBe(1);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "bad_input", retry: { type: "never" } },
    });
  });

  it("safe: does not retry a plain exception (an internal failure)", async () => {
    const tool = flakyTool({
      failures: 1,
      error: () => new Error("kaboom"),
      retryPolicy: { type: "safe", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { turn } = await runOneCall({ toolName: "flaky", args: {}, tools: [tool] });
    expect(tool.attempts).toBe(1);
    expect(turn.toolCalls[0]?.output.outcome).toEqual({
      status: "failure",
      payload: { class: "internal", code: "tool_execution_failed", message: "kaboom", source: "tool", retry: { type: "never" } },
    });
  });

  it("never (and no policy): runs once even when the failure says safe", async () => {
    for (const retryPolicy of [{ type: "never" } as const, undefined]) {
      const tool = flakyTool({ failures: 1, error: safeError(), ...(retryPolicy ? { retryPolicy } : {}) });
      const { turn } = await runOneCall({ toolName: "flaky", args: {}, tools: [tool] });
      expect(tool.attempts).toBe(1);
      expect(turn.toolCalls[0]?.output.outcome.status).toBe("failure");
    }
  });

  it("idempotent: retries a call that has a call id", async () => {
    const tool = flakyTool({
      failures: 1,
      error: safeError(),
      retryPolicy: { type: "idempotent", maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { results } = await runDirect([pending("call-1", "flaky", {})], [tool]);
    expect(tool.attempts).toBe(2);
    expect(results[0]?.record.output.outcome).toEqual({ status: "success", payload: "recovered" });
  });

  it("idempotent: runs a call without a call id once", async () => {
    const tool = flakyTool({
      failures: 1,
      error: safeError(),
      retryPolicy: { type: "idempotent", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { results } = await runDirect([pending("", "flaky", {})], [tool]);
    expect(tool.attempts).toBe(1);
    expect(results[0]?.record.callId).toBeUndefined();
    expect(results[0]?.record.output.outcome.status).toBe("failure");
  });

  it("idempotent: a call nested in a batch has no call id and runs once", async () => {
    const tool = flakyTool({
      failures: 1,
      error: safeError(),
      retryPolicy: { type: "idempotent", maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { results } = await runDirect([pending("b1", "batch", { tool_calls: [{ tool: "flaky" }] })], [tool]);
    expect(tool.attempts).toBe(1);
    expect(batchResults(results[0]?.record.output)[0]).toMatchObject({ success: false, error: "busy, try again" });
  });

  it("waits base * 2^attempt between attempts, capped by maxDelayMs", async () => {
    const tool = flakyTool({
      failures: 10,
      error: safeError(),
      retryPolicy: { type: "safe", maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
    });
    const { sleeps } = await runDirect([pending("c1", "flaky", {})], [tool]);
    expect(sleeps).toEqual([100, 200, 250]);
    expect(tool.attempts).toBe(4);
  });

  it("does not cap the delay when maxDelayMs is 0", async () => {
    const tool = flakyTool({
      failures: 10,
      error: safeError(),
      retryPolicy: { type: "safe", maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 0 },
    });
    const { sleeps } = await runDirect([pending("c1", "flaky", {})], [tool]);
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it("waits the failure's afterMs when it gives one", async () => {
    const tool = flakyTool({
      failures: 2,
      error: safeError(5),
      retryPolicy: { type: "safe", maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 0 },
    });
    const { sleeps, results } = await runDirect([pending("c1", "flaky", {})], [tool]);
    expect(sleeps).toEqual([5, 5]);
    expect(results[0]?.record.output.outcome.status).toBe("success");
  });

  it("maxAttempts 1 returns the failure as it is", async () => {
    const tool = flakyTool({
      failures: 10,
      error: safeError(),
      retryPolicy: { type: "safe", maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { results, sleeps } = await runDirect([pending("c1", "flaky", {})], [tool]);
    expect(tool.attempts).toBe(1);
    expect(sleeps).toEqual([]);
    expect(results[0]?.record.output.outcome).toMatchObject({ status: "failure", payload: { retry: { type: "safe" } } });
  });
});

describe("zod input schemas", () => {
  const add = defineTool({
    name: "add",
    description: "Add two numbers.",
    inputSchema: z.object({ a: z.number(), b: z.number().default(2) }),
    execute: ({ a, b }) => a + b,
  });

  it("are converted for the model: properties, and no $schema", async () => {
    const { provider } = await runOneCall({ toolName: "add", args: { a: 1 }, tools: [add as ToolDefinition<unknown>] });
    const spec = provider.requests[0]?.tools.find((tool) => tool.name === "add");
    expect(spec?.description).toBe("Add two numbers.");
    expect(spec?.inputSchema).toMatchObject({ type: "object", properties: { a: { type: "number" }, b: { type: "number" } } });
    // A field with a default is optional for the model.
    expect(spec?.inputSchema.required).toEqual(["a"]);
    expect(spec?.inputSchema).not.toHaveProperty("$schema");
  });

  it("validate and convert the arguments (defaults applied) before the tool runs", async () => {
    const { turn, provider } = await runOneCall({ toolName: "add", args: { a: 1 }, tools: [add as ToolDefinition<unknown>] });
    expect(turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: 3 } });
    // The record keeps the arguments as the model sent them.
    expect(turn.toolCalls[0]?.args).toEqual({ a: 1 });
    expect(toolResultText(provider.requests[1], "call-1")).toBe("3");
  });

  it("reject invalid arguments with invalid_tool_args naming the path, without running the tool", async () => {
    const spy = counting(add as ToolDefinition<unknown>);
    const { turn } = await runOneCall({ toolName: "add", args: { a: "one" }, tools: [spy] });
    expect(spy.calls).toEqual([]);
    const outcome = turn.toolCalls[0]?.output.outcome;
    expect(outcome).toMatchObject({
      status: "failure",
      payload: { class: "invalid_request", code: "invalid_tool_args", source: "runtime" },
    });
    expect(outcome?.status === "failure" ? outcome.payload.message : "").toMatch(/^\$\.a: /);
    expect(turn.toolCalls[0]?.durationMs).toBe(0);
  });

  it("a JSON Schema tool gets the arguments as they are, and a bad argument names its path", async () => {
    const { turn } = await runOneCall({ toolName: "echo_tool", args: { value: 5 }, tools: [echoTool as ToolDefinition<unknown>] });
    const outcome = turn.toolCalls[0]?.output.outcome;
    expect(outcome?.status === "failure" ? outcome.payload.message : "").toBe(
      '$.value: Instance type "number" is invalid. Expected "string".',
    );
  });
});

describe("plugin tool hooks", () => {
  it("beforeToolCall replace_tool_args swaps the arguments the tool runs with and records them", async () => {
    const echo = counting(echoTool);
    const plugin: LashPlugin = {
      id: "rewriter",
      beforeToolCall: (request) =>
        request.toolName === "echo_tool" ? [{ type: "replace_tool_args", args: { value: "replaced" } }] : undefined,
    };
    const { turn } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "original" },
      tools: [echo as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(echo.calls).toEqual([{ value: "replaced" }]);
    expect(turn.toolCalls[0]).toMatchObject({
      args: { value: "replaced" },
      output: { outcome: { status: "success", payload: { payload: "raw:replaced" } } },
    });
  });

  it("replaced arguments are still validated", async () => {
    const echo = counting(echoTool);
    const plugin: LashPlugin = { id: "rewriter", beforeToolCall: () => [{ type: "replace_tool_args", args: { wrong: true } }] };
    const { turn } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "original" },
      tools: [echo as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(echo.calls).toEqual([]);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { code: "invalid_tool_args" } });
  });

  it("beforeToolCall short_circuit_tool skips the tool and makes its output the result", async () => {
    const echo = counting(echoTool);
    const cached: ToolCallOutput = { outcome: { status: "success", payload: "from cache" } };
    const plugin: LashPlugin = { id: "cache", beforeToolCall: () => [{ type: "short_circuit_tool", output: cached }] };
    const { turn, provider } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echo as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(echo.calls).toEqual([]);
    expect(turn.toolCalls[0]?.output).toEqual(cached);
    expect(toolResultText(provider.requests[1], "call-1")).toBe("from cache");
  });

  it("afterToolCall short_circuit_tool replaces the result of a tool that ran", async () => {
    const echo = counting(echoTool);
    const seen: ToolCallOutput[] = [];
    const replacement: ToolCallOutput = { outcome: { status: "success", payload: { redacted: true } } };
    const plugin: LashPlugin = {
      id: "redactor",
      afterToolCall: (request) => {
        seen.push(request.output);
        return [{ type: "short_circuit_tool", output: replacement }];
      },
    };
    const { turn, provider } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "secret" },
      tools: [echo as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(echo.calls).toEqual([{ value: "secret" }]);
    expect(seen).toEqual([{ outcome: { status: "success", payload: { payload: "raw:secret" } } }]);
    expect(turn.toolCalls[0]?.output).toEqual(replacement);
    expect(toolResultText(provider.requests[1], "call-1")).toBe('{"redacted":true}');
  });

  it("a beforeToolCall abort_turn fails the call only; the turn goes on", async () => {
    const echo = counting(echoTool);
    const plugin: LashPlugin = { id: "guard", beforeToolCall: () => [{ type: "abort_turn", code: "denied", message: "not allowed" }] };
    const { turn } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echo as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(echo.calls).toEqual([]);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "denied", message: "not allowed", source: "plugin" },
    });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "done" } });
  });

  it("beforeToolCall enqueue_messages or handoff_session is a contract error for that call only", async () => {
    for (const directive of [
      { type: "enqueue_messages", messages: [{ role: "system", content: "x" }] },
      { type: "handoff_session", sessionId: "elsewhere" },
    ] as const) {
      const echo = counting(echoTool);
      const plugin: LashPlugin = { id: "misplaced", beforeToolCall: () => [directive] };
      const { turn } = await runOneCall({
        toolName: "echo_tool",
        args: { value: "x" },
        tools: [echo as ToolDefinition<unknown>],
        plugins: [plugin],
      });
      expect(echo.calls).toEqual([]);
      expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { source: "plugin" } });
      expect(turn.outcome.type).toBe("finished");
    }
  });

  it("afterToolCall replace_tool_args is an error result", async () => {
    const plugin: LashPlugin = { id: "late", afterToolCall: () => [{ type: "replace_tool_args", args: { value: "y" } }] };
    const { turn } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echoTool as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { source: "plugin" } });
  });

  it("a hook that throws fails the call (before_tool_call_failed / after_tool_call_failed), not the turn", async () => {
    const before: LashPlugin = {
      id: "broken-before",
      beforeToolCall: () => {
        throw new Error("hook bug");
      },
    };
    const beforeRun = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echoTool as ToolDefinition<unknown>],
      plugins: [before],
    });
    expect(beforeRun.turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "before_tool_call_failed", message: "hook bug" },
    });
    expect(beforeRun.turn.outcome.type).toBe("finished");

    const after: LashPlugin = {
      id: "broken-after",
      afterToolCall: () => {
        throw new Error("late bug");
      },
    };
    const afterRun = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echoTool as ToolDefinition<unknown>],
      plugins: [after],
    });
    expect(afterRun.turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "after_tool_call_failed", message: "late bug" },
    });
  });

  it("afterToolCall enqueue_messages are committed at the next checkpoint and seen by the next model call", async () => {
    const plugin: LashPlugin = {
      id: "notes",
      afterToolCall: () => [{ type: "enqueue_messages", messages: [{ role: "system", content: "note from hook" }] }],
    };
    const { runtime, provider } = await runOneCall({
      toolName: "echo_tool",
      args: { value: "x" },
      tools: [echoTool as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    const texts = (provider.requests[1]?.messages ?? []).flatMap((entry) =>
      entry.blocks.map((block) => (block.type === "text" ? block.text : "")),
    );
    expect(texts).toContain("Runtime note:\nnote from hook");
    expect(
      runtime
        .activeMessages()
        .some((entry) => entry.role === "system" && entry.parts.some((part) => "content" in part && part.content === "note from hook")),
    ).toBe(true);
  });

  it("hooks also run for calls nested in a batch", async () => {
    const plugin: LashPlugin = {
      id: "rewriter",
      beforeToolCall: (request) =>
        request.toolName === "echo_tool" ? [{ type: "replace_tool_args", args: { value: "nested" } }] : undefined,
    };
    const { turn } = await runOneCall({
      toolName: "batch",
      args: { tool_calls: [{ tool: "echo_tool", parameters: { value: "original" } }] },
      tools: [echoTool as ToolDefinition<unknown>],
      plugins: [plugin],
    });
    expect(batchResults(turn.toolCalls[0]?.output)[0]).toMatchObject({ success: true, result: { payload: "raw:nested" } });
  });
});

describe("tool dispatch basics", () => {
  it("an unknown tool is unavailable and nothing runs", async () => {
    const { turn, provider } = await runOneCall({ toolName: "missing_tool", args: {}, tools: [echoTool as ToolDefinition<unknown>] });
    expect(turn.toolCalls[0]?.output.outcome).toEqual({
      status: "failure",
      payload: {
        class: "unavailable",
        code: "tool_unavailable",
        message: "Tool is unavailable in this session",
        source: "runtime",
        retry: { type: "never" },
      },
    });
    expect(toolResultText(provider.requests[1], "call-1")).toBe("[Tool execution failed]\nTool is unavailable in this session");
  });

  it("invalid JSON arguments fail the call without running the tool", async () => {
    const echo = counting(echoTool);
    const { turn } = await runOneCall({ toolName: "echo_tool", args: "{not json", tools: [echo as ToolDefinition<unknown>] });
    expect(echo.calls).toEqual([]);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { code: "invalid_tool_args" } });
  });

  it("results come back in call order; serial tools run after the parallel ones, one at a time", async () => {
    const order: string[] = [];
    const tool = (name: string, executionMode: "parallel" | "serial"): ToolDefinition<unknown> => ({
      name,
      description: name,
      inputSchema: { type: "object" },
      executionMode,
      execute: async () => {
        order.push(`start ${name}`);
        await Promise.resolve();
        order.push(`end ${name}`);
        return name;
      },
    });
    const { results } = await runDirect(
      [pending("1", "serial_a", {}), pending("2", "parallel_b", {}), pending("3", "serial_c", {}), pending("4", "parallel_d", {})],
      [tool("serial_a", "serial"), tool("parallel_b", "parallel"), tool("serial_c", "serial"), tool("parallel_d", "parallel")],
    );
    expect(results.map((result) => result.record.callId)).toEqual(["1", "2", "3", "4"]);
    expect(order.slice(0, 2).sort()).toEqual(["start parallel_b", "start parallel_d"]);
    expect(order.slice(4)).toEqual(["start serial_a", "end serial_a", "start serial_c", "end serial_c"]);
  });
});

describe("tool registration checks the input schema", () => {
  const tool = (inputSchema: unknown): ToolDefinition<unknown> => ({
    name: "broken_tool",
    description: "A tool with a schema to check.",
    inputSchema: inputSchema as ToolDefinition<unknown>["inputSchema"],
    execute: async () => "never",
  });

  it.each([
    { name: "a schema that is not an object", schema: "object", message: /broken_tool.*must be a JSON Schema object/ },
    { name: "a schema that does not describe an object", schema: { type: "string" }, message: /broken_tool.*#\/type/ },
    {
      name: "a pattern that does not compile",
      schema: { type: "object", properties: { id: { type: "string", pattern: "([" } } },
      message: /broken_tool.*#\/properties\/id\/pattern/,
    },
    {
      name: "a $ref that does not resolve",
      schema: { type: "object", properties: { id: { $ref: "#/$defs/missing" } } },
      message: /broken_tool.*\$ref/,
    },
  ])("rejects $name when the surface is built, naming the tool and the location", async ({ schema, message }) => {
    const build = ToolSurface.build({ nativeTools: [], providers: [createToolProvider([tool(schema)])] });
    await expect(build).rejects.toMatchObject({ code: "invalid_configuration" });
    await expect(ToolSurface.build({ nativeTools: [], providers: [createToolProvider([tool(schema)])] })).rejects.toThrow(message);
  });

  it("accepts a usable schema and a zod schema", async () => {
    const surface = await ToolSurface.build({
      nativeTools: [],
      providers: [
        createToolProvider([
          tool({ type: "object", properties: { id: { type: "string", pattern: "^[a-z]+$" } }, required: ["id"] }),
          { ...tool(z.object({ n: z.number() })), name: "zod_tool" },
        ]),
      ],
    });
    expect(surface.names).toEqual(["broken_tool", "zod_tool"]);
  });
});
