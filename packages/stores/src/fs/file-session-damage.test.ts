import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidPersistedDataError, LashError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  deeplyNestedCheckpointJson,
  deeplyNestedJson,
  deeplyNestedNodeJson,
  deeplyNestedValue,
  HOSTILE_DEPTH,
  rootMeta,
} from "../../test/damaged-data.js";
import { append, chain, commit, node, type TemporaryRoot, temporaryRoot, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";
import { createFileSessionDatabase, type FileSessionDatabase } from "./file-session-database.js";

let root: TemporaryRoot;
let database: FileSessionDatabase;

beforeEach(async () => {
  root = await temporaryRoot();
  database = createFileSessionDatabase({ root: root.path });
});

afterEach(async () => {
  await root.remove();
});

/** A session id longer than the short file-name form: its directory name cannot be decoded. */
const LONG_ID = `long-${"x".repeat(80)}`;

function fileOf(sessionId: string, file: string): string {
  return join(root.path, "sessions", encodeIdAsFileName(sessionId, "session id"), file);
}

/** Three committed sessions with meta: `a`, `bad` (the one a test damages) and `z`. */
async function seed(ids: readonly string[] = ["a", "bad", "z"]): Promise<void> {
  for (const sessionId of ids) {
    const store = database.openSession(sessionId);
    await store.saveSessionMeta(rootMeta(sessionId));
    await store.commit(commit({ sessionId, commitId: "t1", graph: append(chain(["m1", "m2"])) }));
  }
}

/** A fresh database object: nothing of the damaged session is cached. */
function reopened(): FileSessionDatabase {
  return createFileSessionDatabase({ root: root.path });
}

function expectDamage(error: unknown, sessionId: string, path: string, ...words: string[]): void {
  expect(InvalidPersistedDataError.isInstance(error)).toBe(true);
  expect(error).toMatchObject({ code: "invalid_persisted_data", sessionId, path });
  const message = (error as Error).message;
  expect(message).toContain(`\`${sessionId}\``);
  for (const word of words) expect(message).toContain(word);
  expect(message).not.toMatch(/call stack|unavailable/i);
}

async function expectOthersReadable(ids: readonly string[] = ["a", "z"]): Promise<void> {
  for (const sessionId of ids) {
    expect((await reopened().openSession(sessionId).loadSession({ type: "full_graph" }))?.graph.nodes).toEqual(chain(["m1", "m2"]));
  }
}

async function listedIds(): Promise<string[]> {
  return (await reopened().listSessions()).sessions.map((session) => session.sessionId);
}

describe("FileSessionStore: damaged files", () => {
  it(`a revision file that is not JSON, or that nests ${HOSTILE_DEPTH} levels deep: the listing holds every session; loads name the session and the file`, async () => {
    await seed();
    const revision = JSON.parse(await readFile(fileOf("bad", "revisions/1.json"), "utf8")) as { nodes: unknown[] };
    const damage = [
      { text: '{"format":1,"nodes":[', words: ["not valid JSON"] },
      {
        text: JSON.stringify({ ...revision, nodes: [revision.nodes[0], "__DEEP__"] }).replace(
          '"__DEEP__"',
          deeplyNestedNodeJson("m2", "m1"),
        ),
        words: ["nested deeper than 512"],
      },
    ];
    for (const { text, words } of damage) {
      await writeFile(fileOf("bad", "revisions/1.json"), text);
      expect(await listedIds()).toEqual(["a", "bad", "z"]);
      const store = reopened().openSession("bad");
      for (const scope of [{ type: "full_graph" as const }, { type: "active_path" as const }]) {
        expectDamage(await thrown(store.loadSession(scope)), "bad", "revisions/1.json", ...words);
      }
      expectDamage(await thrown(store.loadNode("m2")), "bad", "revisions/1.json", ...words);
      await expectOthersReadable();
    }
  });

  it(`a checkpoint nested ${HOSTILE_DEPTH} levels deep (at its own address) is refused, never a stack overflow`, async () => {
    await seed();
    const text = deeplyNestedCheckpointJson();
    const address = createHash("sha256").update(text).digest("hex");
    await writeFile(fileOf("bad", `blobs/${address}.json`), text);
    const head = JSON.parse(await readFile(fileOf("bad", "head.json"), "utf8")) as Record<string, unknown>;
    await writeFile(fileOf("bad", "head.json"), JSON.stringify({ ...head, checkpointRef: address }));
    expectDamage(
      await thrown(reopened().openSession("bad").loadSession({ type: "full_graph" })),
      "bad",
      `blobs/${address}.json`,
      "nested deeper than 512",
    );
    expect(await listedIds()).toEqual(["a", "bad", "z"]);
    await expectOthersReadable();
  });

  it(`a head.json that is not JSON, nests ${HOSTILE_DEPTH} levels deep or fails its schema: the listing marks the session, loads throw`, async () => {
    await seed();
    const head = JSON.parse(await readFile(fileOf("bad", "head.json"), "utf8")) as Record<string, unknown>;
    const damage = [
      { text: JSON.stringify(head).slice(0, 40), field: "head.json", words: ["not valid JSON"] },
      { text: deeplyNestedJson(), field: "head.json", words: ["nested deeper than 512"] },
      { text: JSON.stringify({ ...head, config: { providerId: "mock" } }), field: "head.json.config.model", words: [] },
    ];
    for (const { text, field, words } of damage) {
      await writeFile(fileOf("bad", "head.json"), text);
      const page = await reopened().listSessions();
      expect(page.sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
      // The meta could be read and is kept; the head could not, so no revision is claimed.
      expect(page.sessions[1]).toMatchObject({ sessionId: "bad", headRevision: 0, meta: rootMeta("bad"), problem: { field } });
      for (const word of [...words, "`bad`"]) expect(page.sessions[1]?.problem?.message).toContain(word);
      expect(page.sessions[0]).toMatchObject({ sessionId: "a", headRevision: 1, meta: rootMeta("a"), turnCount: 1 });
      expect(page.sessions[0]?.problem).toBeUndefined();
      expect(page.sessions[1]?.lastActivityAt).toBeUndefined();
      const store = reopened().openSession("bad");
      expectDamage(await thrown(store.loadSession({ type: "full_graph" })), "bad", field, ...words);
      expectDamage(await thrown(store.loadHeadRevision()), "bad", field, ...words);
      await expectOthersReadable();
    }
  });

  it("a meta.json that is not JSON, nests too deep or fails its schema: the listing marks the session and keeps its head revision", async () => {
    await seed();
    const damage = [
      { text: '{"format":1,"meta":{', field: "meta.json", words: ["not valid JSON"] },
      { text: deeplyNestedJson(), field: "meta.json", words: ["nested deeper than 512"] },
      {
        text: JSON.stringify({ format: 1, meta: { ...rootMeta("bad"), relation: { type: "adopted" } } }),
        field: "meta.json.meta.relation.type",
        words: [],
      },
    ];
    for (const { text, field, words } of damage) {
      await writeFile(fileOf("bad", "meta.json"), text);
      const page = await reopened().listSessions();
      expect(page.sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
      expect(page.sessions[1]).toMatchObject({ sessionId: "bad", headRevision: 1, problem: { field } });
      expect(page.sessions[1]?.meta).toBeUndefined();
      for (const word of words) expect(page.sessions[1]?.problem?.message).toContain(word);
      expectDamage(await thrown(reopened().openSession("bad").loadSessionMeta()), "bad", field, ...words);
      // The graph itself is intact.
      expect((await reopened().openSession("bad").loadSession({ type: "full_graph" }))?.headRevision).toBe(1);
    }
  });

  it("a session whose head and meta are both unreadable is still listed under its id: from the directory name, or from what the files still say", async () => {
    await seed(["a", "bad", LONG_ID, "z"]);
    for (const sessionId of ["bad", LONG_ID]) {
      // Cut short after the id: the text no longer parses, but still names its session.
      const head = await readFile(fileOf(sessionId, "head.json"), "utf8");
      await writeFile(
        fileOf(sessionId, "head.json"),
        head.slice(0, head.indexOf('"sessionId"') + `"sessionId":${JSON.stringify(sessionId)},`.length),
      );
      await writeFile(fileOf(sessionId, "meta.json"), "{");
    }
    const page = await reopened().listSessions();
    expect(page.sessions.map((session) => session.sessionId)).toEqual(["a", "bad", LONG_ID, "z"]);
    expect(page.sessions[1]).toMatchObject({ sessionId: "bad", headRevision: 0, problem: { field: "head.json" } });
    expect(page.sessions[2]).toMatchObject({ sessionId: LONG_ID, headRevision: 0, problem: { field: "head.json" } });
    // The damaged session can be deleted by its listed id.
    await reopened().openSession("bad").deleteSession();
    expect(await listedIds()).toEqual(["a", LONG_ID, "z"]);
  });

  it("a head copied into another session's directory marks that session in the listing", async () => {
    await seed();
    await writeFile(fileOf("a", "head.json"), await readFile(fileOf("bad", "head.json"), "utf8"));
    const page = await reopened().listSessions();
    expect(page.sessions.map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
    expect(page.sessions[0]).toMatchObject({
      sessionId: "a",
      headRevision: 0,
      meta: rootMeta("a"),
      problem: { field: "head.json.sessionId" },
    });
    expect(page.sessions[1]).toMatchObject({ sessionId: "bad", headRevision: 1, meta: rootMeta("bad"), turnCount: 1 });
    expect(page.sessions[1]?.problem).toBeUndefined();
  });

  it("a head written before summaries existed lists its model only and sorts last by activity; its next commit writes the summary", async () => {
    await seed(["a", "old"]);
    const head = JSON.parse(await readFile(fileOf("old", "head.json"), "utf8")) as Record<string, unknown>;
    delete head.summary;
    await writeFile(fileOf("old", "head.json"), JSON.stringify(head));
    const byActivity = await reopened().listSessions({ orderBy: "lastActivity" });
    expect(byActivity.sessions.map((session) => session.sessionId)).toEqual(["a", "old"]);
    expect(byActivity.sessions[1]).toEqual({ sessionId: "old", headRevision: 1, meta: rootMeta("old"), model: "mock-model" });
    await reopened()
      .openSession("old")
      .commit(commit({ sessionId: "old", commitId: "t2", expectedHeadRevision: 1, usageDeltas: [turnUsage(usage(3, 4))] }));
    const after = await reopened().listSessions({ orderBy: "lastActivity" });
    expect(after.sessions.map((session) => session.sessionId)).toEqual(["old", "a"]);
    // The totals come from the whole ledger, so a head without a summary loses nothing.
    expect(after.sessions[0]).toMatchObject({ headRevision: 2, turnCount: 1, tokenUsage: usage(3, 4) });
  });

  it("a session whose meta was saved but that was killed before its first commit is listed with headRevision 0", async () => {
    await seed();
    await database.openSession("empty").saveSessionMeta(rootMeta("empty"));
    const listed = (await reopened().listSessions()).sessions;
    expect(listed.find((session) => session.sessionId === "empty")).toEqual({
      sessionId: "empty",
      headRevision: 0,
      meta: rootMeta("empty"),
      lastActivityAt: rootMeta("empty").createdAt,
    });
    expect(listed.filter((session) => session.headRevision > 0).map((session) => session.sessionId)).toEqual(["a", "bad", "z"]);
  });

  it("a commit nested deeper than the store can read back is refused with invalid_argument, and nothing is written", async () => {
    const store = database.openSession("s1");
    for (const depth of [600, HOSTILE_DEPTH]) {
      const deepNode = { ...node("m1"), payload: { kind: "plugin" as const, pluginType: "probe", body: deeplyNestedValue(depth) } };
      const refused = await thrown(store.commit(commit({ commitId: "t1", graph: append([deepNode as never]) })));
      expect(LashError.isInstance(refused) && refused.code === "invalid_argument").toBe(true);
      expect((refused as Error).message).toContain("graph.nodes.0");
    }
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(await readdir(root.path).catch(() => [])).not.toContain("sessions/7331");
    // Just inside the limit, the commit lands and reads back, even from the base file (3 levels deeper).
    const deepest = { ...node("m1"), payload: { kind: "plugin" as const, pluginType: "probe", body: deeplyNestedValue(496) } };
    await store.commit(commit({ commitId: "t1", graph: append([deepest as never]) }));
    expect((await reopened().openSession("s1").loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([deepest]);
  });
});
