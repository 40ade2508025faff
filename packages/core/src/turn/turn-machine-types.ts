import type {
  AttachmentRef,
  CheckpointKind,
  JsonValue,
  LlmRequest,
  LlmResponse,
  LlmTerminalReason,
  LlmToolSpec,
  Message,
  SessionEvent,
  TokenUsage,
  ToolCallRecord,
  TurnStop,
} from "@lash/protocol";
import { emptyTokenUsage } from "@lash/protocol";
import type { CheckpointOnEmpty, CompletedToolCall, ExecResult, PendingToolCall } from "../modes/execution-mode.js";
import type { MachineSuspension, ResumedBatch, ResumedCounters } from "./suspended-batch.js";

/**
 * Work the turn machine asks its driver to do. Effects with an `id` expect exactly one response
 * carrying that id; a response with another id is ignored (safe re-delivery).
 */
export type TurnEffect =
  | { readonly type: "emit"; readonly event: SessionEvent }
  | { readonly type: "sync_execution_surface"; readonly id: number; readonly updateMachineConfig: boolean }
  | { readonly type: "llm_call"; readonly id: number; readonly request: LlmRequest; readonly attachmentRefs: readonly AttachmentRef[] }
  /** `nestedCallBudget`: how many calls container tools may run inside this batch (undefined = no limit). */
  | {
      readonly type: "tool_calls";
      readonly id: number;
      readonly calls: readonly PendingToolCall[];
      readonly nestedCallBudget: number | undefined;
    }
  /** Tool calls to record in the session (executed and skipped ones, in call order). */
  | { readonly type: "tool_records"; readonly records: readonly ToolCallRecord[] }
  /** Before a model call: the driver evaluates the limits the machine cannot see (wall time, stop conditions). */
  | { readonly type: "limit_check"; readonly id: number }
  | { readonly type: "exec_code"; readonly id: number; readonly code: string }
  | { readonly type: "checkpoint"; readonly id: number; readonly kind: CheckpointKind }
  /** A resume-safe boundary: the messages so far may be committed. */
  | {
      readonly type: "progress";
      readonly messages: readonly Message[];
      readonly modeEvents: readonly JsonValue[];
      readonly modeIteration: number;
    }
  /** The turn's work is over; `messages` is the final conversation. */
  | {
      readonly type: "done";
      readonly messages: readonly Message[];
      readonly modeEvents: readonly JsonValue[];
      readonly modeIteration: number;
    };

export type TurnEffectType = TurnEffect["type"];

/** Calls that container tools ran or refused (for the budget) inside one tool batch. */
export interface NestedCallCounts {
  readonly run: number;
  readonly refused: number;
}

export const NO_NESTED_CALLS: NestedCallCounts = { run: 0, refused: 0 };

/** A failed model call as the machine records it. */
export interface LlmCallError {
  readonly message: string;
  readonly code?: string;
  readonly terminalReason: LlmTerminalReason;
  readonly retryable: boolean;
  readonly raw?: string;
}

/** The driver's answer to an `llm_call` effect. */
export type LlmCallResult =
  | { readonly ok: true; readonly response: LlmResponse; readonly textStreamed: boolean; readonly reasoningStreamed?: boolean }
  | {
      readonly ok: false;
      readonly error: LlmCallError;
      /**
       * Prose the history keeps although the call failed: what a cancelled call streamed, or a whole
       * answer whose usage could not be counted. Absent for other failures.
       */
      readonly partialText?: string;
      /** Usage that streamed before the failure (never lost). */
      readonly partialUsage?: TokenUsage;
    };

/** The driver's answer to a `checkpoint` effect. */
export type CheckpointResult =
  | { readonly ok: true; readonly committed: readonly Message[]; readonly transient: readonly Message[] }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly abort: boolean;
      /** The layer that failed, for the error envelope (default `plugin`). */
      readonly kind?: string;
      /** How the turn stops (default: `plugin_abort` when `abort`, else `runtime_error`). */
      readonly stop?: TurnStop;
    };

/** The driver's answer to a `sync_execution_surface` effect. */
export type SurfaceSyncResult =
  | { readonly ok: true; readonly systemPrompt?: string; readonly toolSpecs?: readonly LlmToolSpec[] }
  | { readonly ok: false; readonly message: string };

export type { CompletedToolCall, ExecResult };

/** Static configuration of a turn machine. */
export interface TurnMachineConfig {
  readonly sessionId: string;
  readonly model: string;
  readonly modelVariant: string | undefined;
  readonly useTools: boolean;
  readonly syncExecutionSurface: boolean;
  readonly maxModelCalls: number | undefined;
  readonly maxToolCalls: number | undefined;
  readonly maxTotalTokens: number | undefined;
  /**
   * Ask the driver (a `limit_check` effect) before every model call after the first, for limits the
   * machine cannot evaluate itself: wall time and stop conditions.
   */
  readonly checkLimitsBeforeModelCall?: boolean;
}

export type TurnMachinePhase = "preparing" | "prepare_iteration" | "waiting" | "finished";

/** The machine's complete state; JSON-serializable so a durable host can checkpoint a turn. */
export interface TurnMachineSnapshot {
  readonly phase: TurnMachinePhase;
  readonly nextEffectId: number;
  readonly outstanding: TurnEffect | undefined;
  readonly queue: readonly TurnEffect[];
  readonly modeIteration: number;
  readonly modeRunOffset: number;
  readonly messages: readonly Message[];
  readonly modeEvents: readonly JsonValue[];
  readonly reportedModeEvents: number;
  readonly cumulativeUsage: TokenUsage;
  readonly modelCalls: number;
  readonly toolCallsExecuted: number;
  readonly surfaceSyncedIteration: number | undefined;
  readonly systemPrompt: string;
  readonly toolSpecs: readonly LlmToolSpec[];
  readonly checkpointOnEmpty: CheckpointOnEmpty | undefined;
  readonly checkpointKind: CheckpointKind | undefined;
  readonly skippedToolCalls: readonly { readonly index: number; readonly call: PendingToolCall }[];
  readonly lastResponseText: string;
  /** Every call of the current tool batch (absent in snapshots taken before suspension existed). */
  readonly batchCalls?: readonly PendingToolCall[];
  /** What the turn left waiting when it suspended for approval decisions. */
  readonly suspension?: MachineSuspension | undefined;
  /** The batch a resumed turn is finishing. */
  readonly resumedBatch?: ResumedBatch | undefined;
}

/** How a machine starts: a fresh turn, or a suspended one resuming with its counters. */
export interface TurnMachineStart {
  readonly messages: readonly Message[];
  readonly systemPrompt: string;
  readonly toolSpecs: readonly LlmToolSpec[];
  readonly modeRunOffset?: number;
  /** A resumed turn's counters (absent for a fresh turn, which starts from zero). */
  readonly counters?: ResumedCounters;
  /** A resumed turn's usage so far. */
  readonly cumulativeUsage?: TokenUsage;
}

/** The state a machine starts from. */
export function initialSnapshot(start: TurnMachineStart): TurnMachineSnapshot {
  const { counters } = start;
  const modeRunOffset = counters?.modeRunOffset ?? start.modeRunOffset ?? 0;
  return {
    phase: "preparing",
    nextEffectId: counters?.nextEffectId ?? 1,
    outstanding: undefined,
    queue: [],
    modeIteration: counters?.modeIteration ?? modeRunOffset,
    modeRunOffset,
    messages: [...start.messages],
    modeEvents: [],
    reportedModeEvents: 0,
    cumulativeUsage: start.cumulativeUsage ?? emptyTokenUsage(),
    modelCalls: counters?.modelCalls ?? 0,
    toolCallsExecuted: counters?.toolCallsExecuted ?? 0,
    surfaceSyncedIteration: undefined,
    systemPrompt: start.systemPrompt,
    toolSpecs: start.toolSpecs,
    checkpointOnEmpty: undefined,
    checkpointKind: undefined,
    skippedToolCalls: [],
    lastResponseText: "",
  };
}

/**
 * A restored snapshot's array taken over as the machine's own (the machine appends to it): the
 * snapshot handed to the constructor belongs to the machine from then on, so it is not copied.
 */
export function mutable<T>(value: readonly T[]): T[] {
  return value as T[];
}
