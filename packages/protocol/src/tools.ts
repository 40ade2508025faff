import { z } from "zod";
import { toolCallApprovalSchema } from "./approvals.js";
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
  z.object({
    type: z.literal("safe"),
    /** Milliseconds to wait before the retry; absent = the policy's backoff. */
    afterMs: z.number().int().nonnegative().optional(),
  }),
  z.object({
    type: z.literal("exhausted"),
    /** Attempts made, the first included. */
    attempts: z.number().int().positive(),
  }),
]);
export type ToolRetryHint = z.infer<typeof toolRetryHintSchema>;

/** A structured tool failure; the model sees `"[Tool execution failed]\n{message}"`. */
export const toolFailureSchema = z.object({
  /** The kind of failure. */
  class: toolFailureClassSchema,
  /** A stable identifier (`invalid_tool_args`, `tool_unavailable`, `tool_execution_failed`, a tool's own code). */
  code: z.string(),
  /** What went wrong, written for the model. */
  message: z.string(),
  /** Who produced the failure. */
  source: toolFailureSourceSchema,
  /** Whether the tool's retry policy may try again. */
  retry: toolRetryHintSchema,
  /** Raw details (an exception's text, a server's body) for people, not for the model; absent when none. */
  raw: z.string().optional(),
});
export type ToolFailure = z.infer<typeof toolFailureSchema>;

/** A tool call that was cancelled (turn cancellation, or a budget that stopped it from running). */
export const toolCancellationSchema = z.object({
  /** Why the call was cancelled, written for the model. */
  message: z.string(),
  /** Who cancelled it. */
  source: toolFailureSourceSchema,
  /** Raw details for people; absent when none. */
  raw: z.string().optional(),
});
export type ToolCancellation = z.infer<typeof toolCancellationSchema>;

/** How a tool call ended. `payload` is the tool's JSON value on success. */
export const toolCallOutcomeSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("success"),
    /** The tool's value, as the model sees it. */
    payload: jsonValueSchema,
  }),
  z.object({
    status: z.literal("failure"),
    /** The failure. */
    payload: toolFailureSchema,
  }),
  z.object({
    status: z.literal("cancelled"),
    /** The cancellation. */
    payload: toolCancellationSchema,
  }),
]);
export type ToolCallOutcome = z.infer<typeof toolCallOutcomeSchema>;

/**
 * A terminal control a successful tool call can carry. The first successful output (in call order)
 * with a control decides the turn's outcome: `handoff` continues in another session, `finish` ends
 * the turn with the tool's value, `fail` stops it with a tool error. All calls of the batch still run.
 */
export const toolControlSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("handoff"),
    /** The successor session (created through `ToolContext.sessions`). */
    sessionId: z.string(),
  }),
  z.object({
    type: z.literal("finish"),
    /** The turn's result (`finished { tool_value }`). */
    value: jsonValueSchema,
  }),
  z.object({
    type: z.literal("fail"),
    /** The failure the turn stops with (`stopped { tool_error }`). */
    failure: toolFailureSchema,
  }),
]);
export type ToolControl = z.infer<typeof toolControlSchema>;

/** The output of one tool call. */
export const toolCallOutputSchema = z.object({
  /** How the call ended. */
  outcome: toolCallOutcomeSchema,
  /** A terminal control (success outcomes only); absent = the turn goes on. */
  control: toolControlSchema.optional(),
});
export type ToolCallOutput = z.infer<typeof toolCallOutputSchema>;

/** A completed tool call as it appears in `AssembledTurn.toolCalls` and in the session graph. */
export const toolCallRecordSchema = z.object({
  /** The provider's call id; absent for a call without one (a code-running mode's call). */
  callId: z.string().optional(),
  /** The tool's name. */
  tool: z.string(),
  /** The arguments, parsed (the raw text as a string when it was not valid JSON). */
  args: jsonValueSchema,
  /** The call's output. */
  output: toolCallOutputSchema,
  /** Time spent executing the tool (0 when validation failed and it never ran). */
  durationMs: z.number().int().nonnegative(),
  /** What was decided, for a call whose tool needed approval and got a decision; absent otherwise. */
  approval: toolCallApprovalSchema.optional(),
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
    /** Attempts in all, the first included. */
    maxAttempts: z.number().int().positive(),
    /** The first backoff, in milliseconds; it doubles with each retry. */
    baseDelayMs: z.number().int().nonnegative(),
    /** The longest backoff, in milliseconds (0 = no cap). */
    maxDelayMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("idempotent"),
    /** Attempts in all, the first included. */
    maxAttempts: z.number().int().positive(),
    /** The first backoff, in milliseconds; it doubles with each retry. */
    baseDelayMs: z.number().int().nonnegative(),
    /** The longest backoff, in milliseconds (0 = no cap). */
    maxDelayMs: z.number().int().nonnegative(),
  }),
]);
export type ToolRetryPolicy = z.infer<typeof toolRetryPolicySchema>;
