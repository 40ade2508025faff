import { z } from "zod";
import { jsonValueSchema } from "./json.js";

// Its own module because the session graph records stopped turns and `turn.ts` depends on the
// graph (through the session state): keeping the stop here avoids an import cycle.

/** Which loop budget ran out (see `TerminationPolicy`). */
export const turnBudgetSchema = z.enum(["tokens", "tool_calls", "wall_time"]);
export type TurnBudget = z.infer<typeof turnBudgetSchema>;

/**
 * Why a turn stopped without a normal finish. Every stop is an expected value, never an exception;
 * the partial output and the usage of a stopped turn are still committed.
 */
export const turnStopSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancelled") }),
  z.object({ type: z.literal("incomplete") }),
  z.object({ type: z.literal("invalid_input") }),
  z.object({ type: z.literal("max_turns") }),
  z.object({ type: z.literal("tool_failure") }),
  z.object({ type: z.literal("provider_error") }),
  z.object({ type: z.literal("plugin_abort") }),
  z.object({ type: z.literal("runtime_error") }),
  z.object({ type: z.literal("submitted_error"), value: jsonValueSchema }),
  z.object({ type: z.literal("tool_error"), toolName: z.string(), value: jsonValueSchema }),
  z.object({ type: z.literal("budget_exhausted"), budget: turnBudgetSchema }),
  z.object({ type: z.literal("stop_condition"), name: z.string() }),
]);
export type TurnStop = z.infer<typeof turnStopSchema>;
