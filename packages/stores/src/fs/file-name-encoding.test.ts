import { readdir } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { compareCodePoints, LashError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node, type TemporaryRoot, temporaryRoot, thrown } from "../../test/fixtures.js";
import { encodedNameOrder, encodeIdAsFileName, idHex, sortsAtOrBeforeCursor } from "./file-name-encoding.js";
import { createFileSessionDatabase } from "./file-session-database.js";

const HOSTILE_IDS = [
  "../x",
  "..",
  ".",
  "/abs",
  "/etc/passwd",
  "C:\\x",
  "\\\\server\\share\\x",
  "a/b/../../../../escape",
  "with\u0000nul",
  "x".repeat(10_000),
  `${"y".repeat(64)}tail-one`,
  `${"y".repeat(64)}tail-two`,
  "Case",
  "case",
  "CASE",
  "caf\u00e9",
  "cafe\u0301",
  "\uD800",
  "\uFFFD",
  "\u{1F600}",
  "CON",
  "nul",
  "aux.txt",
  " ",
  "trailing. ",
  '*?<>|:"',
  "~",
  "head.json",
];

/** Every path under `directory`, relative to it. */
async function walk(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.map((entry) => relative(directory, join(entry.parentPath, entry.name)));
}

/** A deterministic pseudo-random generator, so a failure can be reproduced. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function randomId(next: () => number): string {
  const alphabet = ["a", "b", "A", "\u00e9", "\u0800", "\uD800", "\uDC00", "\uFFFF", "\u{10000}", "\u{1F600}", "\u0000", "/"];
  const length = Math.floor(next() * 6) + 1;
  let id = "";
  for (let index = 0; index < length; index += 1) id += alphabet[Math.floor(next() * alphabet.length)];
  return id;
}

describe("encodeIdAsFileName", () => {
  it("gives distinct names of lowercase hex (and one dash) for ids that differ in case, normalisation or surrogates", () => {
    const names = HOSTILE_IDS.map((id) => encodeIdAsFileName(id, "session id"));
    expect(new Set(names).size).toBe(HOSTILE_IDS.length);
    expect(new Set(names.map((name) => name.toLowerCase())).size).toBe(HOSTILE_IDS.length);
    for (const name of names) {
      expect(name).toMatch(/^[0-9a-f]+(-[0-9a-f]{64})?$/);
      expect(name.length).toBeLessThanOrEqual(193);
    }
  });

  it("rejects an empty id", () => {
    const error = (() => {
      try {
        encodeIdAsFileName("", "session id");
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(LashError.isInstance(error) && error.code).toBe("invalid_argument");
  });

  it("orders short names as compareCodePoints orders their ids", () => {
    const next = generator(7);
    for (let round = 0; round < 2_000; round += 1) {
      const left = randomId(next);
      const right = randomId(next);
      const leftName = encodeIdAsFileName(left, "id");
      const rightName = encodeIdAsFileName(right, "id");
      const byName = leftName < rightName ? -1 : leftName > rightName ? 1 : 0;
      expect([left, right, byName]).toEqual([left, right, Math.sign(compareCodePoints(left, right))]);
    }
  });

  it("never skips an id after the cursor", () => {
    const next = generator(11);
    for (let round = 0; round < 2_000; round += 1) {
      const id = round % 3 === 0 ? `${"z".repeat(64)}${randomId(next)}` : randomId(next);
      const cursor = round % 5 === 0 ? `${"z".repeat(64)}${randomId(next)}` : randomId(next);
      const order = encodedNameOrder(encodeIdAsFileName(id, "id"));
      if (order === undefined) throw new Error(`no order for ${JSON.stringify(id)}`);
      if (compareCodePoints(id, cursor) > 0) expect([id, cursor, sortsAtOrBeforeCursor(order, idHex(cursor))]).toEqual([id, cursor, false]);
    }
  });

  it("does not take names that are not encoded ids for sessions", () => {
    for (const name of [".tmp-0a1b", "0", "0A", "zz", "ab-cd", `${"ab".repeat(64)}-${"0".repeat(63)}`])
      expect(encodedNameOrder(name)).toBeUndefined();
  });
});

describe("hostile ids on a real root", () => {
  let root: TemporaryRoot;

  beforeEach(async () => {
    root = await temporaryRoot();
  });

  afterEach(async () => {
    await root.remove();
  });

  it("keeps every file inside the root, one directory per id, and lists the exact ids back", { timeout: 60_000 }, async () => {
    const database = createFileSessionDatabase({ root: root.path });
    for (const id of HOSTILE_IDS) {
      const store = database.openSession(id);
      // Node and commit ids are hostile too.
      await store.commit(commit({ sessionId: id, commitId: id, graph: append([node(id), node(`${id}/../child`, id)]) }));
      await store.saveSessionMeta({
        sessionId: id,
        sessionName: id,
        createdAt: "2025-01-01T00:00:00.000Z",
        model: "m",
        relation: { type: "root" },
      });
    }
    const paths = await walk(root.path);
    for (const path of paths) {
      expect(resolve(root.path, path).startsWith(`${resolve(root.path)}${sep}`)).toBe(true);
      for (const segment of path.split(sep)) expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(255);
    }
    expect(new Set(paths.map((path) => path.split(sep)[0]))).toEqual(new Set(["sessions", "locks"]));
    expect(await readdir(join(root.path, "sessions"))).toHaveLength(HOSTILE_IDS.length);
    expect(await readdir(join(root.path, "locks"))).toEqual([]);

    const reopened = createFileSessionDatabase({ root: root.path });
    const listed = (await reopened.listSessions({ limit: 1000 })).sessions.map((summary) => summary.sessionId);
    expect(listed).toEqual([...HOSTILE_IDS].sort(compareCodePoints));
    for (const id of HOSTILE_IDS) {
      const read = await reopened.openSession(id).loadSession({ type: "active_path" });
      expect(read?.sessionId).toBe(id);
      expect(read?.graph.nodes.map((record) => record.nodeId)).toEqual([id, `${id}/../child`]);
      expect((await reopened.openSession(id).loadSessionMeta())?.sessionId).toBe(id);
      expect(
        (
          await reopened
            .openSession(id)
            .commit(commit({ sessionId: id, commitId: id, graph: append([node(id), node(`${id}/../child`, id)]) }))
        ).replayed,
      ).toBe(true);
    }
  });

  it("rejects an empty session id when opening", async () => {
    const database = createFileSessionDatabase({ root: root.path });
    const error = await thrown((async () => database.openSession(""))());
    expect(LashError.isInstance(error) && error.code).toBe("invalid_argument");
  });
});
