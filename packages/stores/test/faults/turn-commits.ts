import type { SessionCommit, SessionNodeRecord, SessionStore, TokenUsage } from "@lash/protocol";
import { HeadRevisionConflictError } from "@lash/protocol";

/** The usage every scripted turn records, so the ledger of N turns is N times this. */
export const TURN_USAGE: TokenUsage = { inputTokens: 120, outputTokens: 30, cachedInputTokens: 40, reasoningTokens: 5 };

/** Nodes a turn appends: user message, assistant tool call, tool invocation, assistant answer. */
export const NODES_PER_TURN = 4;

/**
 * A final turn commit as the runtime writes it: four nodes appended under the current leaf, the turn
 * counters, and the turn's usage. `writer` tags node ids so concurrent writers never collide.
 */
export function turnCommit(options: {
  readonly sessionId: string;
  readonly writer: string;
  readonly turn: number;
  readonly expectedHeadRevision: number | undefined;
  readonly parentNodeId: string | undefined;
  /** ADR 0030: how durable the commit must be (absent: `turn`). */
  readonly durability?: SessionCommit["durability"];
}): SessionCommit {
  const { sessionId, writer, turn, parentNodeId } = options;
  const prefix = `${writer}-t${turn}`;
  const timestamp = new Date(Date.UTC(2026, 10, 1, 0, 0, turn % 60)).toISOString();
  const user: SessionNodeRecord = {
    nodeId: `${prefix}-user`,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp,
    payload: {
      kind: "message",
      message: {
        id: `${prefix}-user`,
        role: "user",
        parts: [{ kind: "text", id: `${prefix}-user.p0`, content: `question ${turn} from ${writer}` }],
      },
    },
  };
  const call: SessionNodeRecord = {
    nodeId: `${prefix}-call`,
    parentNodeId: user.nodeId,
    timestamp,
    payload: {
      kind: "message",
      message: {
        id: `${prefix}-call`,
        role: "assistant",
        parts: [{ kind: "tool_call", id: `${prefix}-call.p0`, callId: `${prefix}-c1`, toolName: "add", inputJson: '{"a":1,"b":2}' }],
      },
    },
  };
  const tool: SessionNodeRecord = {
    nodeId: `tool:${prefix}-c1`,
    parentNodeId: call.nodeId,
    timestamp,
    payload: {
      kind: "tool_invocation",
      stableKey: `${prefix}-c1`,
      record: {
        callId: `${prefix}-c1`,
        tool: "add",
        args: { a: 1, b: 2 },
        output: { outcome: { status: "success", payload: 3 } },
        durationMs: 1,
      },
    },
  };
  const answer: SessionNodeRecord = {
    nodeId: `${prefix}-answer`,
    parentNodeId: tool.nodeId,
    timestamp,
    payload: {
      kind: "message",
      message: {
        id: `${prefix}-answer`,
        role: "assistant",
        parts: [{ kind: "prose", id: `${prefix}-answer.p0`, content: `the answer is 3 (turn ${turn})` }],
      },
    },
  };
  return {
    sessionId,
    expectedHeadRevision: options.expectedHeadRevision,
    commitId: `${prefix}:final`,
    config: { providerId: "scripted", model: "scripted-model", contextWindow: 200_000, executionMode: "standard" },
    graph: { type: "append", nodes: [user, call, tool, answer], leafNodeId: answer.nodeId },
    checkpoint: { schemaVersion: 1, turnState: { turnIndex: turn, tokenUsage: TURN_USAGE } },
    usageDeltas: [{ source: "turn", model: "scripted-model", usage: TURN_USAGE }],
    ...(options.durability === undefined ? {} : { durability: options.durability }),
  };
}

/**
 * Commits one turn on top of whatever the head is now, rebasing on a conflict (another writer moved
 * the head): the way a runtime that refreshes from the store behaves. Returns the landed revision
 * and how many conflicts it met. Even turns are written at the `checkpoint` level (ADR 0030), so
 * kills and races meet both kinds of commit.
 */
export async function commitTurnRebasing(
  store: SessionStore,
  sessionId: string,
  writer: string,
  turn: number,
): Promise<{ headRevision: number; conflicts: number }> {
  let conflicts = 0;
  for (;;) {
    const read = await store.loadSession({ type: "full_graph" });
    const commit = turnCommit({
      sessionId,
      writer,
      turn,
      expectedHeadRevision: read?.headRevision,
      parentNodeId: read?.graph.leafNodeId,
      ...(turn % 2 === 0 ? { durability: "checkpoint" as const } : {}),
    });
    try {
      const result = await store.commit(commit);
      return { headRevision: result.headRevision, conflicts };
    } catch (error) {
      if (!HeadRevisionConflictError.isInstance(error)) throw error;
      conflicts += 1;
    }
  }
}
