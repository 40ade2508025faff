import { z } from "zod";
import type { ToolCallRecord } from "./tools.js";
import type { TokenUsage } from "./usage.js";

const positiveInt = z.number().int().positive();

/**
 * The serializable part of a turn's termination policy. Every limit is optional (absent = no limit);
 * a limit that fires ends the turn with a typed `stopped` outcome and keeps its partial output and
 * usage:
 * - `maxModelCalls` → `max_turns` (at most this many model calls; tools requested by the last call
 *   still run);
 * - `maxToolCalls` → `budget_exhausted { budget: "tool_calls" }` (calls past the budget are recorded
 *   as cancelled so the history stays valid);
 * - `maxTotalTokens` → `budget_exhausted { budget: "tokens" }` (checked before each model call
 *   against the turn's cumulative `input + output + reasoning`);
 * - `maxWallTimeMs` → `budget_exhausted { budget: "wall_time" }` (aborts in-flight work).
 *
 * `treatMissingDoneAsFailure` (default `true`, also when parsed from `{}`) makes a turn whose
 * event stream ended without a terminal event a `runtime_error`.
 */
export const terminationPolicySchema = z.object({
  /** A turn whose event stream ended without its terminal event is a `runtime_error` (default `true`). */
  treatMissingDoneAsFailure: z.boolean().default(true),
  /** Most model calls in one turn; absent = no limit. */
  maxModelCalls: positiveInt.optional(),
  /** Most tool calls in one turn; absent = no limit. */
  maxToolCalls: positiveInt.optional(),
  /** Most tokens (`input + output + reasoning`) in one turn; absent = no limit. */
  maxTotalTokens: positiveInt.optional(),
  /** Longest a turn may run, in milliseconds; absent = no limit. */
  maxWallTimeMs: positiveInt.optional(),
});

/** What a `stopWhen` predicate sees: the turn so far, checked before each model call after the first. */
export interface TurnProgressSnapshot {
  /** Model calls completed in this turn. */
  readonly modelCalls: number;
  /** Tool calls completed in this turn. */
  readonly toolCalls: number;
  /** Cumulative usage of this turn's model calls. */
  readonly usage: TokenUsage;
  /** Milliseconds since the turn started. */
  readonly elapsedMs: number;
  /** The completed tool calls of this turn, in order. */
  readonly toolCallRecords: readonly ToolCallRecord[];
  /** Text of the latest model response. */
  readonly lastResponseText: string;
}

/**
 * A named stop predicate. When any predicate returns true the turn stops with
 * `stop_condition { name }`. Predicates must not throw; a thrown error stops the turn as a
 * `runtime_error` with the error recorded.
 */
export interface StopCondition {
  /** Reported in `stop_condition { name }`. */
  readonly name: string;
  /** Returns (or resolves to) true to stop the turn. */
  readonly predicate: (progress: TurnProgressSnapshot) => boolean | Promise<boolean>;
}

/** The full termination policy: the serializable limits plus `stopWhen` predicates (OR-ed). */
export type TerminationPolicy = z.infer<typeof terminationPolicySchema> & {
  readonly stopWhen?: readonly StopCondition[];
};

/** The default policy: no limits, missing terminal event treated as failure. */
export function defaultTerminationPolicy(): TerminationPolicy {
  return { treatMissingDoneAsFailure: true };
}
