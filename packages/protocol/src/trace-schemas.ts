import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { llmTerminalReasonSchema } from "./provider-schemas.js";
import { turnOutcomeSchema } from "./turn.js";
import { tokenUsageSchema } from "./usage.js";

/**
 * How much a trace sink receives. `standard` holds one record per turn, prompt, model call, tool
 * call, retry and commit; `extended` adds one `runtime_stream_event` record per streamed provider
 * event and the arguments of every tool call (large, and possibly sensitive).
 */
export const traceLevelSchema = z.enum(["standard", "extended"]);
export type TraceLevel = z.infer<typeof traceLevelSchema>;

const count = z.number().int().nonnegative();
const milliseconds = z.number().nonnegative();

/** Fields every trace record carries: when, and which turn of which session it belongs to. */
const traceBase = {
  /** ISO 8601 wall-clock time at which the record was made. */
  timestamp: z.string(),
  sessionId: z.string(),
  /** The turn id (`TurnInput.traceTurnId` when the host set one). */
  turnId: z.string(),
};

/**
 * What one model call streamed: counts and sizes of the visible chunks (prose and reasoning text),
 * the time from the call's start to its first visible chunk, and from the first to the last event.
 * The latencies are `null` when nothing visible streamed.
 */
export const traceStreamSummarySchema = z.object({
  eventCount: count,
  /** Prose chunks: `delta` events and streamed text parts. */
  textDeltaCount: count,
  reasoningDeltaCount: count,
  /** Non-empty prose and reasoning chunks. */
  visibleChunkCount: count,
  /**
   * Characters (UTF-16 code units) of each visible chunk, in arrival order: the first 1,000 chunks
   * (`visibleChunkCount`, `maxChunkChars` and `avgChunkChars` cover them all), so a record stays small.
   */
  chunkSizes: z.array(count),
  maxChunkChars: count,
  avgChunkChars: z.number().nonnegative(),
  firstTokenLatencyMs: milliseconds.nullable(),
  streamDurationMs: milliseconds.nullable(),
});
export type TraceStreamSummary = z.infer<typeof traceStreamSummarySchema>;

/** A failure as a trace records it (the provider's raw body kept when there was one). */
export const traceErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  raw: z.string().optional(),
  retryable: z.boolean().optional(),
  terminalReason: llmTerminalReasonSchema.optional(),
});
export type TraceError = z.infer<typeof traceErrorSchema>;

/**
 * One line of a turn trace, discriminated by `type`. Model calls are identified by `callId`
 * (`"{turnId}:llm:{n}"`), tool calls by the provider's call id or `"{turnId}:tool:{n}"`, so a
 * reader pairs a start with its end without relying on order.
 */
export const traceRecordSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("turn_started"), ...traceBase, turnIndex: count, provider: z.string(), model: z.string() }),
  z.object({
    type: z.literal("turn_completed"),
    ...traceBase,
    turnIndex: count,
    model: z.string(),
    durationMs: milliseconds,
    /** The outcome; absent when the turn failed with an error. */
    outcome: turnOutcomeSchema.optional(),
    usage: tokenUsageSchema,
    /** Set when the turn threw instead of returning (a store or sink failure). */
    error: traceErrorSchema.optional(),
  }),
  z.object({
    type: z.literal("prompt_built"),
    ...traceBase,
    /** Hex SHA-256 of the rendered system prompt (equal hashes: the prompt cache can hit). */
    systemPromptSha256: z.string(),
    systemPromptChars: count,
    messageCount: count,
    toolCount: count,
  }),
  z.object({
    type: z.literal("llm_call_started"),
    ...traceBase,
    callId: z.string(),
    modeIteration: count,
    request: z.object({ provider: z.string(), model: z.string(), messageCount: count, toolCount: count }),
  }),
  z.object({
    type: z.literal("llm_call_completed"),
    ...traceBase,
    callId: z.string(),
    modeIteration: count,
    model: z.string(),
    durationMs: milliseconds,
    usage: tokenUsageSchema,
    terminalReason: llmTerminalReasonSchema,
    streamSummary: traceStreamSummarySchema,
  }),
  z.object({
    type: z.literal("llm_call_failed"),
    ...traceBase,
    callId: z.string(),
    modeIteration: count,
    model: z.string(),
    durationMs: milliseconds,
    error: traceErrorSchema,
    /** Usage the stream reported before the failure, if any. */
    partialUsage: tokenUsageSchema.optional(),
    streamSummary: traceStreamSummarySchema,
  }),
  z.object({
    type: z.literal("llm_retry"),
    ...traceBase,
    callId: z.string(),
    attempt: z.number().int().positive(),
    maxAttempts: z.number().int().positive(),
    waitSeconds: count,
    reason: z.string(),
  }),
  z.object({
    type: z.literal("runtime_stream_event"),
    ...traceBase,
    callId: z.string(),
    /** The provider stream event's type (`delta`, `text_part`, `reasoning_delta`, `usage`, ...). */
    event: z.string(),
    /** The event's text, when it has one. */
    raw: z.string().optional(),
    /** Milliseconds since the call started. */
    offsetMs: milliseconds,
  }),
  z.object({
    type: z.literal("tool_call_started"),
    ...traceBase,
    callId: z.string(),
    toolName: z.string(),
    /** The arguments, at the `extended` level only. */
    args: jsonValueSchema.optional(),
  }),
  z.object({
    type: z.literal("tool_call_completed"),
    ...traceBase,
    callId: z.string(),
    toolName: z.string(),
    status: z.enum(["success", "failure", "cancelled"]),
    /** The tool's own measured duration. */
    durationMs: milliseconds,
  }),
  z.object({
    type: z.literal("commit"),
    ...traceBase,
    commitId: z.string(),
    ok: z.boolean(),
    durationMs: milliseconds,
    error: traceErrorSchema.optional(),
  }),
]);
export type TraceRecord = z.infer<typeof traceRecordSchema>;
export type TraceRecordType = TraceRecord["type"];
