import type { SessionSummary } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { expectHeadRevisionConflict, listAllSessions, listedIds, rejectionOf } from "./expectations.js";
import { childRelation, FIXED_TIMESTAMP, ledgerEntry, sessionCommit, sessionMeta, turnCommit, turnNodeIds, usage } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** An activity time before every other of the suite (metas carry `FIXED_TIMESTAMP`, commits the store's clock). */
const OLD_TIMESTAMP = "2020-01-01T00:00:00.000Z";

/** Lets the store's clock move on, so two commits get distinct activity times. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

function only(sessions: readonly SessionSummary[], sessionId: string): SessionSummary {
  const found = sessions.find((summary) => summary.sessionId === sessionId);
  if (found === undefined) throw new Error(`session ${sessionId} is not listed`);
  return found;
}

/**
 * Session summaries (`model`, `turnCount`, `lastActivityAt`, `tokenUsage` of a listing entry) and the
 * `lastActivity` order, for stores that declare `sessionSummaries`.
 */
export const describeSummaries: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("session summaries", () => {
    const context = useBackend(harness);

    if (harness.capabilities.sessionSummaries !== true) {
      it("sessionSummaries is not declared: `orderBy: lastActivity` is accepted and lists every session once", async () => {
        for (const sessionId of ["b", "a", "c"]) await (await context.open(sessionId)).saveSessionMeta(sessionMeta(sessionId));
        const store = await context.open("a");
        const listed = (await listAllSessions(store, { orderBy: "lastActivity", limit: 2 })).map((summary) => summary.sessionId);
        expect([...listed].sort()).toEqual(await listedIds(store));
      });
      return;
    }

    it("each commit leaves the model of its config, the turn count of its checkpoint, its usage added to the lifetime totals, and its time", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1", { model: "created-with" }));
      const before = new Date().toISOString();
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(100, 20, 30, 4) }));
      await store.commit({
        ...turnCommit({
          sessionId: "s1",
          turnKey: "t2",
          expectedHeadRevision: 1,
          parentNodeId: turnNodeIds("t1").answer,
          turnIndex: 2,
          model: "second-model",
        }),
        usageDeltas: [
          ledgerEntry("turn", usage(10, 2, 0, 1), "second-model"),
          ledgerEntry("subagent", usage(5, 5, 1, 0), "helper-model"),
          ledgerEntry("turn", usage(0, 0, 0, 0), "second-model"),
        ],
      });
      const after = new Date().toISOString();
      const listed = only(await listAllSessions(store), "s1");
      expect(listed).toMatchObject({
        sessionId: "s1",
        headRevision: 2,
        meta: sessionMeta("s1", { model: "created-with" }),
        model: "second-model",
        turnCount: 2,
        tokenUsage: usage(115, 27, 31, 5),
      });
      expect(listed.lastActivityAt !== undefined && listed.lastActivityAt >= before && listed.lastActivityAt <= after).toBe(true);
    });

    it("a session with a meta and no commit shows its meta's creation as its activity, and no other summary", async () => {
      const store = await context.open("empty");
      await store.saveSessionMeta(sessionMeta("empty"));
      expect(await listAllSessions(store)).toEqual([
        { sessionId: "empty", headRevision: 0, meta: sessionMeta("empty"), lastActivityAt: FIXED_TIMESTAMP },
      ]);
    });

    it("a replayed commit, a refused one and a checkpoint-level commit: the summary follows the head, usage counted once", async () => {
      const store = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(100, 20, 30, 4) });
      await store.commit(first);
      const once = only(await listAllSessions(store), "s1");
      expect((await store.commit(first)).replayed).toBe(true);
      expectHeadRevisionConflict(await rejectionOf(store.commit({ ...first, commitId: "other", expectedHeadRevision: 7 })), "s1", 7, 1);
      expect(only(await listAllSessions(store), "s1")).toEqual(once);
      await store.commit({
        ...sessionCommit({
          sessionId: "s1",
          commitId: "progress",
          expectedHeadRevision: 1,
          usageDeltas: [ledgerEntry("turn", usage(1, 1))],
        }),
        durability: "checkpoint",
      });
      expect(only(await listAllSessions(store), "s1")).toMatchObject({ headRevision: 2, turnCount: 1, tokenUsage: usage(101, 21, 30, 4) });
    });

    it("orderBy lastActivity lists the newest activity first (ties by descending id) and pages with its cursor", async () => {
      for (const sessionId of ["old-a", "old-b"]) {
        await (await context.open(sessionId)).saveSessionMeta({ ...sessionMeta(sessionId), createdAt: OLD_TIMESTAMP });
      }
      await (await context.open("mid")).saveSessionMeta(sessionMeta("mid"));
      const first = await context.open("first");
      await first.commit(turnCommit({ sessionId: "first", turnKey: "t1" }));
      await tick();
      await (await context.open("second")).commit(turnCommit({ sessionId: "second", turnKey: "t1" }));
      const expected = ["second", "first", "mid", "old-b", "old-a"];
      const byActivity = (limit: number) =>
        listAllSessions(first, { orderBy: "lastActivity", limit }).then((sessions) => sessions.map((summary) => summary.sessionId));
      expect(await byActivity(100)).toEqual(expected);
      expect(await byActivity(2)).toEqual(expected);
      const page = await first.listSessions({ orderBy: "lastActivity", limit: 2 });
      expect(page.sessions.map((summary) => summary.sessionId)).toEqual(["second", "first"]);
      expect(page.nextCursor).toBeDefined();
      // A commit moves its session to the front; the id order is unchanged.
      await tick();
      await first.commit(sessionCommit({ sessionId: "first", commitId: "again", expectedHeadRevision: 1 }));
      expect(await byActivity(3)).toEqual(["first", "second", "mid", "old-b", "old-a"]);
      expect(await listedIds(first)).toEqual(["first", "mid", "old-a", "old-b", "second"]);
    });

    it("filters apply in activity order too", async () => {
      await (await context.open("root")).saveSessionMeta(sessionMeta("root"));
      for (const sessionId of ["c1", "c2", "c3"]) {
        const child = await context.open(sessionId);
        await child.saveSessionMeta(sessionMeta(sessionId, { relation: childRelation("root") }));
        await child.commit(turnCommit({ sessionId, turnKey: "t1" }));
        await tick();
      }
      const store = await context.open("root");
      const children = await listAllSessions(store, { orderBy: "lastActivity", parentSessionId: "root", limit: 2 });
      expect(children.map((summary) => summary.sessionId)).toEqual(["c3", "c2", "c1"]);
      const roots = await listAllSessions(store, { orderBy: "lastActivity", relationType: "root" });
      expect(roots.map((summary) => summary.sessionId)).toEqual(["root"]);
      // A meta saved after the first commit, and a meta replaced: the filters follow the meta.
      const late = await context.open("late");
      await late.commit(turnCommit({ sessionId: "late", turnKey: "t1" }));
      expect(
        (await listAllSessions(store, { orderBy: "lastActivity", parentSessionId: "root" })).map((summary) => summary.sessionId),
      ).toEqual(["c3", "c2", "c1"]);
      await late.saveSessionMeta(sessionMeta("late", { relation: childRelation("root") }));
      await (await context.open("c3")).saveSessionMeta(sessionMeta("c3"));
      const after = await listAllSessions(store, { orderBy: "lastActivity", parentSessionId: "root" });
      expect(after.map((summary) => summary.sessionId)).toEqual(["late", "c2", "c1"]);
      const rootsAfter = await listAllSessions(store, { orderBy: "lastActivity", relationType: "root" });
      expect(rootsAfter.map((summary) => summary.sessionId)).toEqual(["c3", "root"]);
    });

    it("a deleted session leaves the listing; started again, its totals start from zero", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(100, 20, 30, 4) }));
      await store.deleteSession();
      expect(await store.listSessions({ orderBy: "lastActivity" })).toEqual({ sessions: [] });
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(1, 2, 3, 4), turnIndex: 1 }));
      expect(only(await listAllSessions(store, { orderBy: "lastActivity" }), "s1")).toMatchObject({
        headRevision: 1,
        turnCount: 1,
        tokenUsage: usage(1, 2, 3, 4),
      });
    });
  });
};
