import { CommitIdConflictError, HeadRevisionConflictError, type SessionCommitResult } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, commit, node, turnUsage, usage } from "../../test/fixtures.js";
import type { SqlSessionDatabase } from "./index.js";

/** Settles every promise, keeping results and errors apart. */
async function settle<Value>(promises: Promise<Value>[]): Promise<{ values: Value[]; errors: unknown[] }> {
  const outcomes = await Promise.allSettled(promises);
  return {
    values: outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : [])),
    errors: outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason as unknown] : [])),
  };
}

// Each writer is its own database object: its own connection (SQLite) or pool (PostgreSQL), as two
// processes would have.
for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "concurrent writers on separate connections"), () => {
    let storage: SqlTestStorage;
    let writers: SqlSessionDatabase[];

    beforeEach(async () => {
      storage = await backend.createStorage();
      writers = [
        await storage.open(),
        await storage.open({ migrate: false }),
        await storage.open({ migrate: false }),
        await storage.open({ migrate: false }),
      ];
    });
    afterEach(async () => {
      await storage.remove();
    });

    it("commits naming the same revision: exactly one lands per round, the others conflict, nothing is lost", async () => {
      await writers[0]
        ?.openSession("s1")
        .commit(commit({ commitId: "seed", graph: append([node("root")]), usageDeltas: [turnUsage(usage(1, 0))] }));
      const rounds = 12;
      const winners: string[] = [];
      for (let round = 1; round <= rounds; round += 1) {
        const attempts = writers.map((writer, index) =>
          writer
            .openSession("s1")
            .commit(
              commit({
                commitId: `r${round}:w${index}`,
                expectedHeadRevision: round,
                graph: append([node(`r${round}w${index}`, winners.at(-1) ?? "root")]),
                usageDeltas: [turnUsage(usage(1, 0))],
              }),
            )
            .then((result) => ({ result, nodeId: `r${round}w${index}` })),
        );
        const { values, errors } = await settle(attempts);
        expect(values).toHaveLength(1);
        expect(values[0]?.result).toEqual({
          headRevision: round + 1,
          commitId: expect.stringMatching(new RegExp(`^r${round}:`)),
          replayed: false,
        });
        expect(errors).toHaveLength(writers.length - 1);
        for (const error of errors) {
          expect(HeadRevisionConflictError.isInstance(error), String(error)).toBe(true);
          expect(error).toMatchObject({ expected: round, actual: round + 1 });
        }
        winners.push(values[0]?.nodeId ?? "");
      }
      const read = await writers[1]?.openSession("s1").loadSession({ type: "active_path" });
      expect(read?.headRevision).toBe(rounds + 1);
      expect(read?.graph.nodes.map((record) => record.nodeId)).toEqual(["root", ...winners]);
      expect(read?.tokenLedger).toEqual([turnUsage(usage(rounds + 1, 0))]);
      const full = await writers[2]?.openSession("s1").loadSession({ type: "full_graph" });
      expect(full?.graph.nodes).toHaveLength(rounds + 1);
    });

    it("first commits of one session at once: one lands at revision 1, the others conflict", async () => {
      const { values, errors } = await settle(
        writers.map((writer, index) =>
          writer.openSession("new").commit(commit({ sessionId: "new", commitId: `first:w${index}`, graph: append([node(`n${index}`)]) })),
        ),
      );
      expect(values.map((result) => result.headRevision)).toEqual([1]);
      expect(errors).toHaveLength(writers.length - 1);
      for (const error of errors) expect(error).toMatchObject({ code: "head_revision_conflict", expected: undefined, actual: 1 });
      expect((await writers[0]?.openSession("new").loadSession({ type: "full_graph" }))?.graph.nodes).toHaveLength(1);
    });

    it("the same commit sent by every writer at once lands once; the others replay it", async () => {
      await writers[0]?.openSession("s1").commit(commit({ commitId: "seed" }));
      const rounds = 8;
      for (let round = 1; round <= rounds; round += 1) {
        const same = commit({
          commitId: `t${round}:final`,
          expectedHeadRevision: round,
          graph: append([node(`m${round}`)]),
          usageDeltas: [turnUsage(usage(5, 5))],
        });
        const results: SessionCommitResult[] = await Promise.all(
          writers.map((writer) => writer.openSession("s1").commit(structuredClone(same))),
        );
        expect(results.filter((result) => !result.replayed)).toHaveLength(1);
        for (const result of results) expect(result).toMatchObject({ headRevision: round + 1, commitId: `t${round}:final` });
      }
      expect((await writers[3]?.openSession("s1").loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([
        turnUsage(usage(5 * rounds, 5 * rounds)),
      ]);

      const different = await settle(
        writers.map((writer, index) =>
          writer.openSession("s1").commit({
            ...commit({ commitId: "different" }),
            expectedHeadRevision: rounds + 1,
            usageDeltas: [turnUsage(usage(index + 1, 0))],
          }),
        ),
      );
      expect(different.values).toHaveLength(1);
      for (const error of different.errors) expect(CommitIdConflictError.isInstance(error), String(error)).toBe(true);
    });

    it("the same first commit of a session sent by every writer at once lands once; the others replay it", async () => {
      for (let round = 1; round <= 20; round += 1) {
        const sessionId = `fresh-${round}`;
        const same = commit({ sessionId, commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 0))] });
        // Two handles of one database object share its pool, as the runtime's commit and a retry would.
        const handles = [...writers, writers[0]].map((writer) => writer?.openSession(sessionId));
        const results = await Promise.all(handles.map((handle) => handle?.commit(structuredClone(same))));
        expect(results.filter((result) => result?.replayed === false)).toHaveLength(1);
        for (const result of results) expect(result).toMatchObject({ headRevision: 1 });
      }
    });

    it("sessions of one database do not contend: writers of different sessions all land", async () => {
      const results = await Promise.all(
        writers.map((writer, index) =>
          writer.openSession(`s${index}`).commit(commit({ sessionId: `s${index}`, commitId: "t1", graph: append([node("m1")]) })),
        ),
      );
      expect(results.map((result) => result.headRevision)).toEqual([1, 1, 1, 1]);
      expect((await writers[0]?.listSessions())?.sessions.map((summary) => summary.sessionId)).toEqual(["s0", "s1", "s2", "s3"]);
    });

    it("meta writes and session creation beside commits wait for the lock instead of failing", async () => {
      await writers[0]?.openSession("s1").commit(commit({ commitId: "t0" }));
      const policy = { sessionId: "x", providerId: "mock", model: "mock-model", maxContextTokens: 1000, executionMode: "standard" };
      for (let turn = 1; turn <= 10; turn += 1) {
        await Promise.all([
          writers[0]
            ?.openSession("s1")
            .commit(commit({ commitId: `t${turn}`, expectedHeadRevision: turn, usageDeltas: [turnUsage(usage(1, 0))] })),
          writers[1]?.openSession("s1").saveSessionMeta({
            sessionId: "s1",
            sessionName: `turn ${turn}`,
            createdAt: "2025-01-01T00:00:00.000Z",
            model: "m",
            relation: { type: "root" },
          }),
          writers[2]?.createStore({
            sessionId: `child-${turn}`,
            parentSessionId: "s1",
            relation: { type: "child", parentSessionId: "s1" },
            policy,
          }),
          writers[3]?.listSessions(),
        ]);
      }
      expect((await writers[3]?.openSession("s1").loadSessionMeta())?.sessionName).toBe("turn 10");
      expect((await writers[3]?.listSessions({ parentSessionId: "s1" }))?.sessions).toHaveLength(10);
    });

    it("maintenance running beside commits never removes the head's checkpoint", async () => {
      const session = "s1";
      await writers[0]?.openSession(session).commit(commit({ sessionId: session, commitId: "t0" }));
      for (let turn = 1; turn <= 10; turn += 1) {
        const checkpoint = { schemaVersion: 1 as const, turnState: { turnIndex: turn, tokenUsage: usage(turn, 0) } };
        await Promise.all([
          writers[0]
            ?.openSession(session)
            .commit(commit({ sessionId: session, commitId: `t${turn}`, expectedHeadRevision: turn, checkpoint })),
          writers[1]?.openSession(session).gcUnreachable(),
          writers[2]?.openSession(session).vacuum(),
          writers[3]?.openSession(session).tombstoneNodes(["absent"]),
        ]);
        expect((await writers[3]?.openSession(session).loadSession({ type: "full_graph" }))?.checkpoint).toEqual(checkpoint);
      }
    });
  });
}
