import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { applied, headRevisionOf, ledgerOf, listAllSessions, listedIds, observeSession } from "./expectations.js";
import {
  appendDelta,
  checkpoint,
  createRequest,
  ledgerEntry,
  messageNode,
  sessionCommit,
  sessionMeta,
  turnCommit,
  turnNodeIds,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** Ids sharing a prefix with `s`, or that a path or LIKE pattern would confuse with it. */
const neighbours = ["s1", "s/1", "s%", "s_", "S", "s ", " s", "s.", "ss"];

/** `deleteSession` removes everything of the bound session, lets the id start over, and touches nothing else. */
export const describeDeletion: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("deleting a session", () => {
    const context = useBackend(harness);

    it("after deleteSession the session is gone: no head, nodes, usage or meta, and it is not listed", async () => {
      const store = await context.open("s");
      await store.saveSessionMeta(sessionMeta("s"));
      await store.commit(turnCommit({ sessionId: "s", turnKey: "t1" }));
      await store.deleteSession();
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      if (context.capabilities.activePathScope) expect(await store.loadSession({ type: "active_path" })).toBeUndefined();
      expect(await headRevisionOf(store)).toBeUndefined();
      expect(await store.loadSessionMeta()).toBeUndefined();
      for (const nodeId of Object.values(turnNodeIds("t1"))) expect(await store.loadNode(nodeId)).toBeUndefined();
      expect(await listedIds(store)).toEqual([]);
    });

    it("a deleted session starts over: a first commit lands at revision 1, and old commit ids, node ids and usage are forgotten", async () => {
      const store = await context.open("s");
      const first = turnCommit({ sessionId: "s", turnKey: "t1", usage: usage(100, 10) });
      await store.commit(first);
      await store.commit(
        sessionCommit({ sessionId: "s", commitId: "c2", expectedHeadRevision: 1, usageDeltas: [ledgerEntry("child", usage(5, 5, 5, 5))] }),
      );
      await store.tombstoneNodes([turnNodeIds("t1").user]);
      await store.deleteSession();
      // The very same first commit is a new commit now, not a replay, and its node ids are free.
      expect(await store.commit(first)).toEqual(applied("t1:final", 1));
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(1);
      expect(read?.graph.nodes).toHaveLength(4);
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(100, 10))]);
      expect(await store.loadSessionMeta()).toBeUndefined();
    });

    it("other sessions are untouched, including ids that share a prefix or look like patterns", async () => {
      for (const sessionId of ["s", ...neighbours]) {
        const store = await context.open(sessionId);
        await store.saveSessionMeta(sessionMeta(sessionId));
        await store.commit(turnCommit({ sessionId, turnKey: "t1" }));
        await store.commit(
          sessionCommit({
            sessionId,
            commitId: "c2",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode("off", { parentNodeId: turnNodeIds("t1").user })], null),
            checkpoint: checkpoint({ turnIndex: 2 }),
          }),
        );
        await store.tombstoneNodes(["off"]);
      }
      const before = await Promise.all(
        neighbours.map(async (sessionId) => observeSession(await context.open(sessionId), context.capabilities.activePathScope, ["off"])),
      );
      await (await context.open("s")).deleteSession();
      const after = await Promise.all(
        neighbours.map(async (sessionId) => observeSession(await context.open(sessionId), context.capabilities.activePathScope, ["off"])),
      );
      expect(after).toEqual(before);
      const remaining = await listAllSessions(await context.open("s1"));
      expect(remaining.map((summary) => summary.sessionId).sort()).toEqual([...neighbours].sort());
      for (const sessionId of neighbours) {
        const store = await context.open(sessionId);
        expect(await store.vacuum()).toEqual({ removedNodeCount: 1 });
        expect((await store.gcUnreachable()).rootCount).toBe(1);
        expect((await store.commit(turnCommit({ sessionId, turnKey: "t1" }))).replayed).toBe(true);
      }
    });

    it("deleting a session that does not exist does nothing, and deleting twice is fine", async () => {
      const kept = await context.open("kept");
      await kept.commit(turnCommit({ sessionId: "kept", turnKey: "t1" }));
      const before = await observeSession(kept, context.capabilities.activePathScope);
      const missing = await context.open("missing");
      await missing.deleteSession();
      await missing.deleteSession();
      const deleted = await context.open("deleted");
      await deleted.commit(turnCommit({ sessionId: "deleted", turnKey: "t1" }));
      await deleted.deleteSession();
      await deleted.deleteSession();
      expect(await observeSession(kept, context.capabilities.activePathScope)).toEqual(before);
      expect(await listedIds(kept)).toEqual(["kept"]);
    });

    it("a meta-only session can be deleted", async () => {
      const store = await context.open("meta-only");
      await store.saveSessionMeta(sessionMeta("meta-only"));
      await store.deleteSession();
      expect(await store.loadSessionMeta()).toBeUndefined();
      expect(await listedIds(store)).toEqual([]);
    });

    it("a deletion through one handle is seen by every other handle on the session, which can start it over", async () => {
      const first = await context.open("s");
      const second = await context.open("s");
      await first.commit(turnCommit({ sessionId: "s", turnKey: "t1" }));
      await second.deleteSession();
      expect(await first.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await first.commit(turnCommit({ sessionId: "s", turnKey: "t2" }))).toEqual(applied("t2:final", 1));
      expect((await second.loadSession({ type: "full_graph" }))?.graph.nodes.map((node) => node.nodeId)).toEqual(
        Object.values(turnNodeIds("t2")),
      );
    });

    it("a deleted session's blobs are gone: gcUnreachable afterwards has nothing to keep or delete", async () => {
      const store = await context.open("s");
      await store.commit(sessionCommit({ sessionId: "s", commitId: "c1", checkpoint: checkpoint({ turnIndex: 1, withSnapshots: true }) }));
      await store.commit(
        sessionCommit({
          sessionId: "s",
          commitId: "c2",
          expectedHeadRevision: 1,
          checkpoint: checkpoint({ turnIndex: 2, withSnapshots: true }),
        }),
      );
      await store.deleteSession();
      expect(await store.gcUnreachable()).toEqual({ rootCount: 0, retainedBlobCount: 0, deletedBlobCount: 0 });
    });

    it("factory.createStore after a deletion writes fresh meta for the id", async () => {
      const factory = context.backend().factory;
      const store = await factory.createStore(createRequest("s", { type: "root" }, "first-model"));
      await store.commit(turnCommit({ sessionId: "s", turnKey: "t1" }));
      await store.deleteSession();
      const again = await factory.createStore(createRequest("s", { type: "root" }, "second-model"));
      expect((await again.loadSessionMeta())?.model).toBe("second-model");
      expect(await again.loadSession({ type: "full_graph" })).toBeUndefined();
    });
  });
};
