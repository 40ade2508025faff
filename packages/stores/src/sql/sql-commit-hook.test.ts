import { CommitIdConflictError, HeadRevisionConflictError, LashError, type SessionCommitResult } from "@lash/protocol";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node, thrown, turnUsage, usage } from "../../test/fixtures.js";
import {
  createSqlSessionDatabase,
  type LashSqlSchema,
  type SqlCommitContext,
  type SqlCommitHook,
  SqlCommitHookError,
  type SqlSessionDatabase,
} from "./index.js";

interface OutboxRow {
  commit_id: string;
  head_revision: number;
}

for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "the onCommit hook (transactional outbox)"), () => {
    let storage: SqlTestStorage;
    let reader: Kysely<LashSqlSchema>;
    /** Every context the hook was called with, in order. */
    let calls: SqlCommitContext[];
    /** When set, the hook writes its outbox row and then throws this. */
    let failWith: Error | undefined;

    const postgres = backend.name === "postgres";
    /** The n-th placeholder of the dialect. */
    const placeholder = (position: number): string => (postgres ? `$${position}` : "?");
    // Raw statements of the hook do not get the store's `schema` option: PostgreSQL names are qualified.
    const table = (name: string): string => (postgres ? `"${storage.schema ?? ""}".${name}` : name);

    /** Writes one outbox row per commit it sees, in the commit's transaction. */
    const outboxHook: SqlCommitHook = async (context) => {
      calls.push(context);
      const inserted = await context.query(
        `insert into ${table("app_outbox")} (commit_id, head_revision) values (${placeholder(1)}, ${placeholder(2)})`,
        [context.commit.commitId, context.headRevision],
      );
      expect(inserted.rowCount).toBe(1);
      if (failWith !== undefined) throw failWith;
    };

    async function outbox(): Promise<OutboxRow[]> {
      const result = await sql
        .raw<OutboxRow>(`select commit_id, head_revision from ${table("app_outbox")} order by head_revision, commit_id`)
        .execute(reader);
      return result.rows.map((row) => ({ commit_id: row.commit_id, head_revision: Number(row.head_revision) }));
    }

    beforeEach(async () => {
      storage = await backend.createStorage();
      calls = [];
      failWith = undefined;
      // Migrates (and in PostgreSQL creates the schema) before the application's table is added.
      await storage.open();
      reader = storage.kysely();
      await sql.raw(`create table ${table("app_outbox")} (commit_id text primary key, head_revision integer not null)`).execute(reader);
    });
    afterEach(async () => {
      await storage.remove();
    });

    it("runs inside the commit's transaction, after the head is written: its rows exist exactly when the commit does", async () => {
      const seen: { head: number; commits: number }[] = [];
      const database = await storage.open({
        migrate: false,
        onCommit: async (context) => {
          await outboxHook(context);
          // The commit's own rows are visible here, before anything is committed.
          const head = await context.query<{ head_revision: number | string }>(
            `select head_revision from ${table("lash_heads")} where session_id = ${placeholder(1)}`,
            [context.commit.sessionId],
          );
          const commits = await context.query(
            `select commit_id from ${table("lash_commits")} where session_id = ${placeholder(1)} and commit_id = ${placeholder(2)}`,
            [context.commit.sessionId, context.commit.commitId],
          );
          expect(commits.rowCount).toBe(commits.rows.length);
          seen.push({ head: Number(head.rows[0]?.head_revision), commits: commits.rows.length });
        },
      });
      const store = database.openSession("s1");
      const first = commit({ commitId: "t1:final", graph: append(chain(["m1", "m2"])), usageDeltas: [turnUsage(usage(3, 4))] });
      expect(await store.commit(first)).toEqual({ headRevision: 1, commitId: "t1:final", replayed: false });
      expect(
        await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) })),
      ).toMatchObject({ headRevision: 2 });

      expect(calls.map((context) => [context.commit.commitId, context.headRevision, context.dialect])).toEqual([
        ["t1:final", 1, backend.name],
        ["t2:final", 2, backend.name],
      ]);
      expect(calls[0]?.commit).toEqual(first);
      expect(seen).toEqual([
        { head: 1, commits: 1 },
        { head: 2, commits: 1 },
      ]);
      expect(await outbox()).toEqual([
        { commit_id: "t1:final", head_revision: 1 },
        { commit_id: "t2:final", head_revision: 2 },
      ]);
      expect(await store.loadHeadRevision()).toBe(2);
    });

    it("a hook that throws rolls the whole commit back with a typed error; the store stays usable", async () => {
      const database = await storage.open({ migrate: false, onCommit: outboxHook });
      const store = database.openSession("s1");
      await store.commit(commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] }));

      const failure = new Error("the queue refused the task");
      failWith = failure;
      const second = commit({
        commitId: "t2:final",
        expectedHeadRevision: 1,
        graph: append([node("m2", "m1")]),
        usageDeltas: [turnUsage(usage(5, 5))],
      });
      const error = await thrown(store.commit(second));
      expect(SqlCommitHookError.isInstance(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: "store_commit_failed", sessionId: "s1", commitId: "t2:final", cause: failure });
      expect(String((error as Error).message)).toContain("t2:final");
      expect(String((error as Error).message)).toContain("the queue refused the task");

      // Nothing of the commit, and nothing the hook wrote, was stored.
      expect(await store.loadHeadRevision()).toBe(1);
      expect(await store.loadNode("m2")).toBeUndefined();
      expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(1, 1))]);
      expect(await outbox()).toEqual([{ commit_id: "t1:final", head_revision: 1 }]);

      // The same commit, sent again once the hook succeeds, is applied (it was never stored).
      failWith = undefined;
      expect(await store.commit(second)).toEqual({ headRevision: 2, commitId: "t2:final", replayed: false });
      expect(await outbox()).toEqual([
        { commit_id: "t1:final", head_revision: 1 },
        { commit_id: "t2:final", head_revision: 2 },
      ]);
      expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(6, 6))]);
    });

    it("a statement that fails inside the hook fails the commit, even when the hook catches the error", async () => {
      const caught: unknown[] = [];
      const database = await storage.open({
        migrate: false,
        onCommit: async (context) => {
          await outboxHook(context);
          try {
            await context.query(`insert into ${table("no_such_table")} (id) values (${placeholder(1)})`, [1]);
          } catch (error) {
            caught.push(error);
          }
        },
      });
      const store = database.openSession("s1");
      const error = await thrown(store.commit(commit({ commitId: "t1:final", graph: append([node("m1")]) })));
      expect(caught).toHaveLength(1);
      expect(error).toMatchObject({ code: "store_commit_failed", commitId: "t1:final", cause: caught[0] });
      expect(String((error as Error).message)).toContain("no_such_table");
      expect(await store.loadHeadRevision()).toBeUndefined();
      expect(await outbox()).toEqual([]);
    });

    it("is not called for a replayed commit, nor for a commit that is rejected", async () => {
      const database = await storage.open({ migrate: false, onCommit: outboxHook });
      const store = database.openSession("s1");
      const first = commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(2, 2))] });
      await store.commit(first);
      expect(calls).toHaveLength(1);

      // A re-sent commit, through this object or another one over the same database, is a replay.
      expect(await store.commit(structuredClone(first))).toEqual({ headRevision: 1, commitId: "t1:final", replayed: true });
      const other = await storage.open({ migrate: false, onCommit: outboxHook });
      expect(await other.openSession("s1").commit(structuredClone(first))).toMatchObject({ replayed: true });
      expect(calls).toHaveLength(1);

      // Rejected commits write nothing, so they have nothing to announce.
      expect(CommitIdConflictError.isInstance(await thrown(store.commit({ ...first, usageDeltas: [turnUsage(usage(9, 9))] })))).toBe(true);
      expect(
        HeadRevisionConflictError.isInstance(await thrown(store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 7 })))),
      ).toBe(true);
      expect(
        await thrown(store.commit(commit({ commitId: "t3:final", expectedHeadRevision: 1, graph: append([node("m1")]) }))),
      ).toMatchObject({ code: "invalid_argument" });
      expect(calls).toHaveLength(1);
      expect(await outbox()).toEqual([{ commit_id: "t1:final", head_revision: 1 }]);
      expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(2, 2))]);
    });

    it("writers racing on one session: each commit that lands has its outbox row once, losers and replays have none", async () => {
      // Each writer is a database object of its own (its own connection or pool), as processes would be.
      const writers: SqlSessionDatabase[] = [];
      for (let index = 0; index < 3; index += 1) writers.push(await storage.open({ migrate: false, onCommit: outboxHook }));
      const rounds = 6;
      for (let round = 1; round <= rounds; round += 1) {
        // The same commit from every writer: it lands once, the others replay it.
        const same = commit({
          commitId: `same-${round}`,
          expectedHeadRevision: round === 1 ? undefined : 2 * round - 2,
          graph: append([node(`s${round}`)]),
        });
        const replays: SessionCommitResult[] = await Promise.all(
          writers.map((writer) => writer.openSession("s1").commit(structuredClone(same))),
        );
        expect(replays.filter((result) => !result.replayed)).toHaveLength(1);
        // Different commits naming the same revision: one lands, the others conflict.
        const outcomes = await Promise.allSettled(
          writers.map((writer, index) =>
            writer.openSession("s1").commit(commit({ commitId: `r${round}:w${index}`, expectedHeadRevision: 2 * round - 1 })),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
        for (const outcome of outcomes)
          if (outcome.status === "rejected")
            expect(HeadRevisionConflictError.isInstance(outcome.reason), String(outcome.reason)).toBe(true);
      }
      const rows = await outbox();
      expect(rows.map((row) => row.head_revision)).toEqual(Array.from({ length: 2 * rounds }, (_, index) => index + 1));
      const stored = await sql
        .raw<{ commit_id: string }>(`select commit_id from ${table("lash_commits")} where session_id = 's1' order by head_revision`)
        .execute(reader);
      expect(rows.map((row) => row.commit_id)).toEqual(stored.rows.map((row) => row.commit_id));
      // Every call the hook saw either landed (its row is there) or was rolled back with its attempt.
      for (const row of rows) expect(calls.some((context) => context.commit.commitId === row.commit_id)).toBe(true);
    });

    it("works on a caller-built Kysely instance; the context refuses statements once the hook has returned", async () => {
      const database = createSqlSessionDatabase({ ...storage.kyselyOptions(), onCommit: outboxHook });
      const store = database.openSession("s1");
      expect(await store.commit(commit({ commitId: "t1:final", graph: append([node("m1")]) }))).toMatchObject({
        headRevision: 1,
        replayed: false,
      });
      expect(await outbox()).toEqual([{ commit_id: "t1:final", head_revision: 1 }]);
      const late = await thrown(calls[0]?.query("select 1") ?? Promise.resolve());
      expect(LashError.isInstance(late)).toBe(true);
      expect(late).toMatchObject({ code: "invalid_argument" });
      expect(String((late as Error).message)).toContain("t1:final");
      await database.destroy();
    });

    it("hands statements and rows to the driver as they are (the store's text escape is not applied)", async () => {
      const echoed: unknown[] = [];
      const database = await storage.open({
        migrate: false,
        onCommit: async (context) => {
          const result = await context.query<{ value: string }>(`select ${placeholder(1)} as value`, ["a\u0001\u0002b"]);
          echoed.push(result.rows[0]?.value, result.rowCount);
        },
      });
      await database.openSession("s1").commit(commit({ commitId: "t1:final" }));
      expect(echoed).toEqual(["a\u0001\u0002b", 1]);
    });
  });
}

describe("the onCommit option", () => {
  it("must be a function: anything else is an invalid_configuration error naming it", () => {
    let error: unknown;
    try {
      createSqlSessionDatabase({ connection: "sqlite::memory:", onCommit: "enqueue" as unknown as SqlCommitHook });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "invalid_configuration" });
    expect(String((error as Error).message)).toContain("onCommit");
  });
});
