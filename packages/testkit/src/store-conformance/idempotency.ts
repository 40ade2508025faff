import type { SessionCommit } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import {
  applied,
  expectCommitIdConflict,
  expectHeadRevisionConflict,
  expectInvalidArgument,
  ledgerOf,
  observeSession,
  rejectionOf,
} from "./expectations.js";
import { appendDelta, checkpoint, ledgerEntry, messageNode, sessionCommit, turnCommit, turnNodeIds, usage } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** Commit ids make commits idempotent: a replay returns the stored result and writes nothing. */
export const describeIdempotency: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("idempotent commit ids", () => {
    const context = useBackend(harness);

    it("re-sending a commit (same id, same content) returns the stored result with replayed: true and writes nothing", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1" });
      const result = await store.commit(first);
      const before = await observeSession(store, context.capabilities.activePathScope);
      expect(await store.commit(structuredClone(first))).toEqual({ ...result, replayed: true });
      expect(await store.commit(structuredClone(first))).toEqual({ ...result, replayed: true });
      expect(await observeSession(store, context.capabilities.activePathScope)).toEqual(before);
    });

    it("a commit re-sent after later commits returns its original result (its own revision), although its expected revision is stale now", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1" });
      const second = turnCommit({
        sessionId: "s1",
        turnKey: "t2",
        expectedHeadRevision: 1,
        parentNodeId: turnNodeIds("t1").answer,
        turnIndex: 2,
      });
      await store.commit(first);
      await store.commit(second);
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 2 }));
      expect(await store.commit(first)).toEqual({ ...applied("t1:final", 1), replayed: true });
      expect(await store.commit(second)).toEqual({ ...applied("t2:final", 2), replayed: true });
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(3);
      expect(read?.graph.nodes).toHaveLength(8);
    });

    it("the same commit id with different content is a CommitIdConflictError { sessionId, commitId } and writes nothing", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const before = await observeSession(store, context.capabilities.activePathScope, ["other-node"]);
      const reused = sessionCommit({
        sessionId: "s1",
        commitId: "t1:final",
        expectedHeadRevision: 1,
        graph: appendDelta([messageNode("other-node")]),
        usageDeltas: [ledgerEntry("turn", usage(7, 7))],
      });
      expectCommitIdConflict(await rejectionOf(store.commit(reused)), "s1", "t1:final");
      expect(await observeSession(store, context.capabilities.activePathScope, ["other-node"])).toEqual(before);
    });

    it("content that differs only in one usage count is different content (a CommitIdConflictError, not a replay)", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(10, 5, 0, 0) });
      await store.commit(first);
      const changed: SessionCommit = { ...first, usageDeltas: [ledgerEntry("turn", usage(10, 5, 0, 1))] };
      expectCommitIdConflict(await rejectionOf(store.commit(changed)), "s1", "t1:final");
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(10, 5, 0, 0))]);
    });

    it("object key order is not content: the same commit with its keys in another order is a replay", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1" });
      await store.commit(first);
      expect((await store.commit(reverseKeysDeep(first))).replayed).toBe(true);
      expect((await store.loadSession({ type: "full_graph" }))?.headRevision).toBe(1);
    });

    it("a field set to undefined is the same content as a missing field (JSON has no undefined)", async () => {
      const store = await context.open("s1");
      const first = sessionCommit({ sessionId: "s1", commitId: "c1", checkpoint: checkpoint() });
      await store.commit(first);
      const withUndefined: SessionCommit = {
        ...first,
        expectedHeadRevision: undefined,
        checkpoint: { ...first.checkpoint, executionState: undefined },
      };
      expect(await store.commit(withUndefined)).toEqual({ ...applied("c1", 1), replayed: true });
    });

    it("durability is not content: a commit re-sent at another level (or with none, which means turn) is a replay", async () => {
      const store = await context.open("s1");
      const first: SessionCommit = { ...turnCommit({ sessionId: "s1", turnKey: "t1" }), durability: "checkpoint" };
      const result = await store.commit(first);
      const before = await observeSession(store, context.capabilities.activePathScope);
      const { durability: _level, ...withoutLevel } = first;
      for (const resent of [{ ...first, durability: "turn" as const }, withoutLevel, first]) {
        expect(await store.commit(structuredClone(resent))).toEqual({ ...result, replayed: true });
      }
      expect(await observeSession(store, context.capabilities.activePathScope)).toEqual(before);
    });

    it("a commit rejected for a stale revision leaves its id unused: the corrected commit with the same id lands", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const corrected = turnCommit({
        sessionId: "s1",
        turnKey: "t2",
        expectedHeadRevision: 1,
        parentNodeId: turnNodeIds("t1").answer,
        turnIndex: 2,
      });
      expectHeadRevisionConflict(await rejectionOf(store.commit({ ...corrected, expectedHeadRevision: 5 })), "s1", 5, 1);
      expect(await store.commit(corrected)).toEqual(applied("t2:final", 2));
    });

    it("a commit rejected for an invalid graph leaves its id unused too", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const invalid = sessionCommit({
        sessionId: "s1",
        commitId: "c2",
        expectedHeadRevision: 1,
        graph: appendDelta([messageNode(turnNodeIds("t1").user)]),
      });
      expectInvalidArgument(await rejectionOf(store.commit(invalid)));
      const valid = sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: appendDelta([messageNode("fresh")]) });
      expect(await store.commit(valid)).toEqual(applied("c2", 2));
    });

    it("commit ids are remembered per session: the same id in another session is a new commit", async () => {
      const first = await context.open("s1");
      const second = await context.open("s2");
      await first.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      expect(await second.commit(turnCommit({ sessionId: "s2", turnKey: "t1", usage: usage(1, 2, 3, 4) }))).toEqual(applied("t1:final", 1));
      expect(await ledgerOf(second)).toEqual([ledgerEntry("turn", usage(1, 2, 3, 4))]);
    });

    it("a commit applied through one handle is replayed through another handle on the same session", async () => {
      const writer = await context.open("s1");
      const retrier = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1" });
      await writer.commit(first);
      expect(await retrier.commit(first)).toEqual({ ...applied("t1:final", 1), replayed: true });
      expect((await retrier.loadSession({ type: "full_graph" }))?.headRevision).toBe(1);
    });
  });
};

/** A deep copy with every object's keys in reverse order (arrays keep their order). */
function reverseKeysDeep<Value>(value: Value): Value {
  const reorder = (entry: unknown): unknown => {
    if (Array.isArray(entry)) return entry.map(reorder);
    if (entry !== null && typeof entry === "object") {
      const reordered: Record<string, unknown> = {};
      for (const key of Object.keys(entry).reverse()) reordered[key] = reorder((entry as Record<string, unknown>)[key]);
      return reordered;
    }
    return entry;
  };
  // The copy has the same shape as the input; only the key order differs.
  return reorder(value) as Value;
}
