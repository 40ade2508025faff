import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { pluginMessageSchema } from "./messages.js";
import { llmTerminalReasonSchema } from "./provider-schemas.js";
import { toolCallOutputSchema } from "./tools.js";
import { turnOutcomeSchema } from "./turn.js";
import { tokenUsageSchema } from "./usage.js";

/** Where a checkpoint sits: after a round of work, or before the turn completes. */
export const checkpointKindSchema = z.enum(["after_work", "before_completion"]);
export type CheckpointKind = z.infer<typeof checkpointKindSchema>;

/** A plugin's own runtime event: a status line, or a custom named payload. */
export const pluginRuntimeEventSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("status"),
    key: z.string(),
    label: z.string(),
    detail: z.string().optional(),
  }),
  z.object({ kind: z.literal("custom"), name: z.string(), payload: jsonValueSchema }),
]);
export type PluginRuntimeEvent = z.infer<typeof pluginRuntimeEventSchema>;

/** An input queued for the running turn and accepted at a checkpoint. */
export const acceptedInjectedTurnInputSchema = z.object({
  id: z.string().optional(),
  message: pluginMessageSchema,
});
export type AcceptedInjectedTurnInput = z.infer<typeof acceptedInjectedTurnInputSchema>;

const modeIteration = z.number().int().nonnegative();

/**
 * App-facing semantic event of a turn (the payload of a `TurnActivity`). `type` is the
 * discriminator. Prose and reasoning deltas share a correlation id per model call (or per provider
 * item); tool events use `tool:{callId}`; code blocks use `code:EffectId(n)`.
 */
export const turnEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("model_request_started"), modeIteration }),
  z.object({ type: z.literal("assistant_prose_delta"), text: z.string() }),
  z.object({ type: z.literal("reasoning_delta"), text: z.string() }),
  z.object({ type: z.literal("code_block_started"), language: z.string(), code: z.string() }),
  z.object({
    type: z.literal("code_block_completed"),
    language: z.string(),
    output: z.string(),
    error: z.string().optional(),
    success: z.boolean(),
    durationMs: z.number().int().nonnegative(),
    toolCallIds: z.array(z.string()),
  }),
  z.object({
    type: z.literal("tool_call_started"),
    callId: z.string().optional(),
    name: z.string(),
    args: jsonValueSchema,
  }),
  z.object({
    type: z.literal("tool_call_completed"),
    callId: z.string().optional(),
    name: z.string(),
    args: jsonValueSchema,
    output: toolCallOutputSchema,
    durationMs: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("submitted_value"), value: jsonValueSchema }),
  z.object({ type: z.literal("tool_value"), toolName: z.string(), value: jsonValueSchema }),
  z.object({ type: z.literal("usage"), modeIteration, usage: tokenUsageSchema, cumulative: tokenUsageSchema }),
  z.object({
    type: z.literal("child_usage"),
    sessionId: z.string(),
    source: z.string(),
    model: z.string(),
    modeIteration,
    usage: tokenUsageSchema,
    cumulative: tokenUsageSchema,
  }),
  z.object({
    type: z.literal("retry_status"),
    waitSeconds: z.number().int().nonnegative(),
    attempt: z.number().int().positive(),
    maxAttempts: z.number().int().positive(),
    reason: z.string(),
  }),
  z.object({ type: z.literal("plugin_runtime"), pluginId: z.string(), event: pluginRuntimeEventSchema }),
  z.object({
    type: z.literal("queued_input_accepted"),
    checkpoint: checkpointKindSchema,
    inputs: z.array(acceptedInjectedTurnInputSchema),
  }),
  z.object({
    type: z.literal("queued_messages_committed"),
    messages: z.array(pluginMessageSchema),
    checkpoint: checkpointKindSchema,
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type TurnEvent = z.infer<typeof turnEventSchema>;
export type TurnEventType = TurnEvent["type"];

/** Identifier of a turn activity (a UUID unless a provider item id is reused for correlation). */
export const turnActivityIdSchema = z.string();
export type TurnActivityId = z.infer<typeof turnActivityIdSchema>;

/**
 * An app-facing activity: the event's fields flattened beside `id` (unique per activity) and
 * `correlationId` (groups related activities, such as the deltas of one prose block).
 */
export const turnActivitySchema = z.intersection(
  z.object({ id: turnActivityIdSchema, correlationId: turnActivityIdSchema }),
  turnEventSchema,
);
export type TurnActivity = { id: TurnActivityId; correlationId: TurnActivityId } & TurnEvent;

/** Details of an error: which layer failed, a stable code, and the provider's raw body if any. */
export const errorEnvelopeSchema = z.object({
  kind: z.string(),
  code: z.string().optional(),
  terminalReason: llmTerminalReasonSchema.optional(),
  userMessage: z.string(),
  raw: z.string().optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/**
 * Low-level streaming event of a turn (mode-specific preview and progress data). `tool_call` is a
 * completed call (emitted after the whole batch, in call order); `tool_call_start` is live.
 */
export const sessionEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text_delta"), content: z.string() }),
  z.object({ type: z.literal("reasoning_delta"), content: z.string() }),
  z.object({
    type: z.literal("tool_call"),
    callId: z.string().optional(),
    name: z.string(),
    args: jsonValueSchema,
    output: toolCallOutputSchema,
    durationMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("tool_call_start"),
    callId: z.string().optional(),
    name: z.string(),
    args: jsonValueSchema,
  }),
  z.object({ type: z.literal("message"), text: z.string(), kind: z.string() }),
  z.object({
    type: z.literal("llm_request"),
    modeIteration,
    messageCount: z.number().int().nonnegative(),
    /** Tool names joined with `", "`. */
    toolList: z.string(),
  }),
  z.object({
    type: z.literal("llm_response"),
    modeIteration,
    content: z.string(),
    durationMs: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("token_usage"), modeIteration, usage: tokenUsageSchema, cumulative: tokenUsageSchema }),
  z.object({
    type: z.literal("child_token_usage"),
    sessionId: z.string(),
    source: z.string(),
    model: z.string(),
    modeIteration,
    usage: tokenUsageSchema,
    cumulative: tokenUsageSchema,
  }),
  z.object({
    type: z.literal("retry_status"),
    waitSeconds: z.number().int().nonnegative(),
    attempt: z.number().int().positive(),
    maxAttempts: z.number().int().positive(),
    reason: z.string(),
    envelope: errorEnvelopeSchema.optional(),
  }),
  z.object({
    type: z.literal("injected_turn_input_accepted"),
    inputs: z.array(acceptedInjectedTurnInputSchema),
    checkpoint: checkpointKindSchema,
  }),
  z.object({
    type: z.literal("injected_messages_committed"),
    messages: z.array(pluginMessageSchema),
    checkpoint: checkpointKindSchema,
  }),
  z.object({ type: z.literal("plugin_event"), pluginId: z.string(), event: pluginRuntimeEventSchema }),
  z.object({ type: z.literal("turn_outcome"), outcome: turnOutcomeSchema }),
  z.object({ type: z.literal("done") }),
  z.object({ type: z.literal("error"), message: z.string(), envelope: errorEnvelopeSchema.optional() }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type SessionEventType = SessionEvent["type"];
