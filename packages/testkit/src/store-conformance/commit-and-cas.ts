import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import {
  applied,
  expectHeadRevisionConflict,
  headRevisionOf,
  listedIds,
  observeSession,
  rejectionOf,
  sortedLedger,
} from "./expectations.js";
import {
  appendDelta,
  checkpoint,
  ledgerEntry,
  messageNode,
  sessionCommit,
  sessionConfig,
  turnCommit,
  turnNodeIds,
  turnNodes,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** Commits land whole, raise the head by one, and compare-and-set is strict both ways. */
export const describeCommitAndCas: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("commit and compare-and-set", () => {
    const context = useBackend(harness);

    it("a session that was never committed loads as undefined, with no head revision and no nodes", async () => {
      const store = await context.open("fresh");
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      if (context.capabilities.activePathScope) expect(await store.loadSession({ type: "active_path" })).toBeUndefined();
      expect(await headRevisionOf(store)).toBeUndefined();
      expect(await store.loadNode("anything")).toBeUndefined();
    });

    it("the first commit names no expected revision and lands at head revision 1", async () => {
      const store = await context.open("s1");
      const result = await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      expect(result).toEqual(applied("t1:final", 1));
      expect(await headRevisionOf(store)).toBe(1);
    });

    it("a commit at either durability level (checkpoint, turn) lands and reads back the same way", async () => {
      const store = await context.open("s1");
      const checkpointLevel = { ...turnCommit({ sessionId: "s1", turnKey: "t1" }), durability: "checkpoint" as const };
      expect(await store.commit(checkpointLevel)).toEqual(applied("t1:final", 1));
      const turnLevel = {
        ...turnCommit({ sessionId: "s1", turnKey: "t2", expectedHeadRevision: 1, parentNodeId: turnNodeIds("t1").answer, turnIndex: 2 }),
        durability: "turn" as const,
      };
      expect(await store.commit(turnLevel)).toEqual(applied("t2:final", 2));
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.graph.nodes.map((node) => node.nodeId)).toEqual([...turnNodes("t1"), ...turnNodes("t2")].map((node) => node.nodeId));
      expect(read?.checkpoint).toEqual(turnLevel.checkpoint);
      expect(sortedLedger(read?.tokenLedger ?? [])).toEqual([ledgerEntry("turn", usage(200, 40, 60, 8))]);
    });

    it("a realistic turn commit (user message, tool call, tool invocation, answer) reads back exactly as written", async () => {
      const store = await context.open("s1");
      const commit = turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(1200, 300, 400, 50) });
      await store.commit(commit);
      const read = await store.loadSession({ type: "full_graph" });
      expect(read).toBeDefined();
      expect(read?.sessionId).toBe("s1");
      expect(read?.headRevision).toBe(1);
      expect(read?.config).toEqual(commit.config);
      expect(read?.checkpoint).toEqual(commit.checkpoint);
      expect(read?.graph).toEqual({ nodes: turnNodes("t1"), leafNodeId: turnNodeIds("t1").answer });
      expect(sortedLedger(read?.tokenLedger ?? [])).toEqual([ledgerEntry("turn", usage(1200, 300, 400, 50))]);
      for (const node of turnNodes("t1")) expect(await store.loadNode(node.nodeId)).toEqual(node);
    });

    it("every commit raises the head revision by exactly one, whatever its delta", async () => {
      const store = await context.open("s1");
      const results = [await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }))];
      results.push(await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1 })));
      results.push(
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 2, graph: appendDelta([messageNode("m3")], null) }),
        ),
      );
      results.push(
        await store.commit(turnCommit({ sessionId: "s1", turnKey: "t4", expectedHeadRevision: 3, parentNodeId: turnNodeIds("t1").answer })),
      );
      expect(results.map((result) => result.headRevision)).toEqual([1, 2, 3, 4]);
      expect(results.every((result) => !result.replayed)).toBe(true);
      expect((await store.loadSession({ type: "full_graph" }))?.headRevision).toBe(4);
    });

    it("loadHeadRevision (optional) is undefined before the first commit and then matches loadSession's headRevision", async () => {
      const store = await context.open("s1");
      if (store.loadHeadRevision === undefined) return;
      expect(await store.loadHeadRevision()).toBeUndefined();
      let parent: string | undefined;
      for (let turn = 1; turn <= 3; turn += 1) {
        await store.commit(
          turnCommit({
            sessionId: "s1",
            turnKey: `t${turn}`,
            ...(turn === 1 ? {} : { expectedHeadRevision: turn - 1 }),
            ...(parent === undefined ? {} : { parentNodeId: parent }),
          }),
        );
        parent = turnNodeIds(`t${turn}`).answer;
        expect(await store.loadHeadRevision()).toBe(turn);
        expect((await store.loadSession({ type: "full_graph" }))?.headRevision).toBe(turn);
      }
    });

    it("a first commit that names revision 0 is rejected with HeadRevisionConflictError { expected: 0, actual: 0 } and writes nothing", async () => {
      const store = await context.open("s1");
      const error = await rejectionOf(store.commit({ ...turnCommit({ sessionId: "s1", turnKey: "t1" }), expectedHeadRevision: 0 }));
      expectHeadRevisionConflict(error, "s1", 0, 0);
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await store.loadNode(turnNodeIds("t1").user)).toBeUndefined();
      expect(await listedIds(store)).toEqual([]);
    });

    it("a commit without an expected revision on an existing session is rejected with { expected: undefined, actual } and writes nothing (no blind writes)", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const before = await observeSession(store, context.capabilities.activePathScope, ["blind"]);
      const error = await rejectionOf(
        store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "blind",
            graph: { type: "replace_full", graph: { nodes: [messageNode("blind")], leafNodeId: "blind" } },
            usageDeltas: [ledgerEntry("turn", usage(5, 5))],
          }),
        ),
      );
      expectHeadRevisionConflict(error, "s1", undefined, 1);
      expect(await observeSession(store, context.capabilities.activePathScope, ["blind"])).toEqual(before);
    });

    it("a stale expected revision is rejected with { expected, actual } and nothing of the commit is written (nodes, usage, checkpoint, config)", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      await store.commit(
        sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, checkpoint: checkpoint({ turnIndex: 2 }) }),
      );
      const probe = Object.values(turnNodeIds("t3"));
      const before = await observeSession(store, context.capabilities.activePathScope, probe);
      const stale = {
        ...turnCommit({
          sessionId: "s1",
          turnKey: "t3",
          expectedHeadRevision: 1,
          parentNodeId: turnNodeIds("t1").answer,
          turnIndex: 3,
          usage: usage(999, 999, 999, 999),
        }),
        config: sessionConfig({ model: "other-model", modelVariant: "fast" }),
      };
      const error = await rejectionOf(store.commit(stale));
      expectHeadRevisionConflict(error, "s1", 1, 2);
      expect(await observeSession(store, context.capabilities.activePathScope, probe)).toEqual(before);
    });

    it("an expected revision ahead of the head is rejected with { expected, actual } and writes nothing", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const before = await observeSession(store, context.capabilities.activePathScope);
      const error = await rejectionOf(
        store.commit(
          sessionCommit({ sessionId: "s1", commitId: "ahead", expectedHeadRevision: 7, usageDeltas: [ledgerEntry("turn", usage(1, 1))] }),
        ),
      );
      expectHeadRevisionConflict(error, "s1", 7, 1);
      expect(await observeSession(store, context.capabilities.activePathScope)).toEqual(before);
    });

    it("compare-and-set is checked before the graph: a stale commit that also appends an existing node id is a HeadRevisionConflictError", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1 }));
      const error = await rejectionOf(
        store.commit(
          sessionCommit({
            sessionId: "s1",
            commitId: "c3",
            expectedHeadRevision: 1,
            graph: appendDelta([messageNode(turnNodeIds("t1").user)]),
          }),
        ),
      );
      expectHeadRevisionConflict(error, "s1", 1, 2);
    });

    it("the latest commit's config and checkpoint replace the earlier ones (nothing is merged)", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const second = sessionCommit({
        sessionId: "s1",
        commitId: "c2",
        expectedHeadRevision: 1,
        config: sessionConfig({ model: "second-model", modelVariant: "thinking", contextWindow: 0, executionMode: "code" }),
        checkpoint: checkpoint({ turnIndex: 2, withSnapshots: true }),
      });
      await store.commit(second);
      let read = await store.loadSession({ type: "full_graph" });
      expect(read?.config).toEqual(second.config);
      expect(read?.checkpoint).toEqual(second.checkpoint);
      const third = sessionCommit({
        sessionId: "s1",
        commitId: "c3",
        expectedHeadRevision: 2,
        config: sessionConfig(),
        checkpoint: checkpoint({ turnIndex: 3 }),
      });
      await store.commit(third);
      read = await store.loadSession({ type: "full_graph" });
      expect(read?.config).toEqual(sessionConfig());
      expect(read?.checkpoint).toEqual(third.checkpoint);
      expect(read?.checkpoint?.executionState).toBeUndefined();
      expect(read?.checkpoint?.pluginSnapshots).toBeUndefined();
    });

    it("a commit without nodes (an unchanged delta) still creates the session: it loads with an empty graph at revision 1", async () => {
      const store = await context.open("s1");
      expect(await store.commit(sessionCommit({ sessionId: "s1", commitId: "empty" }))).toEqual(applied("empty", 1));
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(1);
      expect(read?.graph.nodes).toEqual([]);
      expect(read?.graph.leafNodeId).toBeUndefined();
      expect(read?.tokenLedger).toEqual([]);
    });
  });
};
