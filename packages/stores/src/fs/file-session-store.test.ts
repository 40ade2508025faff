import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CommitIdConflictError,
  HeadRevisionConflictError,
  LashError,
  mergeTokenLedger,
  SessionBindingMismatchError,
  type SessionNodeRecord,
} from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node, type TemporaryRoot, temporaryRoot, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";
import { createFileSessionDatabase, type FileSessionDatabase } from "./file-session-database.js";
import { MAX_REVISIONS_PER_BASE } from "./session-commit.js";

let root: TemporaryRoot;
let database: FileSessionDatabase;

beforeEach(async () => {
  root = await temporaryRoot();
  database = createFileSessionDatabase({ root: root.path });
});

afterEach(async () => {
  await root.remove();
});

/** A database object over the same root with nothing in memory: what another process would see. */
function reopened(): FileSessionDatabase {
  return createFileSessionDatabase({ root: root.path });
}

function sessionDirectory(sessionId: string): string {
  return join(root.path, "sessions", encodeIdAsFileName(sessionId, "session id"));
}

describe("FileSessionStore: commits", () => {
  it("writes nothing, not even the root, until the first write", async () => {
    const nested = createFileSessionDatabase({ root: join(root.path, "not", "yet") });
    const store = nested.openSession("s1");
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(await store.loadHeadRevision()).toBeUndefined();
    expect(await store.loadSessionMeta()).toBeUndefined();
    expect(await nested.listSessions()).toEqual({ sessions: [] });
    expect(await readdir(root.path)).toEqual([]);
    await store.commit(commit({ commitId: "t1:final", graph: append([node("m1")]) }));
    expect(await reopened().openSession("s1").loadHeadRevision()).toBeUndefined();
    expect(await nested.openSession("s1").loadHeadRevision()).toBe(1);
  });

  it("applies commits, survives a reopen, and reports the contract's errors", async () => {
    const store = database.openSession("s1");
    const first = commit({ commitId: "t1:final", graph: append([node("m1"), node("m2", "m1")]), usageDeltas: [turnUsage(usage(10, 5))] });
    expect(await store.commit(first)).toEqual({ headRevision: 1, commitId: "t1:final", replayed: false });
    expect(await store.commit(structuredClone(first))).toEqual({ headRevision: 1, commitId: "t1:final", replayed: true });
    expect(CommitIdConflictError.isInstance(await thrown(store.commit({ ...first, usageDeltas: [] })))).toBe(true);
    expect(await thrown(store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 5 })))).toMatchObject({ expected: 5, actual: 1 });
    expect(HeadRevisionConflictError.isInstance(await thrown(store.commit(commit({ commitId: "t2:final" }))))).toBe(true);
    expect(
      SessionBindingMismatchError.isInstance(
        await thrown(store.commit(commit({ sessionId: "s2", commitId: "t2:final", expectedHeadRevision: 1 }))),
      ),
    ).toBe(true);
    const duplicate = await thrown(
      store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m2", "m1")]) })),
    );
    expect(LashError.isInstance(duplicate) && duplicate.code).toBe("invalid_argument");
    const missingLeaf = await thrown(
      store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "nope" } })),
    );
    expect(LashError.isInstance(missingLeaf) && missingLeaf.code).toBe("invalid_argument");
    await store.commit(
      commit({
        commitId: "t2:final",
        expectedHeadRevision: 1,
        graph: append([node("m3", "m2")]),
        usageDeltas: [turnUsage(usage(1, 1)), turnUsage(usage(0, 0))],
      }),
    );

    const read = await reopened().openSession("s1").loadSession({ type: "full_graph" });
    expect(read).toMatchObject({
      sessionId: "s1",
      headRevision: 2,
      graph: { nodes: [node("m1"), node("m2", "m1"), node("m3", "m2")], leafNodeId: "m3" },
    });
    expect(read?.tokenLedger).toEqual([turnUsage(usage(11, 6))]);
    expect(read?.checkpoint).toEqual(first.checkpoint);
  });

  it("rejects a malformed commit with invalid_argument and writes nothing", async () => {
    const store = database.openSession("s1");
    const malformed = commit({ commitId: "t1:final", graph: append([{ ...node("m1"), timestamp: 5 } as unknown as SessionNodeRecord]) });
    const error = await thrown(store.commit(malformed));
    expect(LashError.isInstance(error) && error.code).toBe("invalid_argument");
    expect(await store.loadHeadRevision()).toBeUndefined();
  });

  // Well over a hundred durable commits (each flushes several files): more than the default budget on a busy disk.
  it("keeps commits cheap: appends write revision files, and a base only every so many commits", { timeout: 120_000 }, async () => {
    const store = database.openSession("s1");
    const total = MAX_REVISIONS_PER_BASE * 2 + 5;
    let parent: string | undefined;
    for (let turn = 1; turn <= total; turn += 1) {
      const id = `m${turn}`;
      await store.commit(
        commit({
          commitId: `t${turn}`,
          expectedHeadRevision: turn === 1 ? undefined : turn - 1,
          graph: append([node(id, parent)]),
          usageDeltas: [turnUsage(usage(1, 0))],
        }),
      );
      parent = id;
    }
    const revisionFiles = await readdir(join(sessionDirectory("s1"), "revisions"));
    expect(revisionFiles.length).toBeLessThanOrEqual(MAX_REVISIONS_PER_BASE);
    expect((await readdir(join(sessionDirectory("s1"), "bases"))).length).toBe(1);

    const fresh = reopened().openSession("s1");
    const read = await fresh.loadSession({ type: "active_path" });
    expect(read?.headRevision).toBe(total);
    expect(read?.graph.nodes.map((record) => record.nodeId)).toEqual(Array.from({ length: total }, (_, index) => `m${index + 1}`));
    expect(read?.tokenLedger).toEqual([turnUsage(usage(total, 0))]);
    // Every commit id is still known after its revision file was folded into a base.
    expect(await fresh.commit(commit({ commitId: "t1", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 0))] }))).toEqual({
      headRevision: 1,
      commitId: "t1",
      replayed: true,
    });
  });

  it("replace_full, tombstones and vacuum work across reopens", async () => {
    const store = database.openSession("s1");
    await store.commit(commit({ commitId: "t1", graph: append([node("m1"), node("m2", "m1")]), usageDeltas: [turnUsage(usage(2, 2))] }));
    await store.commit(
      commit({
        commitId: "t2",
        expectedHeadRevision: 1,
        graph: { type: "replace_full", graph: { nodes: [node("r1"), node("r2", "r1"), node("b1", "r1")], leafNodeId: "r2" } },
        usageDeltas: [turnUsage(usage(1, 1), "child")],
      }),
    );
    await store.commit(commit({ commitId: "t3", expectedHeadRevision: 2, graph: append([node("r3", "r2")]) }));
    await store.tombstoneNodes(["b1", "unknown"]);
    expect(await store.loadHeadRevision()).toBe(3);
    expect(await reopened().openSession("s1").loadNode("b1")).toBeUndefined();
    const hidden = await thrown(store.commit(commit({ commitId: "t4", expectedHeadRevision: 3, graph: append([node("b1", "r1")]) })));
    expect(LashError.isInstance(hidden) && hidden.code).toBe("invalid_argument");

    const afterTombstone = await reopened().openSession("s1").loadSession({ type: "full_graph" });
    expect(afterTombstone?.graph.nodes.map((record) => record.nodeId)).toEqual(["r1", "r2", "r3"]);
    expect(afterTombstone?.tokenLedger).toEqual(mergeTokenLedger([], [turnUsage(usage(2, 2)), turnUsage(usage(1, 1), "child")]));

    expect(await reopened().openSession("s1").vacuum()).toEqual({ removedNodeCount: 1 });
    expect(await store.vacuum()).toEqual({ removedNodeCount: 0 });
    await store.commit(commit({ commitId: "t4", expectedHeadRevision: 3, graph: append([node("b1", "r1")]) }));
    const final = await reopened().openSession("s1").loadSession({ type: "full_graph" });
    expect(final?.graph).toEqual({ nodes: [node("r1"), node("r2", "r1"), node("r3", "r2"), node("b1", "r1")], leafNodeId: "b1" });
  });

  it("keeps only the head's checkpoint blob after gcUnreachable", async () => {
    const store = database.openSession("s1");
    for (let turn = 1; turn <= 3; turn += 1) {
      await store.commit(
        commit({
          commitId: `t${turn}`,
          expectedHeadRevision: turn === 1 ? undefined : turn - 1,
          checkpoint: { schemaVersion: 1, turnState: { turnIndex: turn, tokenUsage: usage(0, 0) } },
        }),
      );
    }
    expect(await store.gcUnreachable()).toEqual({ rootCount: 1, retainedBlobCount: 1, deletedBlobCount: 2 });
    expect(await readdir(join(sessionDirectory("s1"), "blobs"))).toHaveLength(1);
    expect((await reopened().openSession("s1").loadSession({ type: "full_graph" }))?.checkpoint?.turnState.turnIndex).toBe(3);
    expect(await database.openSession("empty").gcUnreachable()).toEqual({ rootCount: 0, retainedBlobCount: 0, deletedBlobCount: 0 });
  });
});

describe("FileSessionDatabase: meta, listing and deletion", () => {
  it("createStore writes meta once, with the working directory, and keeps it on reopen", async () => {
    const policy = { sessionId: "child-1", providerId: "mock", model: "model-a", maxContextTokens: 1000, executionMode: "standard" };
    const store = await database.createStore({
      sessionId: "child-1",
      parentSessionId: "root-1",
      relation: { type: "child", parentSessionId: "root-1" },
      policy,
    });
    const meta = await store.loadSessionMeta();
    expect(meta).toMatchObject({
      sessionId: "child-1",
      sessionName: "child-1",
      model: "model-a",
      cwd: process.cwd(),
      parentSessionId: "root-1",
      relation: { type: "child", parentSessionId: "root-1" },
    });
    expect(Number.isNaN(Date.parse(meta?.createdAt ?? ""))).toBe(false);
    const again = await reopened().createStore({
      sessionId: "child-1",
      relation: { type: "root" },
      policy: { ...policy, model: "model-b" },
    });
    expect(await again.loadSessionMeta()).toEqual(meta);
  });

  it("lists sessions in code-point order with cursors and filters", async () => {
    const ids = [
      "b",
      "a",
      "\u{1F600}",
      "\uFFFD",
      "A",
      "a".repeat(100),
      `${"a".repeat(100)}b`,
      `${"a".repeat(100)}\u{10000}`,
      "a".repeat(64),
    ];
    for (const id of ids) {
      await database.openSession(id).saveSessionMeta({
        sessionId: id,
        sessionName: id,
        createdAt: "2025-01-01T00:00:00.000Z",
        model: "m",
        relation: id === "b" ? { type: "child", parentSessionId: "a" } : { type: "root" },
        ...(id === "b" ? { parentSessionId: "a" } : {}),
      });
    }
    await database.openSession("c").commit(commit({ sessionId: "c", commitId: "t1" }));
    const expected = [...ids, "c"].sort((left, right) => {
      const leftPoints = [...left].map((character) => character.codePointAt(0) ?? 0);
      const rightPoints = [...right].map((character) => character.codePointAt(0) ?? 0);
      for (let index = 0; index < Math.min(leftPoints.length, rightPoints.length); index += 1) {
        if (leftPoints[index] !== rightPoints[index]) return (leftPoints[index] ?? 0) - (rightPoints[index] ?? 0);
      }
      return leftPoints.length - rightPoints.length;
    });
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await reopened().listSessions({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      listed.push(...page.sessions.map((summary) => summary.sessionId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(listed).toEqual(expected);
    const committed = (await database.listSessions({ limit: 1000 })).sessions.find((summary) => summary.sessionId === "c");
    expect(committed).toEqual({
      sessionId: "c",
      headRevision: 1,
      model: "mock-model",
      turnCount: 1,
      lastActivityAt: expect.any(String),
      tokenUsage: usage(0, 0),
    });
    expect((await database.listSessions({ parentSessionId: "a" })).sessions.map((summary) => summary.sessionId)).toEqual(["b"]);
    expect((await database.listSessions({ relationType: "child" })).sessions.map((summary) => summary.sessionId)).toEqual(["b"]);
    const invalid = await thrown(database.listSessions({ limit: 1001 }));
    expect(LashError.isInstance(invalid) && invalid.code).toBe("invalid_argument");
  });

  it("deletes a session through the trash, leaves others alone, and lets the id start over", async () => {
    await database.openSession("keep").commit(commit({ sessionId: "keep", commitId: "t1", graph: append([node("k1")]) }));
    const store = database.openSession("gone");
    await store.commit(commit({ sessionId: "gone", commitId: "t1", graph: append([node("g1")]) }));
    await store.saveSessionMeta({
      sessionId: "gone",
      sessionName: "gone",
      createdAt: "2025-01-01T00:00:00.000Z",
      model: "m",
      relation: { type: "root" },
    });
    await store.deleteSession();
    await store.deleteSession();
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(await store.loadSessionMeta()).toBeUndefined();
    expect((await database.listSessions()).sessions.map((summary) => summary.sessionId)).toEqual(["keep"]);
    expect(await readdir(join(root.path, "trash"))).toEqual([]);
    expect(await store.commit(commit({ sessionId: "gone", commitId: "t1", graph: append([node("g2")]) }))).toEqual({
      headRevision: 1,
      commitId: "t1",
      replayed: false,
    });
    expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([node("g2")]);
    expect((await database.openSession("keep").loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([node("k1")]);
  });

  it("stores the exact id inside the session's files", async () => {
    const id = "Session/../Ünïcode\u0000";
    await database.openSession(id).commit(commit({ sessionId: id, commitId: "t1" }));
    const head = JSON.parse(await readFile(join(sessionDirectory(id), "head.json"), "utf8")) as { sessionId: string };
    expect(head.sessionId).toBe(id);
  });
});
