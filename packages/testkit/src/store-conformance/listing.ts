import type { SessionStore } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import type { ConformanceContext } from "./conformance-context.js";
import { SLOW_TEST_TIMEOUT_MS, useBackend } from "./conformance-context.js";
import { expectHeadRevisionConflict, listAllSessions, listedCore, listedIds, rejectionOf } from "./expectations.js";
import { childRelation, handoffRelation, sessionCommit, sessionMeta, turnCommit } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** Gives each id a meta-only session (a meta is enough to be listed). */
async function saveMetas(context: ConformanceContext, sessionIds: readonly string[]): Promise<void> {
  for (const sessionId of sessionIds) await (await context.open(sessionId)).saveSessionMeta(sessionMeta(sessionId));
}

/**
 * A family of sessions: roots `r1`, `r2` (with meta), children `c1`, `c2` of r1 and `c3` of r2,
 * handoff `h1` from r1, and `bare`, a committed session without meta.
 */
async function family(context: ConformanceContext): Promise<SessionStore> {
  const metas = [
    sessionMeta("r1"),
    sessionMeta("r2"),
    sessionMeta("c1", { relation: childRelation("r1") }),
    sessionMeta("c2", { relation: childRelation("r1") }),
    sessionMeta("c3", { relation: childRelation("r2") }),
    sessionMeta("h1", { relation: handoffRelation("r1") }),
  ];
  for (const meta of metas) await (await context.open(meta.sessionId)).saveSessionMeta(meta);
  const bare = await context.open("bare");
  await bare.commit(turnCommit({ sessionId: "bare", turnKey: "t1" }));
  return bare;
}

/**
 * Ids whose code-point order differs from UTF-16 order (U+E000 and U+FFFD sort before the astral
 * U+1F600 by code point, after it by UTF-16 unit) and from locale order (upper case first, a
 * combining sequence by its base letter).
 */
const codePointOrdered = ["Z", "a", "a b", "ab", "e\u0301", "z", "\u00e9", "\ue000", "\ufffd", "\u{1f600}", "\u{1f600}\u{1f600}"];

/** `listSessions`: every session with a head or a meta, code-point order, cursor paging, filters. */
export const describeListing: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("listing sessions", () => {
    const context = useBackend(harness);

    it("an empty backend lists no sessions and no cursor", async () => {
      const store = await context.open("s1");
      expect(await store.listSessions()).toEqual({ sessions: [] });
      expect(await store.listSessions({ limit: 5 })).toEqual({ sessions: [] });
    });

    it("lists every session that has a head or a meta, with its head revision (0 without a commit) and its meta (none without one)", async () => {
      const withBoth = await context.open("both");
      await withBoth.saveSessionMeta(sessionMeta("both"));
      await withBoth.commit(turnCommit({ sessionId: "both", turnKey: "t1" }));
      await withBoth.commit(sessionCommit({ sessionId: "both", commitId: "c2", expectedHeadRevision: 1 }));
      await (await context.open("head-only")).commit(turnCommit({ sessionId: "head-only", turnKey: "t1" }));
      await (await context.open("meta-only")).saveSessionMeta(sessionMeta("meta-only", { relation: childRelation("both") }));
      const sessions = listedCore(await listAllSessions(withBoth));
      expect(sessions).toEqual([
        { sessionId: "both", headRevision: 2, meta: sessionMeta("both") },
        { sessionId: "head-only", headRevision: 1 },
        { sessionId: "meta-only", headRevision: 0, meta: sessionMeta("meta-only", { relation: childRelation("both") }) },
      ]);
      expect(sessions[1]?.meta).toBeUndefined();
    });

    it("a session that was only opened, read, probed or refused a commit is not listed", async () => {
      const store = await context.open("ghost");
      await store.loadSession({ type: "full_graph" });
      await store.loadNode("n1");
      await store.loadSessionMeta();
      await store.loadHeadRevision?.();
      await store.tombstoneNodes(["n1"]);
      await store.vacuum();
      await store.gcUnreachable();
      await store.deleteSession();
      expectHeadRevisionConflict(
        await rejectionOf(store.commit({ ...turnCommit({ sessionId: "ghost", turnKey: "t1" }), expectedHeadRevision: 3 })),
        "ghost",
        3,
        0,
      );
      expect(await store.listSessions()).toEqual({ sessions: [] });
    });

    it("any store of the backend lists all of its sessions, not only its own", async () => {
      await saveMetas(context, ["a", "b", "c"]);
      expect(await listedIds(await context.open("a"))).toEqual(["a", "b", "c"]);
      expect(await listedIds(await context.open("unrelated"))).toEqual(["a", "b", "c"]);
    });

    it("pages follow the cursor until no nextCursor is left, and every session appears exactly once, in order", async () => {
      const ids = ["s1", "s2", "s3", "s4", "s5", "s6", "s7"];
      await saveMetas(context, [...ids].reverse());
      const store = await context.open("s1");
      const first = await store.listSessions({ limit: 3 });
      expect(first.sessions.map((summary) => summary.sessionId)).toEqual(["s1", "s2", "s3"]);
      expect(first.nextCursor).toBeDefined();
      const second = await store.listSessions({ limit: 3, cursor: first.nextCursor });
      expect(second.sessions.map((summary) => summary.sessionId)).toEqual(["s4", "s5", "s6"]);
      expect(second.nextCursor).toBeDefined();
      const third = await store.listSessions({ limit: 3, cursor: second.nextCursor });
      expect(third.nextCursor).toBeUndefined();
      expect(listedCore(third.sessions)).toEqual([{ sessionId: "s7", headRevision: 0, meta: sessionMeta("s7") }]);
    });

    it("a page that ends exactly at the last session has no nextCursor", async () => {
      await saveMetas(context, ["a", "b", "c", "d"]);
      const store = await context.open("a");
      const first = await store.listSessions({ limit: 2 });
      expect(first.nextCursor).toBeDefined();
      const second = await store.listSessions({ limit: 2, cursor: first.nextCursor });
      expect(second.sessions.map((summary) => summary.sessionId)).toEqual(["c", "d"]);
      expect(second.nextCursor).toBeUndefined();
      const whole = await store.listSessions({ limit: 4 });
      expect(whole.sessions).toHaveLength(4);
      expect(whole.nextCursor).toBeUndefined();
    });

    it("a session created after a page was read shows up on a later page when its id sorts after the cursor", async () => {
      await saveMetas(context, ["a", "c"]);
      const store = await context.open("a");
      const first = await store.listSessions({ limit: 1 });
      await saveMetas(context, ["b"]);
      const rest = await store.listSessions({ limit: 10, cursor: first.nextCursor });
      expect(rest.sessions.map((summary) => summary.sessionId)).toEqual(["b", "c"]);
    });

    it(
      "without a limit a page holds at most 100 sessions (the default page size)",
      async () => {
        const ids = Array.from({ length: 101 }, (_, index) => `session-${String(index).padStart(3, "0")}`);
        await saveMetas(context, ids);
        const store = await context.open("session-000");
        const first = await store.listSessions();
        expect(first.sessions).toHaveLength(100);
        expect(first.nextCursor).toBeDefined();
        const second = await store.listSessions({ cursor: first.nextCursor });
        expect(second.sessions.map((summary) => summary.sessionId)).toEqual(["session-100"]);
        expect(second.nextCursor).toBeUndefined();
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it("sessions are listed in code-point order (not UTF-16 unit or locale order), across pages too", async () => {
      await saveMetas(context, [...codePointOrdered].reverse());
      const store = await context.open("Z");
      expect(await listedIds(store)).toEqual(codePointOrdered);
      const paged = (await listAllSessions(store, { limit: 2 })).map((summary) => summary.sessionId);
      expect(paged).toEqual(codePointOrdered);
    });

    it("parentSessionId filters by the meta's parent", async () => {
      const store = await family(context);
      expect((await listAllSessions(store, { parentSessionId: "r1" })).map((summary) => summary.sessionId)).toEqual(["c1", "c2", "h1"]);
      expect((await listAllSessions(store, { parentSessionId: "r2" })).map((summary) => summary.sessionId)).toEqual(["c3"]);
      expect(await store.listSessions({ parentSessionId: "nobody" })).toEqual({ sessions: [] });
    });

    it("relationType filters by the meta's relation type", async () => {
      const store = await family(context);
      expect((await listAllSessions(store, { relationType: "root" })).map((summary) => summary.sessionId)).toEqual(["r1", "r2"]);
      expect((await listAllSessions(store, { relationType: "child" })).map((summary) => summary.sessionId)).toEqual(["c1", "c2", "c3"]);
      expect((await listAllSessions(store, { relationType: "handoff" })).map((summary) => summary.sessionId)).toEqual(["h1"]);
    });

    it("filters combine, and paging works inside a filter", async () => {
      const store = await family(context);
      expect((await listAllSessions(store, { parentSessionId: "r1", relationType: "child" })).map((summary) => summary.sessionId)).toEqual([
        "c1",
        "c2",
      ]);
      const first = await store.listSessions({ parentSessionId: "r1", limit: 2 });
      expect(first.sessions.map((summary) => summary.sessionId)).toEqual(["c1", "c2"]);
      expect(first.nextCursor).toBeDefined();
      const second = await store.listSessions({ parentSessionId: "r1", limit: 2, cursor: first.nextCursor });
      expect(second.sessions.map((summary) => summary.sessionId)).toEqual(["h1"]);
      expect(second.nextCursor).toBeUndefined();
    });

    it("a session without meta matches no filter, but is listed without one", async () => {
      const store = await family(context);
      for (const relationType of ["root", "child", "handoff"] as const) {
        expect((await listAllSessions(store, { relationType })).map((summary) => summary.sessionId)).not.toContain("bare");
      }
      expect(await listedIds(store)).toEqual(["bare", "c1", "c2", "c3", "h1", "r1", "r2"]);
    });

    it("the listed head revision follows commits, and a meta change shows in the listing", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1"));
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1 }));
      await store.saveSessionMeta(sessionMeta("s1", { sessionName: "renamed" }));
      expect(listedCore(await listAllSessions(store))).toEqual([
        { sessionId: "s1", headRevision: 2, meta: sessionMeta("s1", { sessionName: "renamed" }) },
      ]);
    });
  });
};
