import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HeadRevisionConflictError, StoreUnavailableError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { append, commit, node, type TemporaryRoot, temporaryRoot, thrown, turnUsage, usage } from "../../test/fixtures.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";
import { createFileSessionDatabase } from "./file-session-database.js";

let root: TemporaryRoot;

beforeEach(async () => {
  root = await temporaryRoot();
});

afterEach(async () => {
  await root.remove();
});

function lockPath(sessionId: string): string {
  return join(root.path, "locks", `${encodeIdAsFileName(sessionId, "session id")}.lock`);
}

async function placeLock(sessionId: string, content: string): Promise<void> {
  await mkdir(join(root.path, "locks"), { recursive: true });
  await writeFile(lockPath(sessionId), content);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const finished = spawnSync(process.execPath, ["-e", ""]);
  if (finished.pid === undefined) throw new Error("could not start a process");
  return finished.pid;
}

describe("the session write lock", () => {
  it("breaks a lock file whose process is dead", async () => {
    await placeLock("s1", JSON.stringify({ pid: deadPid(), token: "dead-owner", acquiredAt: "2025-01-01T00:00:00.000Z" }));
    const store = createFileSessionDatabase({ root: root.path }).openSession("s1");
    expect(await store.commit(commit({ commitId: "t1", graph: append([node("m1")]) }))).toEqual({
      headRevision: 1,
      commitId: "t1",
      replayed: false,
    });
    expect(await readdir(join(root.path, "locks"))).toEqual([]);
  });

  it("breaks a lock file left empty long ago, and waits for a fresh empty one", async () => {
    await placeLock("s1", "");
    const store = createFileSessionDatabase({ root: root.path, lockTimeoutMs: 100 }).openSession("s1");
    expect(StoreUnavailableError.isInstance(await thrown(store.commit(commit({ commitId: "t1" }))))).toBe(true);
    const longAgo = new Date(Date.UTC(2020, 0, 1));
    await utimes(lockPath("s1"), longAgo, longAgo);
    expect((await store.commit(commit({ commitId: "t1" }))).headRevision).toBe(1);
  });

  it("a lock held by a live process makes writes fail with StoreUnavailableError after the wait, writing nothing", async () => {
    const database = createFileSessionDatabase({ root: root.path, lockTimeoutMs: 100 });
    const store = database.openSession("s1");
    await store.commit(commit({ commitId: "t1", graph: append([node("m1")]) }));
    // This process is alive; the token differs from any lock it takes itself.
    await placeLock("s1", JSON.stringify({ pid: process.pid, token: "someone-else", acquiredAt: "2025-01-01T00:00:00.000Z" }));
    const writes = [
      () => store.commit(commit({ commitId: "t2", expectedHeadRevision: 1, graph: append([node("m2", "m1")]) })),
      () => store.tombstoneNodes(["m1"]),
      () =>
        store.saveSessionMeta({
          sessionId: "s1",
          sessionName: "s1",
          createdAt: "2025-01-01T00:00:00.000Z",
          model: "m",
          relation: { type: "root" },
        }),
      () => store.deleteSession(),
    ];
    for (const write of writes) {
      expect(StoreUnavailableError.isInstance(await thrown(write()))).toBe(true);
    }
    const read = await createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" });
    expect(read).toMatchObject({ headRevision: 1, graph: { nodes: [node("m1")] } });
    expect(await store.loadSessionMeta()).toBeUndefined();
  });

  it("two database objects on one root committing at once: exactly one lands, the other conflicts", async () => {
    const first = createFileSessionDatabase({ root: root.path }).openSession("s1");
    const second = createFileSessionDatabase({ root: root.path }).openSession("s1");
    for (let round = 0; round < 10; round += 1) {
      const expectedHeadRevision = round === 0 ? undefined : round;
      const outcomes = await Promise.allSettled([
        first.commit(
          commit({
            commitId: `a${round}`,
            expectedHeadRevision,
            graph: append([node(`a${round}`)]),
            usageDeltas: [turnUsage(usage(1, 0), "a")],
          }),
        ),
        second.commit(
          commit({
            commitId: `b${round}`,
            expectedHeadRevision,
            graph: append([node(`b${round}`)]),
            usageDeltas: [turnUsage(usage(1, 0), "b")],
          }),
        ),
      ]);
      const landed = outcomes.filter((outcome) => outcome.status === "fulfilled");
      const refused = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
      expect(landed).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(HeadRevisionConflictError.isInstance(refused[0])).toBe(true);
      expect(refused[0]).toMatchObject({ expected: expectedHeadRevision, actual: round + 1 });
    }
    const read = await createFileSessionDatabase({ root: root.path }).openSession("s1").loadSession({ type: "full_graph" });
    expect(read?.headRevision).toBe(10);
    expect(read?.graph.nodes).toHaveLength(10);
    expect(read?.tokenLedger.reduce((sum, entry) => sum + entry.usage.inputTokens, 0)).toBe(10);
  });
});

const storeModule = pathToFileURL(fileURLToPath(new URL("./index.ts", import.meta.url))).href;
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A writer process: commits `count` nodes to session `shared`, each with the head revision it just
 * read, and on a head revision conflict reads the head again and retries. Prints its conflict count.
 */
const WRITER_SCRIPT = `
const [moduleUrl, root, writer, countText] = process.argv.slice(2);
const { createFileSessionDatabase } = await import(moduleUrl);
const store = createFileSessionDatabase({ root, lockTimeoutMs: 60000 }).openSession("shared");
const zero = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
let done = 0;
let conflicts = 0;
while (done < Number(countText)) {
  const expectedHeadRevision = await store.loadHeadRevision();
  try {
    await store.commit({
      sessionId: "shared",
      commitId: writer + "-" + done,
      expectedHeadRevision,
      config: { providerId: "mock", model: "mock-model", contextWindow: 1000, executionMode: "standard" },
      graph: { type: "append", nodes: [{ nodeId: writer + "-" + done, timestamp: "2025-01-01T00:00:00.000Z", payload: { kind: "plugin", pluginType: "test", body: done } }] },
      checkpoint: { schemaVersion: 1, turnState: { turnIndex: done, tokenUsage: zero } },
      usageDeltas: [{ source: writer, model: "mock-model", usage: { ...zero, inputTokens: 1 } }],
    });
    done += 1;
  } catch (error) {
    if (error?.code !== "head_revision_conflict") throw error;
    conflicts += 1;
  }
}
process.stdout.write(String(conflicts));
`;

describe("writers in separate processes", () => {
  it("serialise on the lock file: every commit lands once, no update is lost", { timeout: 120_000 }, async () => {
    const script = join(root.path, "writer.mjs");
    await writeFile(script, WRITER_SCRIPT);
    const data = join(root.path, "data");
    const writers = ["w1", "w2", "w3"];
    const perWriter = 15;
    const children = writers.map((writer) => {
      const child = spawn(
        process.execPath,
        ["--conditions=@lash/source", "--import", "tsx", script, storeModule, data, writer, String(perWriter)],
        { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => {
        stderr += chunk;
      });
      return once(child, "exit").then(([code]) => ({ code, stderr }));
    });
    for (const exit of await Promise.all(children)) expect(exit).toEqual({ code: 0, stderr: "" });

    const read = await createFileSessionDatabase({ root: data }).openSession("shared").loadSession({ type: "full_graph" });
    expect(read?.headRevision).toBe(writers.length * perWriter);
    expect(new Set(read?.graph.nodes.map((record) => record.nodeId)).size).toBe(writers.length * perWriter);
    expect(read?.tokenLedger.map((entry) => [entry.source, entry.usage.inputTokens]).sort()).toEqual(
      writers.map((writer) => [writer, perWriter]),
    );
    expect(await readdir(join(data, "locks"))).toEqual([]);
  });
});
