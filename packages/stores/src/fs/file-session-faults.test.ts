import * as nodeFileSystem from "node:fs/promises";
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { StoreUnavailableError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node, type TemporaryRoot, temporaryRoot, thrown, turnUsage, usage } from "../../test/fixtures.js";
import type { FileSystemOperations } from "./file-access.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";
import { createFileSessionDatabase } from "./file-session-database.js";

let root: TemporaryRoot;

beforeEach(async () => {
  root = await temporaryRoot();
});

afterEach(async () => {
  await root.remove();
});

function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/**
 * `node:fs/promises` with faults a test switches on: a full disk for data files, a failing rename of
 * the head (the commit point), unreadable files. A real disk cannot be filled or broken on demand.
 */
function faultyFileSystem(): {
  fileSystem: FileSystemOperations;
  faults: { diskFull: boolean; headRenameFails: boolean; readsDenied: boolean };
} {
  const faults = { diskFull: false, headRenameFails: false, readsDenied: false };
  const fileSystem: FileSystemOperations = {
    ...nodeFileSystem,
    writeFile: async (...args: Parameters<typeof nodeFileSystem.writeFile>) => {
      if (faults.diskFull && String(args[0]).includes(".tmp-")) throw systemError("ENOSPC");
      return nodeFileSystem.writeFile(...args);
    },
    rename: async (from: nodeFileSystem.FileHandle | string | Buffer | URL, to: string | Buffer | URL) => {
      if (faults.headRenameFails && basename(String(to)) === "head.json") throw systemError("EIO");
      return nodeFileSystem.rename(String(from), to);
    },
    readFile: (async (...args: Parameters<typeof nodeFileSystem.readFile>) => {
      if (faults.readsDenied) throw systemError("EACCES");
      return nodeFileSystem.readFile(...args);
    }) as typeof nodeFileSystem.readFile,
  };
  return { fileSystem, faults };
}

const second = commit({
  commitId: "t2",
  expectedHeadRevision: 1,
  graph: append([node("m2", "m1")]),
  checkpoint: { schemaVersion: 1, turnState: { turnIndex: 2, tokenUsage: usage(0, 0) } },
  usageDeltas: [turnUsage(usage(5, 5))],
});

async function expectFirstCommitOnly(): Promise<void> {
  const read = await createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" });
  expect(read).toMatchObject({ headRevision: 1, graph: { nodes: [node("m1")], leafNodeId: "m1" }, tokenLedger: [turnUsage(usage(1, 1))] });
}

describe("I/O faults", () => {
  it("a full disk fails the commit with StoreUnavailableError (cause kept) and corrupts nothing", async () => {
    const { fileSystem, faults } = faultyFileSystem();
    const store = createFileSessionDatabase({ root: root.path, fileSystem }).openSession("s1");
    await store.commit(commit({ commitId: "t1", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] }));
    faults.diskFull = true;
    const error = await thrown(store.commit(second));
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: "ENOSPC" });
    await expectFirstCommitOnly();
    const directory = join(root.path, "sessions", encodeIdAsFileName("s1", "session id"));
    for (const folder of ["", "revisions", "commits", "blobs"]) {
      expect((await readdir(join(directory, folder))).filter((name) => name.startsWith(".tmp-"))).toEqual([]);
    }
    const metaError = await thrown(
      store.saveSessionMeta({
        sessionId: "s1",
        sessionName: "s1",
        createdAt: "2025-01-01T00:00:00.000Z",
        model: "m",
        relation: { type: "root" },
      }),
    );
    expect(StoreUnavailableError.isInstance(metaError)).toBe(true);
    expect(await store.loadSessionMeta()).toBeUndefined();

    faults.diskFull = false;
    expect(await store.commit(second)).toEqual({ headRevision: 2, commitId: "t2", replayed: false });
  });

  it("a failing head rename leaves the previous head; the retried commit is applied, not replayed", async () => {
    const { fileSystem, faults } = faultyFileSystem();
    const store = createFileSessionDatabase({ root: root.path, fileSystem }).openSession("s1");
    await store.commit(commit({ commitId: "t1", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] }));
    faults.headRenameFails = true;
    expect(StoreUnavailableError.isInstance(await thrown(store.commit(second)))).toBe(true);
    await expectFirstCommitOnly();
    expect(await store.loadHeadRevision()).toBe(1);
    expect(await store.loadNode("m2")).toBeUndefined();

    faults.headRenameFails = false;
    expect(await store.commit(second)).toEqual({ headRevision: 2, commitId: "t2", replayed: false });
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(6, 6))]);
  });

  it("unreadable files fail loads and listing with StoreUnavailableError", async () => {
    const { fileSystem, faults } = faultyFileSystem();
    const database = createFileSessionDatabase({ root: root.path, fileSystem });
    await database.openSession("s1").commit(commit({ commitId: "t1", graph: append([node("m1")]) }));
    faults.readsDenied = true;
    const fresh = createFileSessionDatabase({ root: root.path, fileSystem });
    // One call at a time: a rejection must be awaited as soon as it exists, never left unhandled.
    const attempts = [
      () => fresh.openSession("s1").loadSession({ type: "full_graph" }),
      () => fresh.openSession("s1").loadHeadRevision(),
      () => fresh.listSessions(),
    ];
    for (const attempt of attempts) {
      const error = await thrown(attempt());
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect((error as Error).cause).toMatchObject({ code: "EACCES" });
    }
  });
});
