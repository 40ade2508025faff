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
  /** The session the turn ran on. */
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
  /** Stream events of every type. */
  eventCount: count,
  /** Prose chunks: `delta` events and streamed text parts. */
  textDeltaCount: count,
  /** `reasoning_delta` events. */
  reasoningDeltaCount: count,
  /** Non-empty prose and reasoning chunks. */
  visibleChunkCount: count,
  /**
   * Characters (UTF-16 code units) of each visible chunk, in arrival order: the first 1,000 chunks
   * (`visibleChunkCount`, `maxChunkChars` and `avgChunkChars` cover them all), so a record stays small.
   */
  chunkSizes: z.array(count),
  /** The largest visible chunk, in characters (0 when none). */
  maxChunkChars: count,
  /** The mean visible chunk, in characters (0 when none). */
  avgChunkChars: z.number().nonnegative(),
  /** Milliseconds from the call's start to its first visible chunk; `null` when nothing visible streamed. */
  firstTokenLatencyMs: milliseconds.nullable(),
  /** Milliseconds from the first visible chunk to the last event; `null` when nothing visible streamed. */
  streamDurationMs: milliseconds.nullable(),
});
export type TraceStreamSummary = z.infer<typeof traceStreamSummarySchema>;

/** A failure as a trace records it (the provider's raw body kept when there was one). */
export const traceErrorSchema = z.object({
  /** What went wrong. */
  message: z.string(),
  /** A stable identifier (a provider failure's or a `LashError`'s code); absent when there is none. */
  code: z.string().optional(),
  /** The provider's raw body, cut; absent when there was none. */
  raw: z.string().optional(),
  /** Whether the failure was retryable (provider failures); absent for others. */
  retryable: z.boolean().optional(),
  /** The terminal reason of a failed model call; absent for others. */
  terminalReason: llmTerminalReasonSchema.optional(),
});
export type TraceError = z.infer<typeof traceErrorSchema>;

/**
 * One line of a turn trace, discriminated by `type`. Model calls are identified by `callId`
 * (`"{turnId}:llm:{n}"`), tool calls by the provider's call id or `"{turnId}:tool:{n}"`, so a
 * reader pairs a start with its end without relying on order.
 */
export const traceRecordSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("turn_started"),
    ...traceBase,
    /** The turn's index in the session (1 for the first). */
    turnIndex: count,
    /** The provider's `providerId`. */
    provider: z.string(),
    /** The model the turn uses. */
    model: z.string(),
  }),
  z.object({
    type: z.literal("turn_completed"),
    ...traceBase,
    /** The turn's index in the session. */
    turnIndex: count,
    /** The model the turn used. */
    model: z.string(),
    /** Milliseconds the turn took. */
    durationMs: milliseconds,
    /** The outcome; absent when the turn failed with an error. */
    outcome: turnOutcomeSchema.optional(),
    /** The turn's own model usage. */
    usage: tokenUsageSchema,
    /** Set when the turn threw instead of returning (a store or sink failure). */
    error: traceErrorSchema.optional(),
  }),
  z.object({
    type: z.literal("prompt_built"),
    ...traceBase,
    /** Hex SHA-256 of the rendered system prompt (equal hashes: the prompt cache can hit). */
    systemPromptSha256: z.string(),
    /** The system prompt's length, in characters. */
    systemPromptChars: count,
    /** Messages of the conversation the turn starts from. */
    messageCount: count,
    /** Tools offered to the model. */
    toolCount: count,
  }),
  z.object({
    type: z.literal("llm_call_started"),
    ...traceBase,
    /** `"{turnId}:llm:{n}"`. */
    callId: z.string(),
    /** The call's round within the turn (0 for the first). */
    modeIteration: count,
    /** What is sent: provider, model, and how many messages and tools. */
    request: z.object({
      /** The provider's `providerId`. */
      provider: z.string(),
      /** The model. */
      model: z.string(),
      /** Messages in the request, the system prompt included. */
      messageCount: count,
      /** Tools offered. */
      toolCount: count,
    }),
  }),
  z.object({
    type: z.literal("llm_call_completed"),
    ...traceBase,
    /** As in `llm_call_started`. */
    callId: z.string(),
    /** As in `llm_call_started`. */
    modeIteration: count,
    /** The model. */
    model: z.string(),
    /** Milliseconds from the request to the final response, retries included. */
    durationMs: milliseconds,
    /** The call's usage. */
    usage: tokenUsageSchema,
    /** Why the call ended. */
    terminalReason: llmTerminalReasonSchema,
    /** What streamed. */
    streamSummary: traceStreamSummarySchema,
  }),
  z.object({
    type: z.literal("llm_call_failed"),
    ...traceBase,
    /** As in `llm_call_started`. */
    callId: z.string(),
    /** As in `llm_call_started`. */
    modeIteration: count,
    /** The model. */
    model: z.string(),
    /** Milliseconds from the request to the failure, retries included. */
    durationMs: milliseconds,
    /** The last attempt's failure. */
    error: traceErrorSchema,
    /** Usage the stream reported before the failure, if any. */
    partialUsage: tokenUsageSchema.optional(),
    /** What streamed before the failure. */
    streamSummary: traceStreamSummarySchema,
  }),
  z.object({
    type: z.literal("llm_retry"),
    ...traceBase,
    /** The model call being retried. */
    callId: z.string(),
    /** The 1-based number of the attempt that failed. */
    attempt: z.number().int().positive(),
    /** How many attempts the retry policy allows. */
    maxAttempts: z.number().int().positive(),
    /** Whole seconds until the next attempt. */
    waitSeconds: count,
    /** The failure's message. */
    reason: z.string(),
  }),
  z.object({
    type: z.literal("runtime_stream_event"),
    ...traceBase,
    /** The model call that streamed it. */
    callId: z.string(),
    /** The provider stream event's type (`delta`, `text_part`, `reasoning_delta`, `usage`, ...). */
    event: z.string(),
    /** The event's text; absent when it has none. */
    raw: z.string().optional(),
    /** Milliseconds since the call started. */
    offsetMs: milliseconds,
  }),
  z.object({
    type: z.literal("tool_call_started"),
    ...traceBase,
    /** The provider's call id, or `"{turnId}:tool:{n}"`. */
    callId: z.string(),
    /** The tool's name. */
    toolName: z.string(),
    /** The arguments, at the `extended` level only (absent at `standard`). */
    args: jsonValueSchema.optional(),
  }),
  z.object({
    type: z.literal("tool_call_completed"),
    ...traceBase,
    /** As in `tool_call_started`. */
    callId: z.string(),
    /** The tool's name. */
    toolName: z.string(),
    /** How the call ended (`ToolCallOutcome.status`). */
    status: z.enum(["success", "failure", "cancelled"]),
    /** The tool's own measured duration. */
    durationMs: milliseconds,
  }),
  z.object({
    type: z.literal("commit"),
    ...traceBase,
    /** The commit's id (`{turnId}:{phase}`). */
    commitId: z.string(),
    /** True when the store accepted it. */
    ok: z.boolean(),
    /** Milliseconds the store took. */
    durationMs: milliseconds,
    /** Why it failed; absent when it succeeded. */
    error: traceErrorSchema.optional(),
  }),
]);
export type TraceRecord = z.infer<typeof traceRecordSchema>;
export type TraceRecordType = TraceRecord["type"];
