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
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("image_ref"), id: z.string() }),
]);
export type InputItem = z.infer<typeof inputItemSchema>;

/** The serializable part of a turn's input. */
export const turnInputSchema = z.object({
  items: z.array(inputItemSchema),
  /** Raw image bytes keyed by the ids used in `image_ref` items. */
  imageBlobs: z
    .record(
      z.string(),
      z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: "expected a Uint8Array" }),
    )
    .optional(),
  modeTurnOptions: modeTurnOptionsSchema.optional(),
  /** Externally stable turn id (idempotency and tracing); a fresh UUID when absent. */
  traceTurnId: z.string().optional(),
});

/** Why a turn finished normally. */
export const turnFinishSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("assistant_message"), text: z.string() }),
  z.object({ type: z.literal("submitted_value"), value: jsonValueSchema }),
  z.object({ type: z.literal("tool_value"), toolName: z.string(), value: jsonValueSchema }),
]);
export type TurnFinish = z.infer<typeof turnFinishSchema>;

/** The terminal outcome of a turn. */
export const turnOutcomeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("finished"), finish: turnFinishSchema }),
  z.object({ type: z.literal("handoff"), sessionId: z.string() }),
  z.object({ type: z.literal("stopped"), stop: turnStopSchema }),
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
  safeText: z.string(),
  rawText: z.string(),
  state: outputStateSchema,
});
export type AssistantOutput = z.infer<typeof assistantOutputSchema>;

/** What kind of work the turn did. */
export const executionSummarySchema = z.object({
  mode: z.string(),
  hadToolCalls: z.boolean().default(false),
  hadCodeExecution: z.boolean().default(false),
});
export type ExecutionSummary = z.infer<typeof executionSummarySchema>;

/** The output of one code cell run by a code execution mode. */
export const codeOutputRecordSchema = z.object({
  output: z.string(),
  error: z.string().optional(),
});
export type CodeOutputRecord = z.infer<typeof codeOutputRecordSchema>;

/**
 * A structured issue recorded during a turn. `kind` is one of `input_validation`, `plugin`,
 * `runtime`, `llm_provider`, `plugin_prompt`, `execution_surface` (or a mode's own kind).
 */
export const turnIssueSchema = z.object({
  kind: z.string(),
  code: z.string().optional(),
  terminalReason: llmTerminalReasonSchema.optional(),
  message: z.string(),
  raw: z.string().optional(),
});
export type TurnIssue = z.infer<typeof turnIssueSchema>;

/** The canonical result of a turn. */
export const assembledTurnSchema = z.object({
  /** The session read model after the turn. */
  state: sessionStateEnvelopeSchema,
  outcome: turnOutcomeSchema,
  assistantOutput: assistantOutputSchema,
  execution: executionSummarySchema,
  /** This session's own model tokens for the turn (summed over its model calls). */
  tokenUsage: tokenUsageSchema,
  /** Per `(source, model)` usage of child sessions whose model calls finished during the turn. */
  childrenUsage: z.array(tokenLedgerEntrySchema).default([]),
  /** Completed native tool calls, in call order within each batch. */
  toolCalls: z.array(toolCallRecordSchema).default([]),
  errors: z.array(turnIssueSchema).default([]),
});
export type AssembledTurn = z.infer<typeof assembledTurnSchema>;

/** One logical host turn driven through any handoffs: one assembled turn per hop, in order. */
export const followedTurnSchema = z.object({
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
