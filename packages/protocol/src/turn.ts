import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { llmTerminalReasonSchema } from "./provider-schemas.js";
import { modeTurnOptionsSchema, sessionStateEnvelopeSchema } from "./session.js";
import { toolCallRecordSchema } from "./tools.js";
import { turnStopSchema } from "./turn-stop.js";
import { tokenLedgerEntrySchema, tokenUsageSchema } from "./usage.js";

export type { TurnBudget, TurnStop } from "./turn-stop.js";
export { turnBudgetSchema, turnStopSchema } from "./turn-stop.js";

/** One item of user input: text, or a reference to an image blob carried in `TurnInput.imageBlobs`. */
export const inputItemSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("text"),
    /** The text. */
    text: z.string(),
  }),
  z.object({
    type: z.literal("image_ref"),
    /** The key of the image's bytes in `TurnInput.imageBlobs`. */
    id: z.string(),
  }),
]);
export type InputItem = z.infer<typeof inputItemSchema>;

/** The serializable part of a turn's input. */
export const turnInputSchema = z.object({
  /** The user's input, in order. */
  items: z.array(inputItemSchema),
  /** Raw image bytes keyed by the ids used in `image_ref` items; absent without images. */
  imageBlobs: z
    .record(
      z.string(),
      z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: "expected a Uint8Array" }),
    )
    .optional(),
  /** Options for the session's execution mode for this turn; absent = none. */
  modeTurnOptions: modeTurnOptionsSchema.optional(),
  /** Externally stable turn id (idempotency and tracing); a fresh UUID when absent. */
  traceTurnId: z.string().optional(),
});

/** Why a turn finished normally. */
export const turnFinishSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("assistant_message"),
    /** The model's final answer. */
    text: z.string(),
  }),
  z.object({
    type: z.literal("submitted_value"),
    /** The value the turn submitted (a code-running mode's answer). */
    value: jsonValueSchema,
  }),
  z.object({
    type: z.literal("tool_value"),
    /** The tool whose `toolResult.finish` ended the turn. */
    toolName: z.string(),
    /** Its value. */
    value: jsonValueSchema,
  }),
]);
export type TurnFinish = z.infer<typeof turnFinishSchema>;

/** The terminal outcome of a turn. */
export const turnOutcomeSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("finished"),
    /** What the turn finished with. */
    finish: turnFinishSchema,
  }),
  z.object({
    type: z.literal("handoff"),
    /** The successor session that takes the conversation's later turns. */
    sessionId: z.string(),
  }),
  z.object({
    type: z.literal("stopped"),
    /** Why it stopped. */
    stop: turnStopSchema,
  }),
]);
export type TurnOutcome = z.infer<typeof turnOutcomeSchema>;

/**
 * How usable the assembled text is: `usable`; `empty_output` (nothing); `traceback_only` (only an
 * error trace); `recovered_from_error` (usable text, but the turn recorded issues).
 */
export const outputStateSchema = z.enum(["usable", "empty_output", "traceback_only", "recovered_from_error"]);
export type OutputState = z.infer<typeof outputStateSchema>;

/** The turn's final assistant text: `safeText` is `rawText` with trailing spaces and blank edges trimmed. */
export const assistantOutputSchema = z.object({
  /** The text to show. */
  safeText: z.string(),
  /** The text as the model produced it. */
  rawText: z.string(),
  /** How usable the text is. */
  state: outputStateSchema,
});
export type AssistantOutput = z.infer<typeof assistantOutputSchema>;

/** What kind of work the turn did. */
export const executionSummarySchema = z.object({
  /** The execution mode the turn ran in. */
  mode: z.string(),
  /** True when a tool was called. */
  hadToolCalls: z.boolean().default(false),
  /** True when a code cell ran (code-running modes only). */
  hadCodeExecution: z.boolean().default(false),
});
export type ExecutionSummary = z.infer<typeof executionSummarySchema>;

/** The output of one code cell run by a code execution mode. */
export const codeOutputRecordSchema = z.object({
  /** What the cell printed. */
  output: z.string(),
  /** The error it raised; absent when it raised none. */
  error: z.string().optional(),
});
export type CodeOutputRecord = z.infer<typeof codeOutputRecordSchema>;

/**
 * A structured issue recorded during a turn. `kind` is one of `input_validation`, `plugin`,
 * `runtime`, `llm_provider`, `plugin_prompt`, `execution_surface` (or a mode's own kind).
 */
export const turnIssueSchema = z.object({
  /** The layer the issue came from (see above). */
  kind: z.string(),
  /** A stable identifier (a provider failure's or a `LashError`'s code); absent when there is none. */
  code: z.string().optional(),
  /** The terminal reason of a failed model call; absent for issues of other layers. */
  terminalReason: llmTerminalReasonSchema.optional(),
  /** What happened, for people. */
  message: z.string(),
  /** The provider's raw body, cut to about 4000 characters; absent when there was none. */
  raw: z.string().optional(),
});
export type TurnIssue = z.infer<typeof turnIssueSchema>;

/** The canonical result of a turn. */
export const assembledTurnSchema = z.object({
  /** The session read model after the turn. */
  state: sessionStateEnvelopeSchema,
  /** How the turn ended. */
  outcome: turnOutcomeSchema,
  /** The turn's answer text. */
  assistantOutput: assistantOutputSchema,
  /** What kind of work the turn did. */
  execution: executionSummarySchema,
  /** This session's own model tokens for the turn (summed over its model calls). */
  tokenUsage: tokenUsageSchema,
  /** Per `(source, model)` usage of child sessions whose model calls finished during the turn. */
  childrenUsage: z.array(tokenLedgerEntrySchema).default([]),
  /** Completed native tool calls, in call order within each batch. */
  toolCalls: z.array(toolCallRecordSchema).default([]),
  /** Issues recorded during the turn, in order (a finished turn may have some it recovered from). */
  errors: z.array(turnIssueSchema).default([]),
  /**
   * The structured output, when the turn asked for one (`output` option) and finished with an answer
   * its schema accepted: the schema's output (defaults applied, values transformed). Absent
   * otherwise; a turn whose answer the schema kept refusing ends `stopped { invalid_output }`.
   */
  output: z.unknown().optional(),
});
export type AssembledTurn = z.infer<typeof assembledTurnSchema>;

/** One logical host turn driven through any handoffs: one assembled turn per hop, in order. */
export const followedTurnSchema = z.object({
  /** The turn of each session the conversation passed through, in order; the last holds the answer. */
  turns: z.array(assembledTurnSchema),
});
export type FollowedTurn = z.infer<typeof followedTurnSchema>;

/** The last hop's turn (the answer of a followed turn), or `undefined` when there were no turns. */
export function finalTurn(followed: FollowedTurn): AssembledTurn | undefined {
  return followed.turns.at(-1);
}

/** How many hops ended in a handoff. */
export function handoffCount(followed: FollowedTurn): number {
  return followed.turns.filter((turn) => turn.outcome.type === "handoff").length;
}
