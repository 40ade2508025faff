import type { ApprovalRequest, AssembledTurn, BackgroundTaskOutcome, BackgroundTaskRecord, JsonValue } from "@lash/protocol";

/** What `await_agent` and `list_agents` tell the model about one subagent. */
export interface SubagentReport {
  readonly [key: string]: JsonValue;
}

/** Thrown by a subagent's work when its child turn did not finish (the task then fails or is cancelled). */
export class SubagentTurnStoppedError extends Error {
  constructor(stop: string) {
    super(`the subagent's turn stopped: ${stop}`);
    this.name = "SubagentTurnStoppedError";
  }
}

/** The child's answer as JSON: its text, or the value a tool or the mode submitted. */
function answerOf(turn: AssembledTurn): JsonValue {
  const { outcome } = turn;
  if (outcome.type === "finished" && outcome.finish.type !== "assistant_message") return outcome.finish.value;
  return turn.assistantOutput.safeText;
}

/**
 * The task outcome of a child turn: finished or handed off → the answer (`value.output`, and a
 * shortened `summary`); any stop → `SubagentTurnStoppedError` (a cancelled task records its reason).
 */
export function subagentOutcome(turn: AssembledTurn, summaryLength: number): BackgroundTaskOutcome {
  if (turn.outcome.type === "stopped") throw new SubagentTurnStoppedError(turn.outcome.stop.type);
  const output = answerOf(turn);
  const text = typeof output === "string" ? output : JSON.stringify(output);
  return { summary: text.length > summaryLength ? `${text.slice(0, summaryLength)}…` : text, value: { output } };
}

/** The model-facing report of a subagent task. */
export function subagentReport(record: BackgroundTaskRecord): SubagentReport {
  const value = record.result?.value;
  const output = typeof value === "object" && value !== null && !Array.isArray(value) ? value.output : undefined;
  return {
    agent_id: record.childSessionId ?? record.id,
    state: record.state,
    ...(output === undefined ? {} : { output }),
    ...(record.failure?.summary === undefined ? {} : { error: record.failure.summary }),
  };
}

/** The requests a child turn waits on, when it ended `awaiting_approval`; undefined otherwise. */
export function awaitingApprovals(turn: AssembledTurn): readonly ApprovalRequest[] | undefined {
  const { outcome } = turn;
  return outcome.type === "stopped" && outcome.stop.type === "awaiting_approval" ? outcome.stop.approvals : undefined;
}

/** The model-facing report of a subagent that waits for a person to approve some of its calls. */
export function waitingReport(agentId: string, approvals: readonly ApprovalRequest[]): SubagentReport {
  return {
    agent_id: agentId,
    state: "waiting",
    awaiting_approval: approvals.map((request) => ({
      id: request.id,
      tool: request.tool,
      ...(request.summary === undefined ? {} : { summary: request.summary }),
    })),
  };
}
