import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import { afterEach, describe, expect, inject, it } from "vitest";
import { readEvents, requestJson } from "./server-harness.js";

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exit: Promise<{ code: number | null; stderr: string }>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

const postgresEnabled = await postgresTestsEnabled();
const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function scriptFile(directory: string, steps: unknown[]): Promise<string> {
  const path = join(directory, "script.json");
  await writeFile(path, JSON.stringify({ format: "lash.scripted-conversation.v1", model: "scripted-model", steps }));
  return path;
}

/** Starts the bundled `lash-server` on a free port and waits for the line that names its URL. */
async function startServerProcess(directory: string, args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [inject("serverBundle"), "--port", "0", "--store", `sqlite:${join(directory, "lash.db")}`, ...args],
    {
      cwd: directory,
      // A private home: no real ~/.lash and no keys from the machine reach the server.
      env: { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stderr })));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^lash-server listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exit.then(({ code }) => reject(new Error(`lash-server exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exit, stderr: () => stderr };
}

/** Resolves once `read()` contains `text` (checked every 20 ms), or rejects after 20 s. */
async function waitForText(read: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!read().includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; output so far:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-bin-"));
  directories.push(directory);
  return directory;
}

describe("the lash-server command", () => {
  it("serves a turn over SSE, then lets a running turn finish on SIGTERM and exits 0", async () => {
    const directory = await temporaryDirectory();
    const script = await scriptFile(directory, [
      { text: "Hello from the command.", chunks: 2 },
      // The second turn is still streaming when SIGTERM arrives: it gets to finish.
      { text: "Finished during shutdown.", chunks: 3, chunkDelayMs: 200 },
    ]);
    const server = await startServerProcess(directory, ["--script", script]);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await requestJson(`${server.url}/healthz`)).toMatchObject({ status: 200 });

    const created = await requestJson(`${server.url}/v1/sessions`, { body: {} });
    expect(created.status).toBe(201);
    const sessionId = (created.body as { id: string }).id;
    const first = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ input: "Hello" }),
    });
    const events = await readEvents(first);
    expect(events.at(-1)).toMatchObject({ event: "result", data: { answer: { text: "Hello from the command." } } });

    const second = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ input: "Again" }),
    });
    let signalled = false;
    const reading = readEvents(second, (event) => {
      // Once: a second signal stops the server at once.
      if (event.event === "activity" && (event.data as { type: string }).type === "text_delta" && !signalled) {
        signalled = true;
        server.child.kill("SIGTERM");
      }
      return undefined;
    });
    expect((await reading).at(-1)).toMatchObject({
      event: "result",
      data: { outcome: { type: "finished" }, answer: { text: "Finished during shutdown." } },
    });
    const exit = await server.exit;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("SIGTERM: shutting down");
  });

  it("prints the console's link to the most recently active session, once the store has one", async () => {
    const directory = await temporaryDirectory();
    const script = await scriptFile(directory, [{ text: "Hello." }]);
    const empty = await startServerProcess(directory, ["--script", script]);
    await waitForText(empty.stderr, `lash-server: console at ${empty.url}/`);
    const created = await requestJson(`${empty.url}/v1/sessions`, { body: {} });
    const sessionId = (created.body as { id: string }).id;
    expect((await requestJson(`${empty.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hello" } })).status).toBe(200);
    empty.child.kill("SIGTERM");
    const firstExit = await empty.exit;
    expect(firstExit.code, firstExit.stderr).toBe(0);
    // The store had no session when it started: no link.
    expect(firstExit.stderr).not.toContain("latest session");

    const again = await startServerProcess(directory, ["--script", script]);
    // A server session has no title of its own: the link only.
    await waitForText(again.stderr, `lash-server: latest session: ${again.url}/#/sessions/${sessionId}\n`);
    again.child.kill("SIGTERM");
    expect((await again.exit).code).toBe(0);
  });

  it("cancels what is still running when the grace period is over, commits it, and exits 0", async () => {
    const directory = await temporaryDirectory();
    const script = await scriptFile(directory, [{ text: "Partial words and then a long pause", chunks: 2, chunkDelayMs: 60_000 }]);
    const server = await startServerProcess(directory, ["--script", script, "--grace-period", "0"]);
    const sessionId = ((await requestJson(`${server.url}/v1/sessions`, { body: {} })).body as { id: string }).id;
    const response = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ input: "Talk" }),
    });
    let signalled = false;
    const events = await readEvents(response, (event) => {
      // Once: a second signal stops the server at once.
      if (event.event === "activity" && (event.data as { type: string }).type === "text_delta" && !signalled) {
        signalled = true;
        server.child.kill("SIGTERM");
      }
      return undefined;
    });
    expect(events.at(-1)).toMatchObject({ event: "result", data: { outcome: { type: "stopped", stop: { type: "cancelled" } } } });
    expect((await server.exit).code).toBe(0);

    // The partial output was committed: a new server process on the same store shows it.
    const restarted = await startServerProcess(directory, ["--script", script]);
    const state = await requestJson(`${restarted.url}/v1/sessions/${sessionId}`);
    expect(JSON.stringify((state.body as { messages: unknown[] }).messages)).toContain("Partial words");
    restarted.child.kill("SIGTERM");
    expect((await restarted.exit).code).toBe(0);
  });

  it("exits 2 with a message on a bad flag or a bad store", async () => {
    const directory = await temporaryDirectory();
    for (const args of [["--no-such-flag"], ["--store", "postgress://x/y"], ["--port", "99999"]]) {
      const child = spawn(process.execPath, [inject("serverBundle"), ...args], {
        cwd: directory,
        env: { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      expect(code, `${args.join(" ")}: ${stderr}`).toBe(2);
      expect(stderr).toContain("lash-server: error:");
    }
  });

  it.skipIf(!postgresEnabled)("serves a PostgreSQL store: refused until migrated, then --migrate makes it ready", async () => {
    const directory = await temporaryDirectory();
    const schema = freshSchemaName("lash_server_test_");
    const store = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
    try {
      const refused = spawn(
        process.execPath,
        [
          inject("serverBundle"),
          "--port",
          "0",
          "--store",
          store,
          "--provider",
          "scripted",
          "--script",
          await scriptFile(directory, [{ text: "From PostgreSQL." }]),
        ],
        {
          cwd: directory,
          env: { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      refused.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      expect(await new Promise<number | null>((resolve) => refused.once("close", resolve))).toBe(2);
      expect(stderr).toContain("--migrate");

      const server = await startServerProcess(directory, ["--store", store, "--migrate", "--script", join(directory, "script.json")]);
      const created = await requestJson(`${server.url}/v1/sessions`, { body: {} });
      const sessionId = (created.body as { id: string }).id;
      const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" } });
      expect(turn.body).toMatchObject({ answer: { text: "From PostgreSQL." } });
      server.child.kill("SIGTERM");
      expect((await server.exit).code).toBe(0);
    } finally {
      await dropSchema(schema);
    }
  });
});
