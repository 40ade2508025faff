import type { JsonObject, JsonValue, ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { type NestedToolCall, nestedDispatcherOf } from "../tools/nested-dispatch.js";

const MAX_BATCH_CALLS = 25;
export const BATCH_TOOL_NAME = "batch";

function deepFreeze<Value>(value: Value): Value {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const entry of Object.values(value)) deepFreeze(entry);
  }
  return value;
}

// Frozen: the schema is shared by every batch tool, and so by every runtime of the process.
const MODEL_SCHEMA: JsonObject = deepFreeze({
  type: "object",
  properties: {
    tool_calls: {
      type: "array",
      minItems: 1,
      description: `Up to ${MAX_BATCH_CALLS} independent tool calls, run together.`,
      items: {
        type: "object",
        properties: {
          tool: { type: "string", description: "The tool's name." },
          parameters: { type: "object", description: "The tool's arguments." },
        },
        required: ["tool"],
      },
    },
  },
  required: ["tool_calls"],
});

function invalid(message: string): ToolError {
  return new ToolError({ class: "invalid_request", code: "invalid_batch", message });
}

function readCalls(input: JsonValue): { index: number; tool: string; call?: NestedToolCall; error?: string }[] {
  if (input === null || typeof input !== "object" || Array.isArray(input) || !("tool_calls" in input)) {
    throw invalid("Missing required parameter: tool_calls");
  }
  const calls = input.tool_calls;
  if (!Array.isArray(calls)) throw invalid("Invalid tool_calls: expected an array of calls");
  if (calls.length === 0) throw invalid("Invalid tool_calls: expected at least one call");
  return calls.map((item, index) => {
    if (item === null || typeof item !== "object" || Array.isArray(item) || typeof item.tool !== "string") {
      return { index, tool: "", error: "Invalid call: expected {tool: string, parameters: object}" };
    }
    const tool = item.tool;
    if (index >= MAX_BATCH_CALLS) return { index, tool, error: `Maximum of ${MAX_BATCH_CALLS} tool calls allowed in batch` };
    if (tool === BATCH_TOOL_NAME) return { index, tool, error: "Tool 'batch' is not allowed inside batch" };
    const parameters = item.parameters ?? {};
    return { index, tool, call: { toolName: tool, args: parameters } };
  });
}

/**
 * The standard mode's `batch` tool: runs up to 25 independent calls through the same scheduler as
 * top-level calls and returns `{results: [{index, tool, success, duration_ms, result | error}]}`.
 */
export function createBatchTool(): ToolDefinition<JsonValue> {
  return {
    name: BATCH_TOOL_NAME,
    description: `Run up to ${MAX_BATCH_CALLS} independent tool calls at once. Use it when two or more calls do not depend on each other's results.`,
    // Validation happens in `execute` so the model gets the batch's own, specific messages.
    inputSchema: { type: "object" },
    modelInputSchema: MODEL_SCHEMA,
    async execute(input, context) {
      const dispatcher = nestedDispatcherOf(context);
      if (!dispatcher)
        throw new ToolError({ class: "unavailable", code: "batch_unavailable", message: "batch can only run inside the standard mode" });
      const items = readCalls(input);
      const runnable = items.filter((item) => item.call !== undefined);
      const outputs = await dispatcher(
        runnable.map((item) => item.call as NestedToolCall),
        context.signal,
      );
      const byIndex = new Map(runnable.map((item, position) => [item.index, outputs[position]]));
      const results: JsonValue[] = items.map((item): JsonValue => {
        const result = byIndex.get(item.index);
        if (!result) return { index: item.index, tool: item.tool, success: false, duration_ms: 0, error: item.error ?? "not run" };
        const { outcome } = result.output;
        if (outcome.status === "success") {
          return { index: item.index, tool: item.tool, success: true, duration_ms: result.durationMs, result: outcome.payload };
        }
        return { index: item.index, tool: item.tool, success: false, duration_ms: result.durationMs, error: outcome.payload.message };
      });
      return { results };
    },
  };
}
