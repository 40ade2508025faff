import { z } from "zod";
import { jsonValueSchema } from "./json.js";

/** What kind of failure a tool call ended with (decides nothing by itself; tools never end a turn). */
export const toolFailureClassSchema = z.enum([
  "invalid_request",
  "unavailable",
  "internal",
  "timeout",
  "permission_denied",
  "not_found",
  "conflict",
  "rate_limited",
  "external",
]);
export type ToolFailureClass = z.infer<typeof toolFailureClassSchema>;

/** Who produced a tool failure: the tool itself, the runtime (validation, dispatch), or a plugin hook. */
export const toolFailureSourceSchema = z.enum(["tool", "runtime", "plugin"]);
export type ToolFailureSource = z.infer<typeof toolFailureSourceSchema>;

/**
 * Whether a failed call may be retried by the tool's retry policy: `never`; `safe` (retry, after
 * `afterMs` when given); `exhausted` (the policy already used `attempts` attempts).
 */
export const toolRetryHintSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("never") }),
  z.object({ type: z.literal("safe"), afterMs: z.number().int().nonnegative().optional() }),
  z.object({ type: z.literal("exhausted"), attempts: z.number().int().positive() }),
]);
export type ToolRetryHint = z.infer<typeof toolRetryHintSchema>;

/** A structured tool failure; the model sees `"[Tool execution failed]\n{message}"`. */
export const toolFailureSchema = z.object({
  class: toolFailureClassSchema,
  code: z.string(),
  message: z.string(),
  source: toolFailureSourceSchema,
  retry: toolRetryHintSchema,
  raw: z.string().optional(),
});
export type ToolFailure = z.infer<typeof toolFailureSchema>;

/** A tool call that was cancelled (turn cancellation, or a budget that stopped it from running). */
export const toolCancellationSchema = z.object({
  message: z.string(),
  source: toolFailureSourceSchema,
  raw: z.string().optional(),
});
export type ToolCancellation = z.infer<typeof toolCancellationSchema>;

/** How a tool call ended. `payload` is the tool's JSON value on success. */
export const toolCallOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("success"), payload: jsonValueSchema }),
  z.object({ status: z.literal("failure"), payload: toolFailureSchema }),
  z.object({ status: z.literal("cancelled"), payload: toolCancellationSchema }),
]);
export type ToolCallOutcome = z.infer<typeof toolCallOutcomeSchema>;

/**
 * A terminal control a successful tool call can carry. The first successful output (in call order)
 * with a control decides the turn's outcome: `handoff` continues in another session, `finish` ends
 * the turn with the tool's value, `fail` stops it with a tool error. All calls of the batch still run.
 */
export const toolControlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("handoff"), sessionId: z.string() }),
  z.object({ type: z.literal("finish"), value: jsonValueSchema }),
  z.object({ type: z.literal("fail"), failure: toolFailureSchema }),
]);
export type ToolControl = z.infer<typeof toolControlSchema>;

/** The output of one tool call. */
export const toolCallOutputSchema = z.object({
  outcome: toolCallOutcomeSchema,
  control: toolControlSchema.optional(),
});
export type ToolCallOutput = z.infer<typeof toolCallOutputSchema>;

/** A completed tool call as it appears in `AssembledTurn.toolCalls` and in the session graph. */
export const toolCallRecordSchema = z.object({
  callId: z.string().optional(),
  tool: z.string(),
  args: jsonValueSchema,
  output: toolCallOutputSchema,
  /** Time spent executing the tool (0 when validation failed and it never ran). */
  durationMs: z.number().int().nonnegative(),
});
export type ToolCallRecord = z.infer<typeof toolCallRecordSchema>;

/**
 * How a tool runs inside a batch: all `parallel` calls start together; `serial` calls run one at a
 * time, in call order, after every parallel call has finished.
 */
export const toolExecutionModeSchema = z.enum(["parallel", "serial"]);
export type ToolExecutionMode = z.infer<typeof toolExecutionModeSchema>;

/**
 * When a failed call is retried. Only failures whose retry hint is `safe` are retried. The delay is
 * the hint's `afterMs`, else `baseDelayMs * 2^attempt`, capped by `maxDelayMs` (0 = no cap).
 * `idempotent` retries only calls that carry a call id.
 */
export const toolRetryPolicySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("never") }),
  z.object({
    type: z.literal("safe"),
    maxAttempts: z.number().int().positive(),
    baseDelayMs: z.number().int().nonnegative(),
    maxDelayMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("idempotent"),
    maxAttempts: z.number().int().positive(),
    baseDelayMs: z.number().int().nonnegative(),
    maxDelayMs: z.number().int().nonnegative(),
  }),
]);
export type ToolRetryPolicy = z.infer<typeof toolRetryPolicySchema>;
