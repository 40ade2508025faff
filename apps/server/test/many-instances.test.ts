import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { type ParsedEvent, readEvents, requestJson } from "./server-harness.js";
import { type ServerProcess, startServerProcess, stopServerProcess, writeScript } from "./server-process.js";

const postgresEnabled = await postgresTestsEnabled();

/** What each test started, stopped and removed after it, whatever happened. */
const servers: ServerProcess[] = [];
const directories: string[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await stopServerProcess(server);
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  if (schemas.length > 0) await dropSchema(...schemas.splice(0));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-instances-"));
  directories.push(directory);
  return directory;
}

/** A fresh schema (and the task host's two next to it, dropped with it); its store location. */
function freshPostgresStore(): { store: string; schema: string } {
  const schema = freshSchemaName("lash_mi_");
  schemas.push(schema, `${schema}_background`, `${schema}_pgboss`);
  return { store: `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`, schema };
}

async function start(directory: string, args: readonly string[]): Promise<ServerProcess> {
  const server = await startServerProcess(directory, args);
  servers.push(server);
  return server;
}

/** Two instances on one store: A migrates it first, then B starts on it. */
async function startPair(
  store: string,
  scripts: { readonly a: readonly unknown[]; readonly b: readonly unknown[] },
  extraArgs: readonly string[] = [],
): Promise<{ a: ServerProcess; b: ServerProcess }> {
  const directory = await temporaryDirectory();
  const scriptA = await writeScript(directory, "a.json", scripts.a);
  const scriptB = await writeScript(directory, "b.json", scripts.b);
  const migrate = store.startsWith("postgres") ? ["--migrate"] : [];
  const a = await start(directory, ["--store", store, "--script", scriptA, ...migrate, ...extraArgs]);
  const b = await start(directory, ["--store", store, "--script", scriptB, ...extraArgs]);
  return { a, b };
}

async function createSession(server: ServerProcess): Promise<string> {
  const created = await requestJson(`${server.url}/v1/sessions`, { body: {} });
  expect(created.status).toBe(201);
  return (created.body as { id: string }).id;
}

async function runTurn(server: ServerProcess, sessionId: string, input: string): Promise<{ turnIndex: number; answer: { text: string } }> {
  const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input } });
  expect(turn.status, JSON.stringify(turn.body)).toBe(200);
  return turn.body as { turnIndex: number; answer: { text: string } };
}

interface SessionView {
  readonly turnIndex: number;
  readonly messages: readonly unknown[];
}

async function readSession(server: ServerProcess, sessionId: string): Promise<SessionView> {
  const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
  expect(state.status).toBe(200);
  return state.body as SessionView;
}

/** Starts a streamed turn and reads it until its first text delta; the rest is read by `rest`. */
async function startStreamedTurn(
  server: ServerProcess,
  sessionId: string,
): Promise<{ turnId: string; seen: ParsedEvent[]; rest: Promise<ParsedEvent[]> }> {
  const response = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ input: "Talk for a while" }),
  });
  const seen: ParsedEvent[] = [];
  let reachedDelta: () => void = () => undefined;
  const delta = new Promise<void>((resolve) => {
    reachedDelta = resolve;
  });
  const rest = readEvents(response, (event) => {
    seen.push(event);
    if (event.event === "activity" && (event.data as { type: string }).type === "text_delta") reachedDelta();
    return undefined;
  });
  await delta;
  const turnId = (seen[0]!.data as { turnId: string }).turnId;
  return { turnId, seen, rest };
}

/** A short wait between two looks at a state no event announces. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

/** A step that streams its first piece, then waits a minute before the next: a turn that runs until cancelled. */
const LONG_STEP = { text: "Partial words and then a long pause", chunks: 2, chunkDelayMs: 60_000 };

describe.skipIf(!postgresEnabled)("two lash-server processes on one PostgreSQL schema", () => {
  it("serve the same sessions: created on A, listed and read on B; a turn on B continues A's, and A sees B's", async () => {
    const { store } = freshPostgresStore();
    const { a, b } = await startPair(store, {
      a: [
        { text: "First answer, from A.", usage: { input: 100, output: 10 } },
        { text: "Third answer, from A.", usage: { input: 300, output: 30 } },
      ],
      b: [{ text: "Second answer, from B.", usage: { input: 200, output: 20 } }],
    });
    const sessionId = await createSession(a);
    const listed = await requestJson(`${b.url}/v1/sessions`);
    expect((listed.body as { sessions: { id: string }[] }).sessions.map((session) => session.id)).toContain(sessionId);
    expect(await readSession(b, sessionId)).toMatchObject({ turnIndex: 0, profile: "default" });

    expect(await runTurn(a, sessionId, "Hello")).toMatchObject({ turnIndex: 1, answer: { text: "First answer, from A." } });
    // A keeps the session's runtime live after its turn; B loads it from the store.
    expect(await runTurn(b, sessionId, "And again")).toMatchObject({ turnIndex: 2, answer: { text: "Second answer, from B." } });
    const onB = JSON.stringify((await readSession(b, sessionId)).messages);
    expect(onB).toContain("First answer, from A.");
    expect(onB).toContain("Second answer, from B.");

    // A's live runtime catches up with the store before it answers: usage (asked first, while A
    // still holds the runtime of its own turn), state and approvals show B's turn.
    const usage = await requestJson(`${a.url}/v1/sessions/${sessionId}/usage`);
    expect(usage.body).toMatchObject({ usage: { inputTokens: 300, outputTokens: 30 } });
    const onA = await readSession(a, sessionId);
    expect(onA.turnIndex).toBe(2);
    expect(JSON.stringify(onA.messages)).toContain("Second answer, from B.");
    expect((await requestJson(`${a.url}/v1/sessions/${sessionId}/approvals`)).body).toEqual({ approvals: [] });

    // And its next turn goes on from there (no head-revision conflict).
    expect(await runTurn(a, sessionId, "Once more")).toMatchObject({ turnIndex: 3, answer: { text: "Third answer, from A." } });
    expect((await readSession(b, sessionId)).turnIndex).toBe(3);
  });

  it("cancel a turn running on A through B: it ends cancelled with its partial output committed; B then serves its result", async () => {
    const { store } = freshPostgresStore();
    const { a, b } = await startPair(store, { a: [LONG_STEP], b: [] });
    const sessionId = await createSession(a);
    const streamed = await startStreamedTurn(a, sessionId);
    const events = `${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/events`;

    // While it runs, B relays its events from A, the one that runs it.
    const relayedResponse = await fetch(events, { headers: { accept: "text/event-stream" } });
    expect(relayedResponse.status).toBe(200);
    expect(relayedResponse.headers.get("lash-relayed-from")).toBe(new URL(a.url).origin);
    const relayed = readEvents(relayedResponse);

    const cancelled = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ turnId: streamed.turnId, outcome: { type: "stopped", stop: { type: "cancelled" } } });
    // The client on A sees the same end.
    const onA = await streamed.rest;
    const last = onA.at(-1);
    expect(last).toMatchObject({ event: "result", data: { outcome: { type: "stopped", stop: { type: "cancelled" } } } });
    expect(JSON.stringify((await readSession(b, sessionId)).messages)).toContain("Partial words");
    expect((await relayed).at(-1)).toEqual(last);

    // Reattaching through B now serves the committed result, under the id it had on A.
    const reattached = await readEvents(await fetch(events, { headers: { accept: "text/event-stream" } }));
    expect(reattached).toEqual([{ id: last?.id, event: "result", data: last?.data }]);
    const afterLast = await readEvents(await fetch(events, { headers: { "last-event-id": String(last?.id) } }));
    expect(afterLast).toEqual([]);
    // A second cancel answers with the result, as for a turn that ended on the instance itself.
    const again = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/cancel`, { method: "POST" });
    expect(again.body).toEqual(last?.data);
    const unknown = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/no-such-turn/cancel`, { method: "POST" });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
  });

  it("say that a turn whose instance was killed is gone, not running, and take the session's next turn", async () => {
    const { store } = freshPostgresStore();
    const { a, b } = await startPair(store, { a: [LONG_STEP], b: [{ text: "Answered by B." }] });
    const sessionId = await createSession(a);
    const streamed = await startStreamedTurn(a, sessionId);
    // The killed instance cuts its client's stream mid-way.
    const cut = streamed.rest.then(
      () => "ended",
      () => "cut",
    );
    a.child.kill("SIGKILL");
    await a.exit;
    expect(await cut).toBe("cut");

    // PostgreSQL releases the killed instance's lock once it sees the connection closed: ask until B no longer says 409.
    const events = `${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/events`;
    let answer = await requestJson(events);
    while (answer.status === 409) {
      await pause();
      answer = await requestJson(events);
    }
    expect(answer).toMatchObject({ status: 404, body: { error: { code: "turn_not_found", details: { reason: "instance_stopped" } } } });
    const cancel = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/cancel`, { method: "POST" });
    expect(cancel).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
    // The session keeps what the killed turn committed; B runs the next turn on it.
    expect(await runTurn(b, sessionId, "Are you there?")).toMatchObject({ answer: { text: "Answered by B." } });
  });

  it("run subagents on the durable task host in the store's database", async () => {
    const { store, schema } = freshPostgresStore();
    const directory = await temporaryDirectory();
    const config = join(directory, "server.json");
    await writeFile(config, JSON.stringify({ profiles: { default: { subagents: { maxDepth: 1 } } } }));
    // The parent spawns one subagent; the parent's next model call and the subagent's only one race
    // for the next two steps, which say the same, so either order ends both.
    const { a } = await startPair(
      store,
      {
        a: [{ toolCalls: [{ name: "spawn_agent", args: { task: "Say done." }, callId: "spawn-1" }] }, { text: "Done." }, { text: "Done." }],
        b: [],
      },
      ["--config", config],
    );
    const sessionId = await createSession(a);
    expect(await runTurn(a, sessionId, "Delegate it")).toMatchObject({ answer: { text: "Done." } });

    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const tasks = `${pg.escapeIdentifier(`${schema}_background`)}.lash_background_tasks`;
      const read = async () =>
        (await client.query<{ kind: string; state: string; scope: string }>(`select kind, state, scope_session_id as scope from ${tasks}`))
          .rows;
      // The subagent's task is a record in the database from the moment it is spawned; wait for it to end.
      let rows = await read();
      while (rows.length === 0 || rows.some((row) => row.state !== "completed")) {
        await pause();
        rows = await read();
      }
      expect(rows).toEqual([{ kind: "subagent", state: "completed", scope: sessionId }]);
    } finally {
      await client.end();
    }
  });
});

describe("two lash-server processes on one SQLite file", () => {
  it("serve the same sessions turn after turn (the store's compare-and-set), but cancel only their own turns", async () => {
    const directory = await temporaryDirectory();
    const store = `sqlite:${join(directory, "shared.db")}`;
    const { a, b } = await startPair(store, { a: [{ text: "From A." }, LONG_STEP], b: [{ text: "From B." }] });
    const sessionId = await createSession(a);
    expect(await runTurn(a, sessionId, "One")).toMatchObject({ turnIndex: 1, answer: { text: "From A." } });
    expect(await runTurn(b, sessionId, "Two")).toMatchObject({ turnIndex: 2, answer: { text: "From B." } });
    expect(JSON.stringify((await readSession(a, sessionId)).messages)).toContain("From B.");

    // Cross-instance cancel needs PostgreSQL: on SQLite, B does not know A's turns.
    const streamed = await startStreamedTurn(a, sessionId);
    const cancel = await requestJson(`${b.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/cancel`, { method: "POST" });
    expect(cancel).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
    const onA = await requestJson(`${a.url}/v1/sessions/${sessionId}/turns/${streamed.turnId}/cancel`, { method: "POST" });
    expect(onA.body).toMatchObject({ outcome: { type: "stopped", stop: { type: "cancelled" } } });
    await streamed.rest;
  });
});
