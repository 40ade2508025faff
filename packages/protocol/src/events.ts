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

/** Details of an error: which layer failed, a stable code, and the provider's raw body if any. */
export const errorEnvelopeSchema = z.object({
  kind: z.string(),
  code: z.string().optional(),
  terminalReason: llmTerminalReasonSchema.optional(),
  userMessage: z.string(),
  raw: z.string().optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/*
 * One vocabulary. Every event below has one name and one payload, whether it reaches a host as a
 * low-level `SessionEvent` (an `events` sink) or as an app-facing `TurnActivity` (the turn stream,
 * an `activities` sink). The few events that exist on one side only say so.
 */

/** The model streamed text: the answer's prose (in a code-running mode, the prose around the cells). */
const textDelta = z.object({ type: z.literal("text_delta"), text: z.string() });
/** The model streamed reasoning text (summaries or raw reasoning, as the provider exposes it). */
const reasoningDelta = z.object({ type: z.literal("reasoning_delta"), text: z.string() });
/** A model call is about to be made: the iteration of the turn, what it sends. */
const modelRequestStarted = z.object({
  type: z.literal("model_request_started"),
  modeIteration,
  messageCount: z.number().int().nonnegative(),
  toolNames: z.array(z.string()),
});
/** A tool call starts (live, as soon as its arguments are complete). */
const toolCallStarted = z.object({
  type: z.literal("tool_call_started"),
  callId: z.string().optional(),
  name: z.string(),
  args: jsonValueSchema,
});
/** A tool call ended, with its output (a failure is an output, never a thrown error). */
const toolCallCompleted = z.object({
  type: z.literal("tool_call_completed"),
  callId: z.string().optional(),
  name: z.string(),
  args: jsonValueSchema,
  output: toolCallOutputSchema,
  durationMs: z.number().int().nonnegative(),
});
/** A model call's usage, and the turn's total so far. */
const usage = z.object({ type: z.literal("usage"), modeIteration, usage: tokenUsageSchema, cumulative: tokenUsageSchema });
/** A child session's model call usage (a subagent), as it happens. */
const childUsage = z.object({
  type: z.literal("child_usage"),
  sessionId: z.string(),
  source: z.string(),
  model: z.string(),
  modeIteration,
  usage: tokenUsageSchema,
  cumulative: tokenUsageSchema,
});
/** A provider call failed with a retryable error; the runtime waits `waitSeconds`, then tries again. */
const retryStatus = z.object({
  type: z.literal("retry_status"),
  waitSeconds: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  maxAttempts: z.number().int().positive(),
  reason: z.string(),
  envelope: errorEnvelopeSchema.optional(),
});
/** Inputs queued for the running turn were taken in at a checkpoint. */
const queuedInputAccepted = z.object({
  type: z.literal("queued_input_accepted"),
  checkpoint: checkpointKindSchema,
  inputs: z.array(acceptedInjectedTurnInputSchema),
});
/** Messages queued for the running turn were added to the conversation at a checkpoint. */
const queuedMessagesCommitted = z.object({
  type: z.literal("queued_messages_committed"),
  messages: z.array(pluginMessageSchema),
  checkpoint: checkpointKindSchema,
});
/** A plugin's own event (a status line or a custom payload). */
const pluginEvent = z.object({ type: z.literal("plugin_event"), pluginId: z.string(), event: pluginRuntimeEventSchema });
/** Something went wrong in the turn (the turn goes on or stops as its outcome says). */
const error = z.object({ type: z.literal("error"), message: z.string(), envelope: errorEnvelopeSchema.optional() });

/** The events both streams carry. */
const sharedEvents = [
  textDelta,
  reasoningDelta,
  modelRequestStarted,
  toolCallStarted,
  toolCallCompleted,
  usage,
  childUsage,
  retryStatus,
  queuedInputAccepted,
  queuedMessagesCommitted,
  pluginEvent,
  error,
] as const;

/**
 * App-facing semantic event of a turn (the payload of a `TurnActivity`). `type` is the
 * discriminator. Prose and reasoning deltas share a correlation id per model call (or per provider
 * item); tool events use `tool:{callId}`; code blocks use `code:EffectId(n)`. Besides the shared
 * events: `code_block_started` / `code_block_completed` (a code cell of a code-running mode),
 * `submitted_value` (the value a turn submitted) and `tool_value` (a value a tool produced for the
 * host).
 */
export const turnEventSchema = z.discriminatedUnion("type", [
  ...sharedEvents,
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
  z.object({ type: z.literal("submitted_value"), value: jsonValueSchema }),
  z.object({ type: z.literal("tool_value"), toolName: z.string(), value: jsonValueSchema }),
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

/**
 * Low-level streaming event of a turn (mode-specific preview and progress data). Besides the shared
 * events: `message` (a message the mode shows), `model_response_completed` (a model call's whole
 * text and duration), `turn_outcome` (how the turn ended) and `done` (the last event of a turn).
 * `tool_call_completed` arrives after the whole batch of calls, in call order; `tool_call_started`
 * is live.
 */
export const sessionEventSchema = z.discriminatedUnion("type", [
  ...sharedEvents,
  z.object({ type: z.literal("message"), text: z.string(), kind: z.string() }),
  z.object({
    type: z.literal("model_response_completed"),
    modeIteration,
    text: z.string(),
    durationMs: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("turn_outcome"), outcome: turnOutcomeSchema }),
  z.object({ type: z.literal("done") }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type SessionEventType = SessionEvent["type"];
