import type { TurnMachineSnapshot } from "../turn/turn-machine.js";

/** The kinds of nondeterministic work a turn performs. */
export type EffectKind = "llm_call" | "tool_batch" | "exec_code" | "checkpoint" | "sync_execution_surface" | "limit_check";

/** What an effect host learns about one effect before running it. */
export interface EffectInvocation {
  readonly kind: EffectKind;
  readonly effectId: number;
  /**
   * Stable across redeliveries of the same effect of the same turn:
   * `"{sessionId}:{turnId}:{turnIndex}:{modeIteration}:{kind}:{effectId}"`.
   */
  readonly idempotencyKey: string;
  readonly sessionId: string;
  readonly turnId: string;
  readonly turnIndex: number;
  readonly modeIteration: number;
  /** The turn machine's state before the effect (computed on demand: it copies the conversation). */
  machineSnapshot(): TurnMachineSnapshot;
}

/**
 * The boundary every nondeterministic step of a turn crosses (model calls, tool batches, code cells,
 * checkpoints). The default host runs `execute` directly; a durable host can journal results under
 * the idempotency key and return the recorded result when a crashed turn is replayed. Results are
 * plain JSON-compatible data.
 */
export interface RuntimeEffectHost {
  run<T>(invocation: EffectInvocation, execute: () => Promise<T>): Promise<T>;
}

/** Runs every effect in process, once. */
export const localEffectHost: RuntimeEffectHost = {
  run: (_invocation, execute) => execute(),
};
