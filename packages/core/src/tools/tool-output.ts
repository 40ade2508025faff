import type { JsonValue, ToolCallOutput, ToolFailure } from "@lash/protocol";
import { stableStringify, toolResult } from "@lash/protocol";

const MAX_JSON_DEPTH = 256;

/** True when `value` is a plain JSON value (finite numbers, plain objects, no cycles). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > MAX_JSON_DEPTH) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value === "object") {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return false;
    for (const key in value) {
      const entry = (value as Record<string, unknown>)[key];
      if (entry !== undefined && !isJsonValue(entry, depth + 1)) return false;
    }
    return true;
  }
  return false;
}

/** A failure produced by the runtime itself (validation, dispatch). */
export function runtimeFailure(failureClass: ToolFailure["class"], code: string, message: string): ToolCallOutput {
  return { outcome: { status: "failure", payload: { class: failureClass, code, message, source: "runtime", retry: { type: "never" } } } };
}

/** Turns what a tool's `execute` returned into an output; non-JSON values are a failure. */
export function outputFromReturn(value: unknown): ToolCallOutput {
  if (toolResult.isEnvelope(value)) return value.output;
  if (value === undefined) return { outcome: { status: "success", payload: null } };
  if (!isJsonValue(value)) {
    return runtimeFailure(
      "internal",
      "invalid_tool_output",
      "tool returned a value that is not plain JSON (functions, class instances, NaN, cycles and BigInt are not allowed)",
    );
  }
  return { outcome: { status: "success", payload: value } };
}

/** What the model sees of a tool output. */
export function renderToolOutputForModel(output: ToolCallOutput): string {
  const { outcome } = output;
  switch (outcome.status) {
    case "success":
      return typeof outcome.payload === "string" ? outcome.payload : stableStringify(outcome.payload);
    case "failure":
      return outcome.payload.message === "" ? "[Tool execution failed]" : `[Tool execution failed]\n${outcome.payload.message}`;
    case "cancelled":
      return `[Tool execution cancelled]\n${outcome.payload.message}`;
  }
}

/** The output of a call cancelled by the turn. */
export function cancelledOutput(message = "tool call cancelled"): ToolCallOutput {
  return { outcome: { status: "cancelled", payload: { message, source: "runtime" } } };
}
