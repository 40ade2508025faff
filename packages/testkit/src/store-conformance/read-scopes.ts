import type { SessionStore } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { expectLashError, expectUnsupportedReadScope, nodeIdsOf, rejectionOf, sortedLedger } from "./expectations.js";
import {
  appendDelta,
  messageNode,
  replaceFullDelta,
  sessionCommit,
  turnCommit,
  turnNodeIds,
  turnNodes,
  unchangedDelta,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/**
 * A session with a branch: turn t1 (4 nodes), then turn t2 under t1's answer (the head's path), and
 * a branch `b1 ← b2` under t1's user message. Head revision 3, leaf = t2's answer.
 */
async function branchedSession(store: SessionStore): Promise<void> {
  const t1 = turnNodeIds("t1");
  await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
  await store.commit(
    sessionCommit({
      sessionId: "s1",
      commitId: "branch",
      expectedHeadRevision: 1,
      graph: appendDelta(
        [messageNode("b1", { parentNodeId: t1.user, role: "assistant" }), messageNode("b2", { parentNodeId: "b1" })],
        t1.answer,
      ),
    }),
  );
  await store.commit(turnCommit({ sessionId: "s1", turnKey: "t2", expectedHeadRevision: 2, parentNodeId: t1.answer, turnIndex: 2 }));
}

const fullOrder = [...turnNodes("t1").map((node) => node.nodeId), "b1", "b2", ...turnNodes("t2").map((node) => node.nodeId)];

/** What `loadSession` returns for each scope, and `loadNode`. */
export const describeReadScopes: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("read scopes and loads", () => {
    const context = useBackend(harness);

    it("full_graph returns every live node in insertion order, branches included, with the head's leaf", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      const read = await store.loadSession({ type: "full_graph" });
      expect(nodeIdsOf(read)).toEqual(fullOrder);
      expect(read?.graph.leafNodeId).toBe(turnNodeIds("t2").answer);
      expect(read?.graph.nodes[4]).toEqual(messageNode("b1", { parentNodeId: turnNodeIds("t1").user, role: "assistant" }));
    });

    it("loadNode returns nodes on and off the active path, and undefined for an unknown id", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      expect(await store.loadNode("b2")).toEqual(messageNode("b2", { parentNodeId: "b1" }));
      expect(await store.loadNode(turnNodeIds("t2").tool)).toEqual(turnNodes("t2", turnNodeIds("t1").answer)[2]);
      expect(await store.loadNode("no-such-node")).toBeUndefined();
    });

    it("changing a loaded session or node does not change what is stored", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const read = await store.loadSession({ type: "full_graph" });
      if (read === undefined) throw new Error("expected the session to load");
      const pristine = structuredClone(read);
      read.graph.nodes.pop();
      const first = read.graph.nodes[0];
      if (first?.payload.kind === "message") first.payload.message.parts = [];
      const firstEntry = read.tokenLedger[0];
      if (firstEntry !== undefined) firstEntry.usage.inputTokens = 123_456;
      read.config.model = "changed";
      if (read.checkpoint !== undefined) read.checkpoint.turnState.turnIndex = 99;
      const node = await store.loadNode(turnNodeIds("t1").user);
      if (node !== undefined) node.nodeId = "changed";
      expect(await store.loadSession({ type: "full_graph" })).toEqual(pristine);
      expect(await store.loadNode(turnNodeIds("t1").user)).toEqual(turnNodes("t1")[0]);
    });

    it("changing a commit object after it was committed does not change what is stored", async () => {
      const store = await context.open("s1");
      const commit = turnCommit({ sessionId: "s1", turnKey: "t1" });
      const pristine = structuredClone(commit);
      await store.commit(commit);
      if (commit.graph.type === "append") commit.graph.nodes.length = 1;
      const entry = commit.usageDeltas[0];
      if (entry !== undefined) entry.usage.outputTokens = 7_777;
      commit.config.model = "changed";
      commit.checkpoint.turnState.turnIndex = 42;
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.graph.nodes).toEqual(turnNodes("t1"));
      expect(read?.config).toEqual(pristine.config);
      expect(read?.checkpoint).toEqual(pristine.checkpoint);
      expect(sortedLedger(read?.tokenLedger ?? [])).toEqual(pristine.usageDeltas);
    });

    if (!context.capabilities.activePathScope) {
      it("active_path is declared unsupported (capabilities.activePathScope is false): loadSession({ type: 'active_path' }) throws UnsupportedReadScopeError, with or without a leaf, and full_graph still loads", async () => {
        const store = await context.open("s1");
        await branchedSession(store);
        expectUnsupportedReadScope(await rejectionOf(store.loadSession({ type: "active_path" })));
        expectUnsupportedReadScope(await rejectionOf(store.loadSession({ type: "active_path", leafNodeId: "b2" })));
        expect(nodeIdsOf(await store.loadSession({ type: "full_graph" }))).toEqual(fullOrder);
      });
      return;
    }

    it("active_path without a leaf returns the path from the root to the head's leaf, root first", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      const read = await store.loadSession({ type: "active_path" });
      expect(read?.graph).toEqual({
        nodes: [...turnNodes("t1"), ...turnNodes("t2", turnNodeIds("t1").answer)],
        leafNodeId: turnNodeIds("t2").answer,
      });
    });

    it("active_path with a leafNodeId returns the path to that leaf (here an off-path branch) and names that leaf", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      const read = await store.loadSession({ type: "active_path", leafNodeId: "b2" });
      expect(nodeIdsOf(read)).toEqual([turnNodeIds("t1").user, "b1", "b2"]);
      expect(read?.graph.leafNodeId).toBe("b2");
      expect(read?.headRevision).toBe(3);
    });

    it("both scopes report the same session id, head revision, config, checkpoint and ledger", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      const full = await store.loadSession({ type: "full_graph" });
      const active = await store.loadSession({ type: "active_path" });
      expect(active?.sessionId).toBe(full?.sessionId);
      expect(active?.headRevision).toBe(full?.headRevision);
      expect(active?.config).toEqual(full?.config);
      expect(active?.checkpoint).toEqual(full?.checkpoint);
      expect(sortedLedger(active?.tokenLedger ?? [])).toEqual(sortedLedger(full?.tokenLedger ?? []));
    });

    it("active_path for a leaf that is not a node throws a LashError, never an empty graph", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      expectLashError(await rejectionOf(store.loadSession({ type: "active_path", leafNodeId: "no-such-node" })));
    });

    it("active_path for a tombstoned leaf throws a LashError too", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      await store.tombstoneNodes(["b2"]);
      expectLashError(await rejectionOf(store.loadSession({ type: "active_path", leafNodeId: "b2" })));
    });

    it("active_path of a session whose head has no leaf is an empty graph (no leaf to walk from, not a missing one)", async () => {
      const store = await context.open("s1");
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", graph: replaceFullDelta([messageNode("loose")], null) }));
      const read = await store.loadSession({ type: "active_path" });
      expect(read?.graph.nodes).toEqual([]);
      expect(read?.graph.leafNodeId).toBeUndefined();
      expect(nodeIdsOf(await store.loadSession({ type: "full_graph" }))).toEqual(["loose"]);
    });

    it("active_path follows a leaf moved by an unchanged delta", async () => {
      const store = await context.open("s1");
      await branchedSession(store);
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "to-branch", expectedHeadRevision: 3, graph: unchangedDelta("b2") }));
      const read = await store.loadSession({ type: "active_path" });
      expect(nodeIdsOf(read)).toEqual([turnNodeIds("t1").user, "b1", "b2"]);
      expect(read?.graph.leafNodeId).toBe("b2");
    });

    it("a session that was never committed loads as undefined with active_path too", async () => {
      const store = await context.open("nothing-here");
      expect(await store.loadSession({ type: "active_path" })).toBeUndefined();
    });
  });
};
