import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@lash/protocol";
import { sessionListResponseSchema, sessionStateSchema, turnResultSchema } from "@lash/remote-protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import { afterEach, describe, expect, inject, it } from "vitest";
import { readEvents, requestJson } from "./server-harness.js";

/*
 * Issue part 8: a server killed with SIGKILL in the middle of a turn (no shutdown, no cancel, no
 * last commit) and started again on the same store serves every session, with no half turn in
 * any of them, and runs the next turn.
 */

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** The answer the model streams after the tool, in three pieces of 12 characters; the process dies after the first. */
const ANSWER_PIECES = ["Partial one ", "partial two ", "partial end."];
const UNFINISHED_ANSWER = "Partial one";

const postgresEnabled = await postgresTestsEnabled();
const directories: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  // A failed test must not leave a server behind.
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function scriptFile(directory: string, name: string, steps: unknown[]): Promise<string> {
  const path = join(directory, `${name}.json`);
  await writeFile(path, JSON.stringify({ format: "lash.scripted-conversation.v1", model: "scripted-model", steps }));
  return path;
}

/** Starts the bundled `lash-server` and waits for the line that names its URL. */
async function startServerProcess(directory: string, args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [inject("serverBundle"), "--port", "0", ...args], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^lash-server listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exit.then(({ code }) => reject(new Error(`lash-server exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exit };
}

/**
 * A turn is whole in the history: every tool call has its result after it, every result follows
 * its call, and nothing of the model's unfinished answer is there.
 */
function expectNoHalfTurn(messages: readonly Message[], unfinishedText: string): void {
  const called = new Set<string>();
  const answered = new Set<string>();
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.kind === "tool_call") called.add(part.callId);
      if (part.kind === "tool_result") {
        expect(called.has(part.callId), `the result of ${part.callId} follows its call`).toBe(true);
        answered.add(part.callId);
      }
    }
  }
  expect(
    [...called].filter((callId) => !answered.has(callId)),
    "tool calls without a result",
  ).toEqual([]);
  expect(JSON.stringify(messages)).not.toContain(unfinishedText);
}

/** The killed run: a finished turn, a turn killed mid-stream after a tool round trip, an idle session. */
async function runUntilKilled(
  directory: string,
  storeArgs: readonly string[],
): Promise<{ finished: string; killed: string; idle: string }> {
  await writeFile(join(directory, "notes.txt"), "remember the milk\n");
  const configFile = join(directory, "server.json");
  await writeFile(configFile, JSON.stringify({ profiles: { default: { tools: true, workspace: directory } } }));
  const script = await scriptFile(directory, "before", [
    { text: "A turn that finished." },
    { toolCalls: [{ name: "read_file", args: { path: "notes.txt" }, callId: "call-read-1" }] },
    // The answer after the tool sleeps between its pieces: the process is killed in the first pause.
    { text: ANSWER_PIECES.join(""), chunks: ANSWER_PIECES.length, chunkDelayMs: 600_000 },
  ]);
  const server = await startServerProcess(directory, [...storeArgs, "--config", configFile, "--script", script]);
  const create = async (): Promise<string> => ((await requestJson(`${server.url}/v1/sessions`, { body: {} })).body as { id: string }).id;
  const finished = await create();
  const killed = await create();
  const idle = await create();
  const first = await requestJson(`${server.url}/v1/sessions/${finished}/turns`, { body: { input: "Hello" } });
  expect(turnResultSchema.parse(first.body).answer.text).toBe("A turn that finished.");

  const streaming = await fetch(`${server.url}/v1/sessions/${killed}/turns`, {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ input: "What does notes.txt say?" }),
  });
  let toolCompleted = false;
  let killedAfter: string | undefined;
  // The connection dies with the process: what matters is what the callback saw before.
  await readEvents(streaming, (event) => {
    const { type, text } = event.data as { type?: string; text?: string };
    if (event.event === "activity" && type === "tool_call_completed") toolCompleted = true;
    if (event.event === "activity" && type === "text_delta" && toolCompleted) {
      if (server.child.kill("SIGKILL")) killedAfter = text;
      return "stop";
    }
    return undefined;
  }).catch(() => undefined);
  expect(killedAfter, "the process was killed once the answer's first piece was streamed").toBe(ANSWER_PIECES[0]);
  const exit = await server.exit;
  expect(exit.signal).toBe("SIGKILL");
  return { finished, killed, idle };
}

/** The restarted server on the same store: every session loads whole, and the next turns run. */
async function expectRecovered(
  directory: string,
  storeArgs: readonly string[],
  sessions: { finished: string; killed: string; idle: string },
) {
  const script = await scriptFile(directory, "after", [{ text: "Answered after the restart." }, { text: "And the next one." }]);
  const server = await startServerProcess(directory, [...storeArgs, "--script", script]);
  const listed = sessionListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions?limit=100`)).body);
  expect(listed.sessions.map((session) => session.id).sort()).toEqual(Object.values(sessions).sort());
  for (const [name, sessionId] of Object.entries(sessions)) {
    const response = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(response.status, name).toBe(200);
    const state = sessionStateSchema.parse(response.body);
    expect(state.runningTurnId, name).toBeUndefined();
    expect(state.awaitingApproval, name).toBe(false);
    expectNoHalfTurn(state.messages, UNFINISHED_ANSWER);
  }
  const before = sessionStateSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessions.killed}`)).body);
  // The interrupted turn is absent, or committed up to its last safe boundary: the input and the whole tool round trip.
  const shape = before.messages.map((message) => `${message.role}:${message.parts.map((part) => part.kind).join(",")}`);
  expect([[], ["user:text", "assistant:tool_call", "user:tool_result"]]).toContainEqual(shape);

  const next = await requestJson(`${server.url}/v1/sessions/${sessions.killed}/turns`, { body: { input: "Try again" } });
  expect(next.status).toBe(200);
  const result = turnResultSchema.parse(next.body);
  expect(result.outcome.type).toBe("finished");
  expect(result.answer.text).toBe("Answered after the restart.");
  expect(result.turnIndex).toBe(before.turnIndex + 1);
  const after = sessionStateSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessions.killed}`)).body);
  expectNoHalfTurn(after.messages, UNFINISHED_ANSWER);
  expect(after.messages.at(-1)).toMatchObject({ role: "assistant", parts: [{ kind: "prose", content: "Answered after the restart." }] });
  const onFinished = await requestJson(`${server.url}/v1/sessions/${sessions.finished}/turns`, { body: { input: "Again" } });
  expect(turnResultSchema.parse(onFinished.body).answer.text).toBe("And the next one.");

  server.child.kill("SIGTERM");
  expect((await server.exit).code).toBe(0);
}

describe("SIGKILL in the middle of a turn, then a restart on the same store", () => {
  it("on SQLite: every session loads, no half turn, the next turn works", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-kill-"));
    directories.push(directory);
    const storeArgs = ["--store", `sqlite:${join(directory, "lash.db")}`];
    const sessions = await runUntilKilled(directory, storeArgs);
    await expectRecovered(directory, storeArgs, sessions);
  });

  it("on the filesystem store: every session loads, no half turn, the next turn works", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-kill-"));
    directories.push(directory);
    const storeArgs = ["--store", `fs:${join(directory, "sessions")}`];
    const sessions = await runUntilKilled(directory, storeArgs);
    await expectRecovered(directory, storeArgs, sessions);
  });

  it.skipIf(!postgresEnabled)("on PostgreSQL: every session loads, no half turn, the next turn works", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-kill-"));
    directories.push(directory);
    const schema = freshSchemaName("lash_server_kill_");
    const store = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
    try {
      const sessions = await runUntilKilled(directory, ["--store", store, "--migrate"]);
      await expectRecovered(directory, ["--store", store], sessions);
    } finally {
      await dropSchema(schema);
    }
  });
});
