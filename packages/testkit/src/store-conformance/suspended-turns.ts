import type { SessionCheckpoint, SessionNodeRecord, SuspendedTurn } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { expectHeadRevisionConflict, rejectionOf } from "./expectations.js";
import { appendDelta, checkpoint, ledgerEntry, messageNode, sessionCommit, unchangedDelta, usage } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

const REQUEST = {
  id: "6d0f5b1e-approval-a",
  sessionId: "s1",
  turnId: "turn-1",
  turnIndex: 1,
  callId: "call-a",
  tool: "write_file",
  args: { path: "src/ä.ts", content: "export const answer = 42;\n" },
  summary: "overwrite src/ä.ts (26 bytes)",
  messageId: "t1.call",
  modeIteration: 0,
  requestedAt: "2026-12-07T10:00:00.000Z",
  expiresAt: "2026-12-08T10:00:00.000Z",
};

/** A turn waiting on one of two calls, the other already done: every field a runtime stores. */
function suspendedTurn(decided = false): SuspendedTurn {
  return {
    turnId: "turn-1",
    turnIndex: 1,
    segment: 1,
    suspendedAt: "2026-12-07T10:00:01.000Z",
    selection: { providerId: "openai", model: "gpt-test", modelVariant: "high" },
    termination: { treatMissingDoneAsFailure: true, maxModelCalls: 8, maxWallTimeMs: 60_000 },
    prompt: { contributions: [{ slot: "guidance", priority: 0, content: "Be brief." }], resetSlots: [] },
    machine: {
      modeIteration: 0,
      modeRunOffset: 0,
      modelCalls: 1,
      toolCallsExecuted: 1,
      nextEffectId: 4,
      cumulativeUsage: usage(120, 30, 40, 5),
      elapsedMs: 812.5,
      outputRepairs: 0,
    },
    batch: {
      messageId: "t1.call",
      calls: [
        { callId: "call-read", toolName: "read_file", inputJson: '{"path":"README.md"}', replay: { itemId: "fc_1", opaque: { n: 1 } } },
        { callId: "call-a", toolName: "write_file", inputJson: JSON.stringify(REQUEST.args) },
      ],
      results: [
        {
          index: 0,
          record: {
            callId: "call-read",
            tool: "read_file",
            args: { path: "README.md" },
            output: { outcome: { status: "success", payload: "# lash" } },
            durationMs: 3,
          },
          modelText: "# lash",
        },
      ],
      nestedCallsRun: 0,
      budgetExhausted: false,
    },
    approvals: [
      decided
        ? {
            ...REQUEST,
            index: 1,
            resolution: { decision: "approved", decidedBy: "cli:alice", decidedAt: "2026-12-07T11:00:00.000Z", source: "resume" },
          }
        : { ...REQUEST, index: 1 },
    ],
  };
}

function withSuspension(suspended: SuspendedTurn | undefined): SessionCheckpoint {
  const base = checkpoint({ turnIndex: 1, tokenUsage: usage(120, 30, 40, 5) });
  return suspended === undefined ? base : { ...base, turnState: { ...base.turnState, suspendedTurn: suspended } };
}

/** The `turn_stopped` node a suspension appends after the assistant message with the open calls. */
function stoppedNode(): SessionNodeRecord {
  return {
    nodeId: "t1.stopped",
    parentNodeId: "t1.call",
    timestamp: "2026-12-07T10:00:01.000Z",
    payload: { kind: "turn_stopped", turnId: "turn-1", turnIndex: 1, stop: { type: "awaiting_approval", approvals: [REQUEST] } },
  };
}

/**
 * Turns that wait for approval (ADR 0029): the suspended turn rides in the checkpoint and the
 * `awaiting_approval` stop in the graph. A store that dropped a field it does not know would
 * silently lose the turn, so both must read back exactly, across the decision and clearing commits.
 */
export const describeSuspendedTurns: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("suspended turns", () => {
    const context = useBackend(harness);

    async function suspend(sessionId = "s1") {
      const store = await context.open(sessionId);
      await store.commit(
        sessionCommit({
          sessionId,
          commitId: "turn-1:suspend:1",
          graph: appendDelta(
            [messageNode("t1.user"), messageNode("t1.call", { parentNodeId: "t1.user", role: "assistant" }), stoppedNode()],
            "t1.call",
          ),
          checkpoint: withSuspension(suspendedTurn()),
          usageDeltas: [ledgerEntry("turn", usage(120, 30, 40, 5))],
        }),
      );
      return store;
    }

    it("a suspended turn and its awaiting_approval stop read back exactly, through another store object too", async () => {
      await suspend();
      for (const store of [await context.open("s1"), await context.open("s1")]) {
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.checkpoint?.turnState.suspendedTurn).toEqual(suspendedTurn());
        expect(read?.graph.nodes.find((node) => node.nodeId === "t1.stopped")).toEqual(stoppedNode());
      }
    });

    it("a decision commit (checkpoint only) replaces the suspended turn; a later commit without one clears it", async () => {
      const store = await suspend();
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "turn-1:decide:1",
          expectedHeadRevision: 1,
          graph: unchangedDelta(),
          checkpoint: withSuspension(suspendedTurn(true)),
        }),
      );
      const decided = await store.loadSession({ type: "active_path" });
      expect(decided?.checkpoint?.turnState.suspendedTurn).toEqual(suspendedTurn(true));
      expect(decided?.graph.leafNodeId).toBe("t1.call");
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "turn-1:s2:final",
          expectedHeadRevision: 2,
          graph: appendDelta([messageNode("t1.results", { parentNodeId: "t1.call" })]),
          checkpoint: withSuspension(undefined),
        }),
      );
      const cleared = await (await context.open("s1")).loadSession({ type: "full_graph" });
      expect(cleared?.checkpoint?.turnState.suspendedTurn).toBeUndefined();
      expect(cleared?.tokenLedger).toEqual([ledgerEntry("turn", usage(120, 30, 40, 5))]);
    });

    it("of two decisions expecting the same head, the second is refused and nothing of it is stored", async () => {
      const store = await suspend();
      const decide = (commitId: string, decidedBy: string) => {
        const suspended = suspendedTurn(true);
        const [approval] = suspended.approvals;
        if (approval?.resolution === undefined) throw new Error("fixture has no resolution");
        const approvals = [{ ...approval, resolution: { ...approval.resolution, decidedBy } }];
        return sessionCommit({
          sessionId: "s1",
          commitId,
          expectedHeadRevision: 1,
          checkpoint: withSuspension({ ...suspended, approvals }),
        });
      };
      await store.commit(decide("turn-1:decide:first", "first"));
      expectHeadRevisionConflict(await rejectionOf(store.commit(decide("turn-1:decide:second", "second"))), "s1", 1, 2);
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.checkpoint?.turnState.suspendedTurn?.approvals[0]?.resolution?.decidedBy).toBe("first");
    });
  });
};
