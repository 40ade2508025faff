import type { LlmOutputPart, LlmStreamEvent, LlmUsage } from "@lash/protocol";

function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

const USAGE_FIELDS = ["inputTokens", "outputTokens", "cachedInputTokens", "reasoningTokens"] as const;

/**
 * Why a provider's usage cannot be counted, or undefined: token counts are non-negative safe
 * integers. A negative count would lower every later total; one past 2^53 loses precision in sums.
 */
export function usageViolation(usage: Partial<Record<(typeof USAGE_FIELDS)[number], unknown>>): string | undefined {
  for (const field of USAGE_FIELDS) {
    const value = usage[field];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      return `the provider reported usage.${field} = ${String(value)}; token counts must be non-negative safe integers`;
    }
  }
  return undefined;
}

function usageProblem(usage: unknown): string | undefined {
  if (typeof usage !== "object" || usage === null) return "usage is not an object";
  const record = usage as Record<string, unknown>;
  for (const key of USAGE_FIELDS) {
    if (record[key] !== undefined && !isInteger(record[key])) return `usage.${key} is not an integer`;
  }
  return undefined;
}

function partProblem(part: unknown): string | undefined {
  if (typeof part !== "object" || part === null) return "part is not an object";
  const record = part as Record<string, unknown>;
  switch (record.type) {
    case "text":
    case "reasoning":
      return typeof record.text === "string" ? undefined : `part.text of a ${record.type} part is not a string`;
    case "tool_call":
      if (typeof record.callId !== "string") return "part.callId of a tool_call part is not a string";
      if (typeof record.toolName !== "string") return "part.toolName of a tool_call part is not a string";
      if (typeof record.inputJson !== "string") return "part.inputJson of a tool_call part is not a string";
      return undefined;
    default:
      return `unknown part type ${JSON.stringify(record.type)}`;
  }
}

/**
 * Checks a streamed event's shape (providers are untrusted). Returns a description of the first
 * problem, or `undefined` when the event is usable. Cheap: it runs for every streamed chunk.
 */
export function streamEventProblem(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return "event is not an object";
  const record = event as Record<string, unknown>;
  switch (record.type) {
    case "delta":
    case "reasoning_delta":
      return typeof record.text === "string" ? undefined : `text of a ${record.type} event is not a string`;
    case "part":
      return partProblem(record.part);
    case "usage":
      return usageProblem(record.usage);
    case "retry_status":
      for (const key of ["waitSeconds", "attempt", "maxAttempts"] as const) {
        if (!isInteger(record[key])) return `${key} of a retry_status event is not an integer`;
      }
      return typeof record.reason === "string" ? undefined : "reason of a retry_status event is not a string";
    default:
      return `unknown event type ${JSON.stringify(record.type)}`;
  }
}

export type { LlmOutputPart, LlmStreamEvent, LlmUsage };
