import type { ToolDefinition } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { echoTool } from "../../test/fixtures.js";
import { batchResults, counting, payloadOf, pending, runDirect, runOneCall, toolResultText } from "../../test/tool-dispatch-fixtures.js";
import { createToolProvider, ToolSurface } from "./tool-surface.js";

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
