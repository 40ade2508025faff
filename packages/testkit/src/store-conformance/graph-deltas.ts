import type { GraphCommitDelta, SessionCommit, SessionStore } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { applied, expectInvalidArgument, expectLashError, nodeIdsOf, observeSession, rejectionOf } from "./expectations.js";
import {
  appendDelta,
  checkpoint,
  ledgerEntry,
  messageChain,
  messageNode,
  replaceFullDelta,
  sessionCommit,
  sessionConfig,
  turnCommit,
  turnNodeIds,
  turnNodes,
  unchangedDelta,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

const t1 = turnNodeIds("t1");
const t1Order = turnNodes("t1").map((node) => node.nodeId);

/** A session at head revision 1 holding turn t1 (leaf = its answer). */
async function oneTurn(store: SessionStore): Promise<void> {
  await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
}

/** The second commit of `oneTurn`'s session, carrying usage and a new checkpoint and config, so a rejection shows they were not written. */
function secondCommit(graph: GraphCommitDelta): SessionCommit {
  return sessionCommit({
    sessionId: "s1",
    commitId: "c2",
    expectedHeadRevision: 1,
    graph,
    usageDeltas: [ledgerEntry("turn", usage(500, 500, 500, 500))],
    checkpoint: checkpoint({ turnIndex: 2, withSnapshots: true }),
    config: sessionConfig({ model: "rejected-model" }),
  });
}

/** `append`, `unchanged` and `replace_full`, and the leaf and duplicate-id rules (contract rules 4 and 5). */
export const describeGraphDeltas: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("graph deltas", () => {
    const context = useBackend(harness);

    /** Commits `graph` as the second commit and checks it was rejected (with `invalid_argument` unless told otherwise) and wrote nothing. */
    async function expectRejectedDelta(
      store: SessionStore,
      graph: GraphCommitDelta,
      probeNodeIds: string[],
      expected: "invalid_argument" | "some LashError" = "invalid_argument",
    ): Promise<void> {
      const before = await observeSession(store, context.capabilities.activePathScope, probeNodeIds);
      const error = await rejectionOf(store.commit(secondCommit(graph)));
      if (expected === "invalid_argument") expectInvalidArgument(error);
      else expectLashError(error);
      expect(await observeSession(store, context.capabilities.activePathScope, probeNodeIds)).toEqual(before);
    }

    describe("append", () => {
      it("append adds the nodes after the existing ones, in order, and moves the leaf to the delta's leaf", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: appendDelta(messageChain("x", 3, t1.answer)) }),
        );
        const read = await store.loadSession({ type: "full_graph" });
        expect(nodeIdsOf(read)).toEqual([...t1Order, "x-0", "x-1", "x-2"]);
        expect(read?.graph.leafNodeId).toBe("x-2");
      });

      it("append without a leaf keeps the head's leaf", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c2",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("side", { parentNodeId: t1.user })], null),
          }),
        );
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.graph.leafNodeId).toBe(t1.answer);
        expect(await store.loadNode("side")).toEqual(messageNode("side", { parentNodeId: t1.user }));
      });

      it("append may set the leaf to a node that already existed and is live", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c2",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("side", { parentNodeId: t1.user })], t1.call),
          }),
        );
        expect((await store.loadSession({ type: "full_graph" }))?.graph.leafNodeId).toBe(t1.call);
      });

      it("append whose leaf is not a live node after the delta is rejected with invalid_argument and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await expectRejectedDelta(store, appendDelta([messageNode("n1", { parentNodeId: t1.answer })], "no-such-node"), ["n1"]);
      });

      it("append of an existing node id is rejected with invalid_argument and writes nothing (nodes, usage, checkpoint, config, revision)", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await expectRejectedDelta(
          store,
          appendDelta([
            messageNode("n1", { parentNodeId: t1.answer }),
            messageNode(t1.call, { parentNodeId: "n1", text: "a second node with an old id" }),
          ]),
          ["n1"],
        );
        expect(await store.loadNode(t1.call)).toEqual(turnNodes("t1")[1]);
      });

      it("append of the same new id twice in one delta is rejected with invalid_argument and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await expectRejectedDelta(
          store,
          appendDelta([
            messageNode("twice", { parentNodeId: t1.answer }),
            messageNode("twice", { parentNodeId: t1.answer, text: "again" }),
          ]),
          ["twice"],
        );
      });

      it("append of a tombstoned node's id is rejected with invalid_argument and writes nothing (the id stays taken until vacuum)", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c-side",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("side", { parentNodeId: t1.user })], null),
          }),
        );
        await store.tombstoneNodes(["side"]);
        const before = await observeSession(store, context.capabilities.activePathScope, ["side"]);
        const error = await rejectionOf(
          store.commit({
            ...secondCommit(appendDelta([messageNode("side", { parentNodeId: t1.answer })])),
            commitId: "c3",
            expectedHeadRevision: 2,
          }),
        );
        expectInvalidArgument(error);
        expect(await observeSession(store, context.capabilities.activePathScope, ["side"])).toEqual(before);
      });

      it("the first commit of a session may append without a leaf: the session then has nodes and no leaf", async () => {
        const store = await context.open("s1");
        await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", graph: appendDelta(messageChain("m", 2), null) }));
        const read = await store.loadSession({ type: "full_graph" });
        expect(nodeIdsOf(read)).toEqual(["m-0", "m-1"]);
        expect(read?.graph.leafNodeId).toBeUndefined();
      });
    });

    describe("unchanged", () => {
      it("unchanged with a leaf moves the leaf and keeps every node", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        expect(
          await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: unchangedDelta(t1.user) })),
        ).toEqual(applied("c2", 2));
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.graph).toEqual({ nodes: turnNodes("t1"), leafNodeId: t1.user });
      });

      it("unchanged without a leaf keeps the head's leaf and every node, and still writes its checkpoint and config", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        const commit = sessionCommit({
          sessionId: "s1",
          commitId: "c2",
          expectedHeadRevision: 1,
          graph: unchangedDelta(),
          checkpoint: checkpoint({ turnIndex: 9 }),
          config: sessionConfig({ model: "next-model" }),
        });
        await store.commit(commit);
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.graph).toEqual({ nodes: turnNodes("t1"), leafNodeId: t1.answer });
        expect(read?.checkpoint).toEqual(commit.checkpoint);
        expect(read?.config).toEqual(commit.config);
      });

      it("unchanged with a leaf that is not a node is rejected with invalid_argument and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await expectRejectedDelta(store, unchangedDelta("no-such-node"), []);
      });

      it("unchanged with a tombstoned leaf is rejected with invalid_argument and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c-side",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("side", { parentNodeId: t1.user })], null),
          }),
        );
        await store.tombstoneNodes(["side"]);
        const before = await observeSession(store, context.capabilities.activePathScope, ["side"]);
        expectInvalidArgument(
          await rejectionOf(store.commit({ ...secondCommit(unchangedDelta("side")), commitId: "c3", expectedHeadRevision: 2 })),
        );
        expect(await observeSession(store, context.capabilities.activePathScope, ["side"])).toEqual(before);
      });
    });

    describe("replace_full", () => {
      it("replace_full replaces every node of the session with the given graph and takes its leaf", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        const replacement = messageChain("r", 3);
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: replaceFullDelta(replacement, "r-1") }),
        );
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.graph).toEqual({ nodes: replacement, leafNodeId: "r-1" });
        for (const nodeId of t1Order) expect(await store.loadNode(nodeId)).toBeUndefined();
      });

      it("replace_full may reuse the ids of the nodes it replaces, with new content", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        const rewritten = [
          messageNode(t1.user, { text: "rewritten question" }),
          messageNode(t1.answer, { parentNodeId: t1.user, role: "assistant", text: "rewritten answer" }),
        ];
        await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: replaceFullDelta(rewritten) }));
        expect((await store.loadSession({ type: "full_graph" }))?.graph).toEqual({ nodes: rewritten, leafNodeId: t1.answer });
        expect(await store.loadNode(t1.answer)).toEqual(rewritten[1]);
        expect(await store.loadNode(t1.call)).toBeUndefined();
      });

      it("replace_full without a leaf leaves the head without a leaf", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: replaceFullDelta(messageChain("r", 2), null) }),
        );
        const read = await store.loadSession({ type: "full_graph" });
        expect(nodeIdsOf(read)).toEqual(["r-0", "r-1"]);
        expect(read?.graph.leafNodeId).toBeUndefined();
      });

      it("replace_full with an empty graph leaves a session that still exists, with no nodes", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: replaceFullDelta([], null) }));
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.headRevision).toBe(2);
        expect(read?.graph.nodes).toEqual([]);
        expect(await store.loadNode(t1.user)).toBeUndefined();
      });

      it("replace_full removes tombstoned nodes too (it replaces every node), so their ids may be used again", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c-side",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("side", { parentNodeId: t1.user })], null),
          }),
        );
        await store.tombstoneNodes(["side"]);
        const replacement = [messageNode("root"), messageNode("side", { parentNodeId: "root", text: "a new node with a tombstoned id" })];
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 2, graph: replaceFullDelta(replacement) }),
        );
        expect((await store.loadSession({ type: "full_graph" }))?.graph).toEqual({ nodes: replacement, leafNodeId: "side" });
        expect(await store.loadNode("side")).toEqual(replacement[1]);
        expect(await store.vacuum()).toEqual({ removedNodeCount: 0 });
      });

      it("replace_full whose leaf is not one of its nodes is rejected with invalid_argument and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        // The leaf names a node that exists now but would not after the replacement.
        await expectRejectedDelta(store, replaceFullDelta(messageChain("r", 2), t1.answer), ["r-0", "r-1"]);
      });

      it("replace_full with the same id twice is rejected with a LashError and writes nothing", async () => {
        const store = await context.open("s1");
        await oneTurn(store);
        await expectRejectedDelta(
          store,
          replaceFullDelta([messageNode("dup"), messageNode("dup", { text: "again" })]),
          ["dup"],
          "some LashError",
        );
      });
    });
  });
};
