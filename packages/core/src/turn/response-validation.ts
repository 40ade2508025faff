import type { LlmOutputPart, LlmResponse, LlmTerminalReason } from "@lash/protocol";
import { llmResponseSchema, llmTerminalReasonSchema } from "@lash/protocol";

const TERMINAL_REASONS: ReadonlySet<unknown> = new Set<LlmTerminalReason>(llmTerminalReasonSchema.options);
const USAGE_KEYS = ["inputTokens", "outputTokens", "cachedInputTokens", "reasoningTokens"] as const;
/** The response fields the quick reading copies as they are (optional strings). */
const TEXT_FIELDS = ["terminalDiagnostic", "requestBody", "httpSummary"] as const;
const RESPONSE_KEYS: ReadonlySet<string> = new Set(["fullText", "parts", "usage", "terminalReason", ...TEXT_FIELDS]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `record` has exactly `count` own keys, so no key the schema would strip is present. */
function hasKeyCount(record: Record<string, unknown>, count: number): boolean {
  let keys = 0;
  for (const _key in record) keys += 1;
  return keys === count;
}

function plainPart(value: unknown): LlmOutputPart | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case "text":
    case "reasoning":
      return typeof value.text === "string" && hasKeyCount(value, 2) ? { type: value.type, text: value.text } : undefined;
    case "tool_call": {
      const { callId, toolName, inputJson } = value;
      if (typeof callId !== "string" || typeof toolName !== "string" || typeof inputJson !== "string" || !hasKeyCount(value, 4)) {
        return undefined;
      }
      return { type: "tool_call", callId, toolName, inputJson };
    }
    default:
      return undefined;
  }
}

/**
 * The common response read without the schema: text, reasoning and tool-call parts without provider
 * metadata, four integer counts, a known terminal reason, the optional text fields, and no other
 * key. What it returns is a copy, as the schema's parse would give; anything else (a field to
 * default, provider metadata or raw usage to check, a key to strip, a wrong type) is `undefined`,
 * and the schema reads it.
 */
function quickResponse(value: unknown): LlmResponse | undefined {
  if (!isRecord(value)) return undefined;
  const { fullText, parts, usage, terminalReason } = value;
  if (typeof fullText !== "string" || !Array.isArray(parts) || !isRecord(usage) || !TERMINAL_REASONS.has(terminalReason)) return undefined;
  let keys = 0;
  for (const key in value) {
    if (!RESPONSE_KEYS.has(key)) return undefined;
    keys += 1;
  }
  const counts: number[] = [];
  for (const key of USAGE_KEYS) {
    const count = usage[key];
    if (typeof count !== "number" || !Number.isSafeInteger(count)) return undefined;
    counts.push(count);
  }
  if (!hasKeyCount(usage, USAGE_KEYS.length)) return undefined;
  const copiedParts: LlmOutputPart[] = [];
  for (const part of parts) {
    const copied = plainPart(part);
    if (copied === undefined) return undefined;
    copiedParts.push(copied);
  }
  const response: LlmResponse = {
    fullText,
    parts: copiedParts,
    usage: {
      inputTokens: counts[0] ?? 0,
      outputTokens: counts[1] ?? 0,
      cachedInputTokens: counts[2] ?? 0,
      reasoningTokens: counts[3] ?? 0,
    },
    terminalReason: terminalReason as LlmTerminalReason,
  };
  let present = 4;
  for (const field of TEXT_FIELDS) {
    if (!(field in value)) continue;
    const text = value[field];
    if (typeof text !== "string") return undefined;
    response[field] = text;
    present += 1;
  }
  return present === keys ? response : undefined;
}

/** A provider response the runtime can use: a copy of it, or why it cannot (the first problem, with its path). */
export type ResponseReading = { readonly ok: true; readonly response: LlmResponse } | { readonly ok: false; readonly problem: string };

/**
 * Reads a provider's final response (providers are untrusted). The usual response passes a quick
 * check that copies it; whatever that check does not settle goes through `llmResponseSchema`, which
 * fills defaults, strips unknown keys and names the first problem.
 */
export function readProviderResponse(value: unknown): ResponseReading {
  const quick = quickResponse(value);
  if (quick !== undefined) return { ok: true, response: quick };
  const parsed = llmResponseSchema.safeParse(value);
  if (parsed.success) return { ok: true, response: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue ? issue.path.join(".") : "";
  return { ok: false, problem: `at \`${path || "(root)"}\`: ${issue?.message ?? "invalid"}` };
}
