import { z } from "zod";
import { approvalRequestSchema } from "./approvals.js";
import { jsonValueSchema } from "./json.js";

// Its own module because the session graph records stopped turns and `turn.ts` depends on the
// graph (through the session state): keeping the stop here avoids an import cycle.

/** Which loop budget ran out (see `TerminationPolicy`). */
export const turnBudgetSchema = z.enum(["tokens", "tool_calls", "wall_time"]);
export type TurnBudget = z.infer<typeof turnBudgetSchema>;

/**
 * Why a turn stopped without a normal finish. Every stop is an expected value, never an exception;
 * the partial output and the usage of a stopped turn are still committed. `cancelled` (the host's
 * signal), `incomplete` (the model hit its output limit), `invalid_input`, `max_turns`
 * (`maxModelCalls`), `tool_failure`, `provider_error`, `plugin_abort`, `runtime_error`, and the
 * variants with data below (`awaiting_approval` is the one stop a later `resumeTurn` continues).
 */
export const turnStopSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancelled") }),
  z.object({ type: z.literal("incomplete") }),
  z.object({ type: z.literal("invalid_input") }),
  /** The turn asked for structured output and the final answer did not match its schema, repairs included. */
  z.object({ type: z.literal("invalid_output") }),
  z.object({ type: z.literal("max_turns") }),
  z.object({ type: z.literal("tool_failure") }),
  z.object({ type: z.literal("provider_error") }),
  z.object({ type: z.literal("plugin_abort") }),
  z.object({ type: z.literal("runtime_error") }),
  z.object({
    type: z.literal("submitted_error"),
    /** The error value the turn submitted (a code-running mode). */
    value: jsonValueSchema,
  }),
  z.object({
    type: z.literal("tool_error"),
    /** The tool whose `toolResult.fail` stopped the turn. */
    toolName: z.string(),
    /** The failure it carried. */
    value: jsonValueSchema,
  }),
  z.object({
    type: z.literal("budget_exhausted"),
    /** The budget that ran out. */
    budget: turnBudgetSchema,
  }),
  z.object({
    type: z.literal("stop_condition"),
    /** The `StopCondition.name` whose predicate stopped the turn. */
    name: z.string(),
  }),
  /**
   * Tool calls need approval and nobody decided them in process: the turn committed what it did
   * and waits, durably, for `resumeTurn` with the decisions. `approvals` lists the open requests.
   */
  z.object({
    type: z.literal("awaiting_approval"),
    approvals: z.array(approvalRequestSchema).min(1),
  }),
]);
export type TurnStop = z.infer<typeof turnStopSchema>;
