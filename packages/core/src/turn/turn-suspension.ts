import type { Message, SuspendedTurn } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { MachineSuspension } from "./suspended-batch.js";
import type { TurnContext } from "./turn-context.js";
import type { TurnMachine } from "./turn-machine.js";

/** `turn_awaiting_approval`: a new turn (or a branch) was asked for while a turn waits for decisions. */
export function awaitingApprovalError(sessionId: string, suspended: SuspendedTurn): LashError {
  const open = suspended.approvals.filter((approval) => approval.resolution === undefined);
  const listed = open.map((approval) => `\`${approval.id}\` (${approval.tool})`).join(", ");
  return new LashError(
    "turn_awaiting_approval",
    `session \`${sessionId}\` has a turn waiting for approval (${listed || "decided, not yet resumed"}): decide with resumeTurn({ decisions }) first`,
  );
}

/** The id of the last assistant message (the one holding a batch's calls); "" when there is none. */
export function lastAssistantMessageId(messages: readonly Message[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === "assistant") return message.id;
  }
  return "";
}

/**
 * Leaves the record of a turn that suspended in the session core, where the turn's next commit
 * (its `suspend` commit) stores it. Only data goes in: the resuming runtime brings the code.
 */
export function recordSuspension(turn: TurnContext, machine: TurnMachine, suspension: MachineSuspension): void {
  const { selection, termination } = turn;
  const { stopWhen: _code, ...limits } = termination;
  const prompt = turn.input.turnContext?.prompt;
  turn.core.suspendedTurn = {
    turnId: turn.turnId,
    turnIndex: turn.turnIndex,
    segment: turn.segment,
    suspendedAt: new Date().toISOString(),
    selection: {
      providerId: selection.provider.providerId,
      model: selection.model,
      ...(selection.modelVariant === undefined ? {} : { modelVariant: selection.modelVariant }),
    },
    termination: limits,
    ...(prompt === undefined ? {} : { prompt }),
    machine: {
      modeIteration: machine.modeIteration,
      modeRunOffset: machine.modeRunOffset,
      modelCalls: machine.modelCalls,
      toolCallsExecuted: machine.toolCallsExecuted,
      nextEffectId: machine.nextEffectId,
      cumulativeUsage: machine.cumulativeUsage,
      elapsedMs: Math.max(0, turn.elapsedMs),
      outputRepairs: turn.outputRepairs,
    },
    batch: {
      messageId: lastAssistantMessageId(machine.messages),
      calls: suspension.calls.map((call) => ({ ...call })),
      results: suspension.results.map(({ index, completed }) => ({ index, record: completed.record, modelText: completed.modelText })),
      nestedCallsRun: suspension.nestedCallsRun,
      budgetExhausted: suspension.budgetExhausted,
    },
    approvals: suspension.pending.map(({ index, request }) => ({ ...request, index })),
  };
  turn.suspended = true;
}
