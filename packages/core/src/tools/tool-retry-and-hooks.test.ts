import type { ToolCallOutput, ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { echoTool } from "../../test/fixtures.js";
import {
  batchResults,
  counting,
  flakyTool,
  pending,
  runDirect,
  runOneCall,
  safeError,
  toolResultText,
} from "../../test/tool-dispatch-fixtures.js";
import type { LashPlugin } from "../plugins/plugin.js";
import { defineTool } from "./define-tool.js";

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
