import { z } from "zod";
import { approvalRequestSchema, approvalResolutionSchema, toolCallApprovalSchema } from "./approvals.js";
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
    /** Identifies the status line: a later status with the same key replaces it. */
    key: z.string(),
    /** The short text to show. */
    label: z.string(),
    /** More text to show on demand; absent when there is none. */
    detail: z.string().optional(),
  }),
  z.object({
    kind: z.literal("custom"),
    /** The event's name, as the plugin defines it. */
    name: z.string(),
    /** The event's data, opaque to lash. */
    payload: jsonValueSchema,
  }),
]);
export type PluginRuntimeEvent = z.infer<typeof pluginRuntimeEventSchema>;

/** An input queued for the running turn and accepted at a checkpoint. */
export const acceptedInjectedTurnInputSchema = z.object({
  /** The id the host gave the input when it queued it; absent when it gave none. */
  id: z.string().optional(),
  /** The message added to the conversation. */
  message: pluginMessageSchema,
});
export type AcceptedInjectedTurnInput = z.infer<typeof acceptedInjectedTurnInputSchema>;

/** The round of the turn: 0 for its first model call, one more for each later call. */
const modeIteration = z.number().int().nonnegative();

/** Details of an error: which layer failed, a stable code, and the provider's raw body if any. */
export const errorEnvelopeSchema = z.object({
  /** The layer that failed: `llm_provider`, `plugin`, `runtime`, `input_validation`, ... (the `TurnIssue` kinds). */
  kind: z.string(),
  /** A stable identifier of the failure (a `ProviderFailure.code`, a `LashError` code); absent when there is none. */
  code: z.string().optional(),
  /** The terminal reason of a failed model call; absent for failures of other layers. */
  terminalReason: llmTerminalReasonSchema.optional(),
  /** The message to show a user. */
  userMessage: z.string(),
  /** The provider's raw body, cut to about 4000 characters; absent when there was none. */
  raw: z.string().optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

/*
 * One vocabulary. Every event below has one name and one payload, whether it reaches a host as a
 * low-level `SessionEvent` (an `events` sink) or as an app-facing `TurnActivity` (the turn stream,
 * an `activities` sink). The few events that exist on one side only say so.
 */

/** The model streamed text: the answer's prose (in a code-running mode, the prose around the cells). */
const textDelta = z.object({
  type: z.literal("text_delta"),
  /** The next piece of text. */
  text: z.string(),
});
/** The model streamed reasoning text (summaries or raw reasoning, as the provider exposes it). */
const reasoningDelta = z.object({
  type: z.literal("reasoning_delta"),
  /** The next piece of reasoning. */
  text: z.string(),
});
/** A model call is about to be made: the iteration of the turn, what it sends. */
const modelRequestStarted = z.object({
  type: z.literal("model_request_started"),
  modeIteration,
  /** Messages in the request, the system prompt included. */
  messageCount: z.number().int().nonnegative(),
  /** The tools offered to the model, in request order. */
  toolNames: z.array(z.string()),
});
/** A tool call starts (live, as soon as its arguments are complete). */
const toolCallStarted = z.object({
  type: z.literal("tool_call_started"),
  /** The provider's call id; absent for a call without one (a code-running mode's call). */
  callId: z.string().optional(),
  /** The tool's name. */
  name: z.string(),
  /** The arguments, parsed (the raw text as a string when it was not valid JSON). */
  args: jsonValueSchema,
});
/** A tool call ended, with its output (a failure is an output, never a thrown error). */
const toolCallCompleted = z.object({
  type: z.literal("tool_call_completed"),
  /** The provider's call id; absent for a call without one. */
  callId: z.string().optional(),
  /** The tool's name. */
  name: z.string(),
  /** The arguments, as in `tool_call_started`. */
  args: jsonValueSchema,
  /** The result: success, failure or cancellation, and a terminal control. */
  output: toolCallOutputSchema,
  /** Milliseconds the tool ran (0 when it never ran: invalid arguments, an unknown tool). */
  durationMs: z.number().int().nonnegative(),
  /** The approval decision, for a call whose tool needed one and got it; absent otherwise. */
  approval: toolCallApprovalSchema.optional(),
});
/**
 * A tool call needs approval and the runtime is about to ask (after `tool_call_started`, before the
 * call runs). Correlated with the call's other activities (`tool:{callId}`).
 */
const approvalRequested = z.object({
  type: z.literal("approval_requested"),
  /** The question, as the decider sees it. */
  request: approvalRequestSchema,
});
/** An approval request was decided: an approved call runs next, a rejected one never runs. */
const approvalResolved = z.object({
  type: z.literal("approval_resolved"),
  /** The request's id. */
  id: z.string(),
  /** The session whose turn asked. */
  sessionId: z.string(),
  /** The provider's call id; absent for a call nested in a container tool. */
  callId: z.string().optional(),
  /** The tool's name. */
  tool: z.string(),
  /** The decision, who made it and why. */
  resolution: approvalResolutionSchema,
});
/** A model call's usage, and the turn's total so far. */
const usage = z.object({
  type: z.literal("usage"),
  modeIteration,
  /** This model call's usage. */
  usage: tokenUsageSchema,
  /** The turn's usage so far, this call included. */
  cumulative: tokenUsageSchema,
});
/** A child session's model call usage (a subagent), as it happens. */
const childUsage = z.object({
  type: z.literal("child_usage"),
  /** The child session. */
  sessionId: z.string(),
  /** The ledger source the parent books it under (`"subagent"`, `"child"`, ...). */
  source: z.string(),
  /** The child's model. */
  model: z.string(),
  /** The child turn's round (see `modeIteration`). */
  modeIteration,
  /** Usage since the child's previous report: what the parent's ledger gains. */
  usage: tokenUsageSchema,
  /** The child turn's usage so far. */
  cumulative: tokenUsageSchema,
});
/** A provider call failed with a retryable error; the runtime waits `waitSeconds`, then tries again. */
const retryStatus = z.object({
  type: z.literal("retry_status"),
  /** Whole seconds until the next attempt. */
  waitSeconds: z.number().int().nonnegative(),
  /** The 1-based number of the attempt that failed. */
  attempt: z.number().int().positive(),
  /** How many attempts the retry policy allows. */
  maxAttempts: z.number().int().positive(),
  /** The failure's message. */
  reason: z.string(),
  /** The failure's details; absent when the runtime has none beyond `reason`. */
  envelope: errorEnvelopeSchema.optional(),
});
/** Inputs queued for the running turn were taken in at a checkpoint. */
const queuedInputAccepted = z.object({
  type: z.literal("queued_input_accepted"),
  /** The checkpoint that took them in. */
  checkpoint: checkpointKindSchema,
  /** The inputs, in the order they were queued. */
  inputs: z.array(acceptedInjectedTurnInputSchema),
});
/** Messages queued for the running turn were added to the conversation at a checkpoint. */
const queuedMessagesCommitted = z.object({
  type: z.literal("queued_messages_committed"),
  /** The messages, in the order they were added. */
  messages: z.array(pluginMessageSchema),
  /** The checkpoint that added them. */
  checkpoint: checkpointKindSchema,
});
/** A plugin's own event (a status line or a custom payload). */
const pluginEvent = z.object({
  type: z.literal("plugin_event"),
  /** The plugin that emitted it. */
  pluginId: z.string(),
  /** The event. */
  event: pluginRuntimeEventSchema,
});
/** Something went wrong in the turn (the turn goes on or stops as its outcome says). */
const error = z.object({
  type: z.literal("error"),
  /** What went wrong, for people. */
  message: z.string(),
  /** The failure's details; absent when there are none beyond `message`. */
  envelope: errorEnvelopeSchema.optional(),
});

/** The events both streams carry. */
const sharedEvents = [
  textDelta,
  reasoningDelta,
  modelRequestStarted,
  toolCallStarted,
  toolCallCompleted,
  approvalRequested,
  approvalResolved,
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
  z.object({
    type: z.literal("code_block_started"),
    /** The cell's language (`python`, ...). */
    language: z.string(),
    /** The cell's source. */
    code: z.string(),
  }),
  z.object({
    type: z.literal("code_block_completed"),
    /** The cell's language. */
    language: z.string(),
    /** What the cell printed. */
    output: z.string(),
    /** The error the cell raised; absent when it raised none. */
    error: z.string().optional(),
    /** True when the cell ran to its end. */
    success: z.boolean(),
    /** Milliseconds the cell ran. */
    durationMs: z.number().int().nonnegative(),
    /** The ids of the tool calls the cell made, in order. */
    toolCallIds: z.array(z.string()),
  }),
  z.object({
    type: z.literal("submitted_value"),
    /** The value the turn submitted (its answer in a code-running mode). */
    value: jsonValueSchema,
  }),
  z.object({
    type: z.literal("tool_value"),
    /** The tool that produced the value. */
    toolName: z.string(),
    /** The value (a `toolResult.finish` value). */
    value: jsonValueSchema,
  }),
]);
export type TurnEvent = z.infer<typeof turnEventSchema>;
export type TurnEventType = TurnEvent["type"];

/**
 * Identifier of a turn activity, unique within its session: the runtime writes `<uuid>.<n>`, one
 * random UUID per run of a turn and a counter (a correlation id may also be a provider's item id, or
 * `tool:<callId>`). Treat it as opaque text.
 */
export const turnActivityIdSchema = z.string();
export type TurnActivityId = z.infer<typeof turnActivityIdSchema>;

/**
 * An app-facing activity: the event's fields flattened beside `id` (unique per activity) and
 * `correlationId` (groups related activities, such as the deltas of one prose block).
 */
export const turnActivitySchema = z.intersection(
  z.object({
    /** Unique per activity. */
    id: turnActivityIdSchema,
    /** Shared by related activities: the deltas of one prose block, the start and end of one tool call. */
    correlationId: turnActivityIdSchema,
  }),
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
  z.object({
    type: z.literal("message"),
    /** The text to show. */
    text: z.string(),
    /** What kind of message, as the mode names it. */
    kind: z.string(),
  }),
  z.object({
    type: z.literal("model_response_completed"),
    modeIteration,
    /** The call's whole answer text. */
    text: z.string(),
    /** Milliseconds from the request to the end of the response. */
    durationMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("turn_outcome"),
    /** How the turn ended. */
    outcome: turnOutcomeSchema,
  }),
  z.object({ type: z.literal("done") }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;
export type SessionEventType = SessionEvent["type"];
