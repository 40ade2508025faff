import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { expectBindingMismatch, headRevisionOf, ledgerOf, listedIds, observeSession, rejectionOf } from "./expectations.js";
import {
  appendDelta,
  createRequest,
  ledgerEntry,
  messageNode,
  sessionCommit,
  sessionMeta,
  turnCommit,
  turnNodeIds,
  turnNodes,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** A store is bound to one session id; sessions on one backend never see each other's data. */
export const describeBinding: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("session binding and isolation", () => {
    const context = useBackend(harness);

    it("a store opened for one session refuses a commit for another with SessionBindingMismatchError { boundSessionId, attemptedSessionId }, and neither session is written", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const before = await observeSession(store, context.capabilities.activePathScope, ["intruder"]);
      const error = await rejectionOf(
        store.commit(
          sessionCommit({
            sessionId: "s2",
            commitId: "c1",
            graph: appendDelta([messageNode("intruder")]),
            usageDeltas: [ledgerEntry("turn", usage(3, 3))],
          }),
        ),
      );
      expectBindingMismatch(error, "s1", "s2");
      expect(await observeSession(store, context.capabilities.activePathScope, ["intruder"])).toEqual(before);
      const other = await context.open("s2");
      expect(await other.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await listedIds(store)).toEqual(["s1"]);
    });

    it("the binding holds before the first commit: a store opened for s1 refuses a first commit for s2", async () => {
      const store = await context.open("s1");
      const error = await rejectionOf(store.commit(turnCommit({ sessionId: "s2", turnKey: "t1" })));
      expectBindingMismatch(error, "s1", "s2");
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await (await context.open("s2")).loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await listedIds(store)).toEqual([]);
    });

    it("the binding is checked before the commit id: s1's commit re-sent with sessionId s2 is refused, not replayed", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1" });
      await store.commit(first);
      expectBindingMismatch(await rejectionOf(store.commit({ ...first, sessionId: "s2" })), "s1", "s2");
    });

    it("saveSessionMeta with another session's id is refused with SessionBindingMismatchError and writes no meta", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1", { sessionName: "first" }));
      expectBindingMismatch(await rejectionOf(store.saveSessionMeta(sessionMeta("s2"))), "s1", "s2");
      expect(await store.loadSessionMeta()).toEqual(sessionMeta("s1", { sessionName: "first" }));
      expect(await (await context.open("s2")).loadSessionMeta()).toBeUndefined();
      expect(await listedIds(store)).toEqual(["s1"]);
    });

    it("a store from factory.createStore is bound to the requested session id", async () => {
      const store = await context.backend().factory.createStore(createRequest("created"));
      await store.commit(turnCommit({ sessionId: "created", turnKey: "t1" }));
      expectBindingMismatch(await rejectionOf(store.commit(turnCommit({ sessionId: "elsewhere", turnKey: "t1" }))), "created", "elsewhere");
      expect((await (await context.open("created")).loadSession({ type: "full_graph" }))?.headRevision).toBe(1);
    });

    it("factory.createStore gives each session its own store: stores created for two ids never share data", async () => {
      const factory = context.backend().factory;
      const first = await factory.createStore(createRequest("a"));
      const second = await factory.createStore(createRequest("b"));
      await first.commit(turnCommit({ sessionId: "a", turnKey: "t1" }));
      expectBindingMismatch(await rejectionOf(second.commit(turnCommit({ sessionId: "a", turnKey: "t9" }))), "b", "a");
      expect(await second.loadSession({ type: "full_graph" })).toBeUndefined();
    });

    it("two handles opened for the same id share one session: each sees the other's commits and can continue from them", async () => {
      const first = await context.open("s1");
      const second = await context.open("s1");
      await first.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      expect(await headRevisionOf(second)).toBe(1);
      await second.commit(turnCommit({ sessionId: "s1", turnKey: "t2", expectedHeadRevision: 1, parentNodeId: turnNodeIds("t1").answer }));
      const read = await first.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(2);
      expect(read?.graph.nodes.map((node) => node.nodeId)).toEqual(
        [...turnNodes("t1"), ...turnNodes("t2", turnNodeIds("t1").answer)].map((node) => node.nodeId),
      );
    });

    it("sessions on one backend are isolated: the same node ids, commit ids and usage sources stay apart", async () => {
      const first = await context.open("s1");
      const second = await context.open("s2");
      await first.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(10, 1) }));
      await second.commit(turnCommit({ sessionId: "s2", turnKey: "t1", usage: usage(20, 2) }));
      await second.commit(
        sessionCommit({
          sessionId: "s2",
          commitId: "c2",
          expectedHeadRevision: 1,
          graph: appendDelta([messageNode("only-in-s2", { parentNodeId: turnNodeIds("t1").answer })]),
        }),
      );
      expect(await headRevisionOf(first)).toBe(1);
      expect(await headRevisionOf(second)).toBe(2);
      expect(await ledgerOf(first)).toEqual([ledgerEntry("turn", usage(10, 1))]);
      expect(await ledgerOf(second)).toEqual([ledgerEntry("turn", usage(20, 2))]);
      expect(await first.loadNode("only-in-s2")).toBeUndefined();
      expect((await first.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual(turnNodes("t1"));
      expect((await first.loadSession({ type: "full_graph" }))?.graph.leafNodeId).toBe(turnNodeIds("t1").answer);
      expect((await second.loadSession({ type: "full_graph" }))?.graph.leafNodeId).toBe("only-in-s2");
    });
  });
};
