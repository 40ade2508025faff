import type { SessionCommit, SessionStore } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { applied, expectInvalidArgument, headRevisionOf, nodeIdsOf, rejectionOf } from "./expectations.js";
import { appendDelta, checkpoint, messageNode, sessionCommit, turnCommit, turnNodeIds, turnNodes } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

const t1 = turnNodeIds("t1");

/** Turn t1 plus three off-path nodes `o1`, `o2`, `o3` under t1's user message; head revision 2, leaf = t1's answer. */
async function withOffPathNodes(store: SessionStore, sessionId = "s1"): Promise<void> {
  await store.commit(turnCommit({ sessionId, turnKey: "t1" }));
  const offPath = ["o1", "o2", "o3"].map((nodeId) => messageNode(nodeId, { parentNodeId: t1.user }));
  await store.commit(sessionCommit({ sessionId, commitId: "off-path", expectedHeadRevision: 1, graph: appendDelta(offPath, null) }));
}

/** Tombstones hide nodes and keep their ids; vacuum deletes them; gc keeps only the head's checkpoint. */
export const describeTombstoneVacuumGc: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("tombstones, vacuum and gc", () => {
    const context = useBackend(harness);

    it("tombstoned nodes vanish from loadNode and full_graph; the other nodes keep their order", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      await store.tombstoneNodes(["o1", "o3"]);
      expect(nodeIdsOf(await store.loadSession({ type: "full_graph" }))).toEqual([...turnNodes("t1").map((node) => node.nodeId), "o2"]);
      expect(await store.loadNode("o1")).toBeUndefined();
      expect(await store.loadNode("o3")).toBeUndefined();
      expect(await store.loadNode("o2")).toEqual(messageNode("o2", { parentNodeId: t1.user }));
    });

    it("tombstoning moves neither the head revision nor the leaf, and leaves the active path as it was", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      const activeBefore = context.capabilities.activePathScope ? await store.loadSession({ type: "active_path" }) : undefined;
      await store.tombstoneNodes(["o1", "o2"]);
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(2);
      expect(read?.graph.leafNodeId).toBe(t1.answer);
      expect(await headRevisionOf(store)).toBe(2);
      if (context.capabilities.activePathScope) expect(await store.loadSession({ type: "active_path" })).toEqual(activeBefore);
    });

    it("unknown ids are ignored, and tombstoning a node twice changes nothing", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      await store.tombstoneNodes(["no-such-node", "o1", "also-missing"]);
      await store.tombstoneNodes(["o1"]);
      await store.tombstoneNodes([]);
      expect(nodeIdsOf(await store.loadSession({ type: "full_graph" }))).toEqual([
        ...turnNodes("t1").map((node) => node.nodeId),
        "o2",
        "o3",
      ]);
      expect(await store.vacuum()).toEqual({ removedNodeCount: 1 });
    });

    it("a tombstoned id stays taken until vacuum; after vacuum it can be appended again", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      await store.tombstoneNodes(["o1"]);
      const reuse = (commitId: string): SessionCommit =>
        sessionCommit({
          sessionId: "s1",
          commitId,
          expectedHeadRevision: 2,
          graph: appendDelta([messageNode("o1", { parentNodeId: t1.answer, text: "reborn" })]),
        });
      expectInvalidArgument(await rejectionOf(store.commit(reuse("reuse-1"))));
      expect(await store.vacuum()).toEqual({ removedNodeCount: 1 });
      expect(await store.commit(reuse("reuse-2"))).toEqual(applied("reuse-2", 3));
      expect(await store.loadNode("o1")).toEqual(messageNode("o1", { parentNodeId: t1.answer, text: "reborn" }));
    });

    it("vacuum reports how many tombstoned nodes it removed; a second vacuum removes none; live nodes stay", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      await store.tombstoneNodes(["o1", "o2", "o3"]);
      const before = await store.loadSession({ type: "full_graph" });
      expect(await store.vacuum()).toEqual({ removedNodeCount: 3 });
      expect(await store.vacuum()).toEqual({ removedNodeCount: 0 });
      expect(await store.loadSession({ type: "full_graph" })).toEqual(before);
    });

    it("vacuum of a session without tombstones, or of a session that does not exist, removes nothing", async () => {
      const store = await context.open("s1");
      await withOffPathNodes(store);
      const before = await store.loadSession({ type: "full_graph" });
      expect(await store.vacuum()).toEqual({ removedNodeCount: 0 });
      expect(await store.loadSession({ type: "full_graph" })).toEqual(before);
      expect(await (await context.open("missing")).vacuum()).toEqual({ removedNodeCount: 0 });
    });

    it("tombstones, vacuum and gc act on the bound session only, even where node ids are shared", async () => {
      const first = await context.open("s1");
      const second = await context.open("s2");
      await withOffPathNodes(first, "s1");
      await withOffPathNodes(second, "s2");
      await first.tombstoneNodes(["o1"]);
      expect(await second.loadNode("o1")).toEqual(messageNode("o1", { parentNodeId: t1.user }));
      expect(await second.vacuum()).toEqual({ removedNodeCount: 0 });
      // s2's vacuum did not free s1's tombstoned id.
      expectInvalidArgument(
        await rejectionOf(
          first.commit(
            sessionCommit({ sessionId: "s1", commitId: "reuse", expectedHeadRevision: 2, graph: appendDelta([messageNode("o1")]) }),
          ),
        ),
      );
      const secondCheckpoint = (await second.loadSession({ type: "full_graph" }))?.checkpoint;
      await first.commit(
        sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 2, checkpoint: checkpoint({ turnIndex: 3 }) }),
      );
      await first.gcUnreachable();
      expect((await second.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(secondCheckpoint);
      expect(await first.vacuum()).toEqual({ removedNodeCount: 1 });
      expect(await second.loadNode("o1")).toBeDefined();
    });

    it("gcUnreachable keeps the head's checkpoint and deletes the older ones; a second run deletes nothing", async () => {
      const store = await context.open("s1");
      const [first, second, third] = [1, 2, 3].map((turnIndex) => checkpoint({ turnIndex, withSnapshots: true }));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", checkpoint: first }));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, checkpoint: second }));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 2, checkpoint: third }));
      const report = await store.gcUnreachable();
      expect(report.rootCount).toBe(1);
      expect(report.retainedBlobCount).toBeGreaterThanOrEqual(1);
      // Each older checkpoint is at least one blob of its own (a store may split a checkpoint into several).
      expect(report.deletedBlobCount).toBeGreaterThanOrEqual(2);
      expect((await store.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(third);
      expect(await store.gcUnreachable()).toEqual({ rootCount: 1, retainedBlobCount: report.retainedBlobCount, deletedBlobCount: 0 });
    });

    it("commits with an identical checkpoint share it (content addressing): gc finds nothing to delete", async () => {
      const store = await context.open("s1");
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", checkpoint: checkpoint({ turnIndex: 4, withSnapshots: true }) }));
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c2",
          expectedHeadRevision: 1,
          checkpoint: checkpoint({ turnIndex: 4, withSnapshots: true }),
        }),
      );
      const report = await store.gcUnreachable();
      expect(report.rootCount).toBe(1);
      expect(report.deletedBlobCount).toBe(0);
    });

    it("gcUnreachable on a session that was never committed reports nothing to do", async () => {
      const store = await context.open("empty");
      expect(await store.gcUnreachable()).toEqual({ rootCount: 0, retainedBlobCount: 0, deletedBlobCount: 0 });
    });

    it("a checkpoint whose blob gc deleted can be committed again and loads back; replays of old commits still return their results", async () => {
      const store = await context.open("s1");
      const early = sessionCommit({ sessionId: "s1", commitId: "c1", checkpoint: checkpoint({ turnIndex: 1, withSnapshots: true }) });
      await store.commit(early);
      await store.commit(
        sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, checkpoint: checkpoint({ turnIndex: 2 }) }),
      );
      await store.gcUnreachable();
      expect(await store.commit(early)).toEqual({ ...applied("c1", 1), replayed: true });
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c3",
          expectedHeadRevision: 2,
          checkpoint: checkpoint({ turnIndex: 1, withSnapshots: true }),
        }),
      );
      expect((await store.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(checkpoint({ turnIndex: 1, withSnapshots: true }));
      expect((await store.gcUnreachable()).rootCount).toBe(1);
      expect((await store.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(checkpoint({ turnIndex: 1, withSnapshots: true }));
    });
  });
};
