import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidPersistedDataError, type SessionCommit } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node, type TemporaryRoot, temporaryRoot, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";
import { createFileSessionDatabase } from "./file-session-database.js";

let root: TemporaryRoot;
let scratch: TemporaryRoot;

beforeEach(async () => {
  root = await temporaryRoot();
  scratch = await temporaryRoot();
});

afterEach(async () => {
  await root.remove();
  await scratch.remove();
});

function sessionDirectory(base: string, sessionId: string): string {
  return join(base, "sessions", encodeIdAsFileName(sessionId, "session id"));
}

/**
 * Leaves in the root exactly the files a commit writes before its head: the commit is applied to a
 * copy of the root, and everything it wrote except `head.json` is copied back. Stray temporary files
 * (a write cut short before its rename) are added too.
 */
async function leaveInterruptedCommit(sessionId: string, interrupted: SessionCommit): Promise<void> {
  await cp(root.path, scratch.path, { recursive: true });
  await createFileSessionDatabase({ root: scratch.path }).openSession(sessionId).commit(interrupted);
  const source = sessionDirectory(scratch.path, sessionId);
  const target = sessionDirectory(root.path, sessionId);
  for (const directory of ["revisions", "commits", "blobs", "bases"]) {
    await cp(join(source, directory), join(target, directory), { recursive: true, force: true });
  }
  await writeFile(join(target, ".tmp-0123456789abcdef01234567"), '{"format":1,"sessionId":"s1","revis');
  await writeFile(join(target, "revisions", ".tmp-89abcdef0123456789abcdef"), "");
}

async function seed(): Promise<void> {
  const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
  await store.commit(commit({ commitId: "t1", graph: append([node("m1"), node("m2", "m1")]), usageDeltas: [turnUsage(usage(10, 5))] }));
}

const interruptedCommit = commit({
  commitId: "t2",
  expectedHeadRevision: 1,
  graph: append([node("lost", "m2")]),
  checkpoint: { schemaVersion: 1, turnState: { turnIndex: 2, tokenUsage: usage(100, 100) } },
  usageDeltas: [turnUsage(usage(100, 100))],
});

describe("an interrupted commit (files written, head not renamed)", () => {
  it("leaves the previous head intact; the next commit lands at the next revision", async () => {
    await seed();
    await leaveInterruptedCommit("s1", interruptedCommit);
    expect(await readdir(join(sessionDirectory(root.path, "s1"), "revisions"))).toContain("2.json");

    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect(await store.loadHeadRevision()).toBe(1);
    const read = await store.loadSession({ type: "full_graph" });
    expect(read).toMatchObject({ headRevision: 1, graph: { nodes: [node("m1"), node("m2", "m1")], leafNodeId: "m2" } });
    expect(read?.tokenLedger).toEqual([turnUsage(usage(10, 5))]);
    expect(await store.loadNode("lost")).toBeUndefined();

    const other = commit({
      commitId: "t2-other",
      expectedHeadRevision: 1,
      graph: append([node("m3", "m2")]),
      usageDeltas: [turnUsage(usage(1, 1))],
    });
    expect(await store.commit(other)).toEqual({ headRevision: 2, commitId: "t2-other", replayed: false });
    const after = await createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" });
    expect(after?.graph.nodes.map((record) => record.nodeId)).toEqual(["m1", "m2", "m3"]);
    expect(after?.tokenLedger).toEqual([turnUsage(usage(11, 6))]);

    // The interrupted commit never landed: retried on the new head it is applied, not replayed.
    expect(await store.commit({ ...interruptedCommit, expectedHeadRevision: 2 })).toEqual({
      headRevision: 3,
      commitId: "t2",
      replayed: false,
    });
  });

  it("retried as it was, the interrupted commit is applied once", async () => {
    await seed();
    await leaveInterruptedCommit("s1", interruptedCommit);
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect(await store.commit(interruptedCommit)).toEqual({ headRevision: 2, commitId: "t2", replayed: false });
    expect(await store.commit(interruptedCommit)).toEqual({ headRevision: 2, commitId: "t2", replayed: true });
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(110, 105))]);
  });

  it("an interrupted replace_full leaves its base unreferenced", async () => {
    await seed();
    await leaveInterruptedCommit(
      "s1",
      commit({
        commitId: "t2",
        expectedHeadRevision: 1,
        graph: { type: "replace_full", graph: { nodes: [node("r1")], leafNodeId: "r1" } },
      }),
    );
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes.map((record) => record.nodeId)).toEqual(["m1", "m2"]);
    await store.commit(
      commit({
        commitId: "t2b",
        expectedHeadRevision: 1,
        graph: { type: "replace_full", graph: { nodes: [node("q1")], leafNodeId: "q1" } },
      }),
    );
    expect(
      (await createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" }))?.graph.nodes,
    ).toEqual([node("q1")]);
  });

  it("an interrupted first commit leaves no session", async () => {
    await leaveInterruptedCommit("s1", commit({ commitId: "t1", graph: append([node("m1")]) }));
    const database = createFileSessionDatabase({ root: root.path });
    expect(await database.openSession("s1").loadSession({ type: "full_graph" })).toBeUndefined();
    expect(await database.listSessions()).toEqual({ sessions: [] });
    expect(await database.openSession("s1").commit(commit({ commitId: "t1", graph: append([node("m1")]) }))).toEqual({
      headRevision: 1,
      commitId: "t1",
      replayed: false,
    });
  });

  it("vacuum and gcUnreachable clean the leftovers", async () => {
    await seed();
    await leaveInterruptedCommit("s1", interruptedCommit);
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect(await store.gcUnreachable()).toEqual({ rootCount: 1, retainedBlobCount: 1, deletedBlobCount: 1 });
    await store.vacuum();
    const directory = sessionDirectory(root.path, "s1");
    expect((await readdir(directory)).sort()).toEqual(["bases", "blobs", "commits", "head.json", "revisions"]);
    expect(await readdir(join(directory, "revisions"))).toEqual(["1.json"]);
    expect(await readdir(join(directory, "commits"))).toEqual([`${encodeIdAsFileName("t1", "commit id")}.json`]);
  });
});

describe("damaged files", () => {
  async function seedTwoSessions(): Promise<void> {
    const database = createFileSessionDatabase({ root: root.path });
    await seed();
    await database.openSession("healthy").commit(commit({ sessionId: "healthy", commitId: "t1", graph: append([node("h1")]) }));
  }

  async function expectHealthyStillLoads(): Promise<void> {
    const read = await createFileSessionDatabase({ root: root.path }).openSession("healthy").loadSession({ type: "full_graph" });
    expect(read?.graph.nodes).toEqual([node("h1")]);
  }

  it("a truncated head.json is InvalidPersistedDataError naming the session and the file", async () => {
    await seedTwoSessions();
    const headPath = join(sessionDirectory(root.path, "s1"), "head.json");
    const text = await readFile(headPath, "utf8");
    await writeFile(headPath, text.slice(0, Math.floor(text.length / 2)));
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    // One call at a time: a rejection must be awaited as soon as it exists, never left unhandled.
    const attempts = [
      () => store.loadSession({ type: "full_graph" }),
      () => store.loadHeadRevision(),
      () => store.loadNode("m1"),
      () => store.commit(commit({ commitId: "t2", expectedHeadRevision: 1 })),
    ];
    for (const attempt of attempts) {
      const error = await thrown(attempt());
      expect(InvalidPersistedDataError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ sessionId: "s1", path: "head.json" });
      expect(String(error)).toContain("truncated or malformed JSON");
    }
    await expectHealthyStillLoads();
  });

  it("a bad field in a revision file is named with its dotted path", async () => {
    await seedTwoSessions();
    const revisionPath = join(sessionDirectory(root.path, "s1"), "revisions", "1.json");
    const revision = JSON.parse(await readFile(revisionPath, "utf8")) as { nodes: { payload: { message: { role: string } } }[] };
    const second = revision.nodes[1];
    if (second === undefined) throw new Error("the seed has two nodes");
    second.payload.message.role = "robot";
    await writeFile(revisionPath, JSON.stringify(revision));
    const error = await thrown(createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" }));
    expect(InvalidPersistedDataError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ sessionId: "s1", path: "revisions/1.json.nodes.1.payload.message.role" });
    await expectHealthyStillLoads();
  });

  it("a checkpoint that does not match its address, or a missing one, is named", async () => {
    await seedTwoSessions();
    const blobs = join(sessionDirectory(root.path, "s1"), "blobs");
    const [blob] = await readdir(blobs);
    if (blob === undefined) throw new Error("the seed wrote a checkpoint");
    await writeFile(
      join(blobs, blob),
      '{"schemaVersion":1,"turnState":{"turnIndex":99,"tokenUsage":{"inputTokens":0,"outputTokens":0,"cachedInputTokens":0,"reasoningTokens":0}}}',
    );
    const error = await thrown(createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" }));
    expect(error).toMatchObject({ code: "invalid_persisted_data", sessionId: "s1", path: `blobs/${blob}` });
    await expectHealthyStillLoads();
  });

  it("a head copied into another session's directory is refused", async () => {
    await seedTwoSessions();
    await cp(join(sessionDirectory(root.path, "s1"), "head.json"), join(sessionDirectory(root.path, "healthy"), "head.json"));
    const error = await thrown(createFileSessionDatabase({ root: root.path }).openSession("healthy").loadSession({ type: "full_graph" }));
    expect(error).toMatchObject({ code: "invalid_persisted_data", sessionId: "healthy", path: "head.json.sessionId" });
    // The listing does not fail: it lists the session and names the damage.
    const listing = await createFileSessionDatabase({ root: root.path }).listSessions();
    expect(listing.sessions.find((session) => session.sessionId === "healthy")).toMatchObject({
      headRevision: 0,
      problem: { field: "head.json.sessionId" },
    });
  });

  it("a head whose leaf is gone fails an active_path load, not a full_graph load", async () => {
    await seedTwoSessions();
    const headPath = join(sessionDirectory(root.path, "s1"), "head.json");
    const head = JSON.parse(await readFile(headPath, "utf8")) as Record<string, unknown>;
    await writeFile(headPath, JSON.stringify({ ...head, leafNodeId: "missing" }));
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect(await thrown(store.loadSession({ type: "active_path" }))).toMatchObject({
      code: "invalid_persisted_data",
      path: "head.json.leafNodeId",
    });
    expect((await store.loadSession({ type: "full_graph" }))?.graph.leafNodeId).toBe("missing");
    expect(await thrown(store.loadSession({ type: "active_path", leafNodeId: "missing" }))).toMatchObject({ code: "invalid_argument" });
  });
});
