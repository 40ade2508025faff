import { afterEach, describe, expect, it } from "vitest";
import { backendTitle, SQL_TEST_BACKENDS, type SqlTestStorage } from "../../test/backends.js";
import { append, chain, commit, node, turnUsage, usage } from "../../test/fixtures.js";

// PostgreSQL stores U+0000 and U+0001 escaped (postgres-text-escape-plugin.ts). A query that nests a
// subquery built on the store's instance would get the escape twice and name another session; these
// sessions go through every query that nests one: the active path, both listing orders, both commit
// paths.
for (const backend of SQL_TEST_BACKENDS) {
  describe.skipIf(backend.skipReason !== undefined)(backendTitle(backend, "ids holding U+0000 and U+0001"), () => {
    let storage: SqlTestStorage | undefined;
    afterEach(async () => {
      await storage?.remove();
    });

    it("load their whole active path and are listed with their summary in both orders, through both commit paths", async () => {
      storage = await backend.createStorage();
      const paths = [await storage.open(), await storage.open({ onCommit: async () => {} })];
      for (const [index, database] of paths.entries()) {
        const sessionId = `n\u0000\u0001-${index}`;
        const store = database.openSession(sessionId);
        await store.commit(
          commit({ sessionId, commitId: "t1", graph: append(chain(["a", "b", "c"])), usageDeltas: [turnUsage(usage(2, 1))] }),
        );
        await store.commit(commit({ sessionId, commitId: "t2", expectedHeadRevision: 1, graph: append([node("d", "c")]) }));
        const path = await store.loadSession({ type: "active_path" });
        expect(path?.graph.nodes.map((entry) => entry.nodeId)).toEqual(["a", "b", "c", "d"]);
      }
      const [database] = paths;
      if (database === undefined) throw new Error("no database");
      for (const orderBy of ["sessionId", "lastActivity"] as const) {
        const first = await database.listSessions({ orderBy, limit: 1 });
        const second = await database.listSessions({ orderBy, limit: 1, cursor: first.nextCursor });
        const listed = [...first.sessions, ...second.sessions];
        expect(listed.map((session) => session.sessionId).sort()).toEqual(["n\u0000\u0001-0", "n\u0000\u0001-1"]);
        for (const session of listed) expect(session).toMatchObject({ headRevision: 2, turnCount: 1, tokenUsage: usage(2, 1) });
        expect(second.nextCursor).toBeUndefined();
      }
    });
  });
}
