import type { ApprovalRequest, SessionEvent, ToolCallRecord } from "@lash/protocol";
import type { CompletedToolCall, PendingApprovalCall, PendingToolCall } from "../modes/execution-mode.js";

/*
 * The tool batch of a turn that suspends for approval decisions, as the turn machine sees it. The
 * machine records the calls that finished, keeps the rest, and ends the turn `awaiting_approval`;
 * a resumed machine starts from the same batch with the decided calls, runs the approved ones and
 * gives the model every result of the batch, in call order, in one message.
 */

/** A call of the batch with its result, by position in the batch. */
export interface IndexedResult {
  readonly index: number;
  readonly completed: CompletedToolCall;
}

/** What a machine that suspended leaves behind (the runtime stores it with the session). */
export interface MachineSuspension {
  /** Every call of the batch, skipped ones included. */
  readonly calls: readonly PendingToolCall[];
  /** The calls that have their result (ran, failed, refused, skipped); recorded in the session already. */
  readonly results: readonly IndexedResult[];
  /** The calls that wait for a decision. */
  readonly pending: readonly PendingApprovalCall[];
  /** Calls nested inside container tools that ran in the batch. */
  readonly nestedCallsRun: number;
  /** The batch went past `maxToolCalls`: the turn stops once the batch is answered. */
  readonly budgetExhausted: boolean;
}

/** The counters a resumed machine starts from (those of the machine that suspended). */
export interface ResumedCounters {
  readonly modeIteration: number;
  readonly modeRunOffset: number;
  readonly modelCalls: number;
  readonly toolCallsExecuted: number;
  readonly nextEffectId: number;
}

/** The batch a resumed machine finishes first. */
export interface ResumedBatch {
  readonly calls: readonly PendingToolCall[];
  /** Results recorded before the suspension. */
  readonly recorded: readonly IndexedResult[];
  /** Results decided at the resume without running (rejected or expired calls): not recorded yet. */
  readonly resolved: readonly IndexedResult[];
  /** The approved calls, which the resumed machine runs first. */
  readonly toRun: readonly { readonly index: number; readonly call: PendingToolCall }[];
  readonly budgetExhausted: boolean;
}

/**
 * The `tool_call_completed` session event of a call's record (modes that run calls themselves, such
 * as a code mode's calls from a cell, emit it the same way).
 */
export function toolCallCompletedEvent(record: ToolCallRecord): SessionEvent {
  const event: SessionEvent = {
    type: "tool_call_completed",
    name: record.tool,
    args: record.args,
    output: record.output,
    durationMs: record.durationMs,
  };
  if (record.callId !== undefined) event.callId = record.callId;
  if (record.approval !== undefined) event.approval = record.approval;
  return event;
}

/**
 * Places the results that finished in a batch with pending calls: the finished ones fill the
 * positions the pending calls leave, in order.
 */
export function indexFinishedResults(
  runnable: number,
  finished: readonly CompletedToolCall[],
  pending: readonly PendingApprovalCall[],
): IndexedResult[] {
  const waiting = new Set(pending.map((call) => call.index));
  const indexed: IndexedResult[] = [];
  let next = 0;
  for (let index = 0; index < runnable; index += 1) {
    if (waiting.has(index)) continue;
    const completed = finished[next];
    next += 1;
    if (completed !== undefined) indexed.push({ index, completed });
  }
  return indexed;
}

/** The open requests of a suspension, in call order. */
export function pendingRequests(pending: readonly PendingApprovalCall[]): ApprovalRequest[] {
  return [...pending].sort((left, right) => left.index - right.index).map((call) => call.request);
}

/** Every result of a batch, in call order. */
export function inCallOrder(results: readonly IndexedResult[]): CompletedToolCall[] {
  return [...results].sort((left, right) => left.index - right.index).map((result) => result.completed);
}

/** The suspension of a batch whose `pending` calls wait; `skipped` are the calls past the tool-call budget. */
export function suspendBatch(
  calls: readonly PendingToolCall[],
  skipped: readonly IndexedResult[],
  finished: readonly CompletedToolCall[],
  nested: { readonly run: number; readonly refused: number },
  pending: readonly PendingApprovalCall[],
): MachineSuspension {
  const runnable = calls.length - skipped.length;
  return {
    calls,
    results: [...indexFinishedResults(runnable, finished, pending), ...skipped],
    pending,
    nestedCallsRun: nested.run,
    budgetExhausted: skipped.length > 0 || nested.refused > 0,
  };
}

/**
 * A resumed batch with the results of its approved calls (in the order they ran): `fresh` are the
 * results this run adds to the session (decided and ran), `all` every result of the batch.
 */
export function mergeResumedBatch(
  batch: ResumedBatch,
  ranResults: readonly CompletedToolCall[],
): { readonly fresh: CompletedToolCall[]; readonly all: CompletedToolCall[] } {
  const ran: IndexedResult[] = [];
  batch.toRun.forEach((entry, position) => {
    const completed = ranResults[position];
    if (completed !== undefined) ran.push({ index: entry.index, completed });
  });
  return { fresh: inCallOrder([...batch.resolved, ...ran]), all: inCallOrder([...batch.recorded, ...batch.resolved, ...ran]) };
}
