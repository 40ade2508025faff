import http from "node:http";
import net from "node:net";
import { serve } from "@hono/node-server";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { createSession, gateTool, type ParsedEvent, readEvents, startTestServer, type TestServer, waitUntil } from "./server-harness.js";

// How a turn's events reach a client over a real socket: keep-alive comments on a quiet turn, a
// client that stops reading, a reader that comes back too late, and the same events whether the
// server writes them to the socket itself (a Node server) or through a web stream (in-process).

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const streamHeaders = { accept: "text/event-stream", "content-type": "application/json" };

function startTurn(url: string, sessionId: string, input = "Go"): Promise<Response> {
  return fetch(`${url}/v1/sessions/${sessionId}/turns`, { method: "POST", headers: streamHeaders, body: JSON.stringify({ input }) });
}

/** Reads a response body as text until `until` holds for what was read, then cancels the rest. */
async function readUntil(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += value;
    if (until(text)) {
      await reader.cancel();
      return text;
    }
  }
}

/**
 * POSTs `body` to `url` and reads nothing of the answer until the server has no running turn (it
 * ended and committed while the client did not read, the socket's buffers full); then reads it all.
 */
async function readAfterTheTurnEnded(url: string, body: string, headers: Record<string, string>): Promise<string> {
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = http.request(
      new URL(url),
      { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) } },
      resolve,
    );
    request.on("error", reject);
    request.end(body);
  });
  response.pause();
  const running = server!.running.server;
  await waitUntil(() => running.stats().runningTurns === 0);
  response.setEncoding("utf8");
  let text = "";
  for await (const chunk of response) text += chunk as string;
  return text;
}

/**
 * POSTs `body` over a raw socket and reads the whole answer; returns the chunks of its chunked
 * body as the server wrote them (each write of a response is one chunk).
 */
async function rawChunks(url: string, path: string, body: string, headers: Record<string, string>): Promise<string[]> {
  const target = new URL(url);
  const socket = net.connect(Number(target.port), target.hostname);
  const head = [`POST ${path} HTTP/1.1`, `host: ${target.host}`, "connection: close", `content-length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  // Written, not ended: the server closes the connection after its answer (`connection: close`).
  socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
  let raw = "";
  socket.setEncoding("latin1");
  for await (const piece of socket) raw += piece as string;
  const bodyStart = raw.indexOf("\r\n\r\n") + 4;
  expect(raw.slice(0, bodyStart).toLowerCase()).toContain("transfer-encoding: chunked");
  const chunks: string[] = [];
  let position = bodyStart;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", position);
    const size = Number.parseInt(raw.slice(position, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) break;
    chunks.push(Buffer.from(raw.slice(lineEnd + 2, lineEnd + 2 + size), "latin1").toString("utf8"));
    position = lineEnd + 2 + size + 2;
  }
  return chunks;
}

/** The parts of an event that do not change from one run of the same turn to the next. */
function comparable(event: ParsedEvent): unknown {
  const data = event.data as { type?: string; text?: string; outcome?: unknown; answer?: unknown };
  if (event.event === "activity") return { event: event.event, type: data.type, text: data.text };
  if (event.event === "result") return { event: event.event, outcome: data.outcome, answer: data.answer };
  return { event: event.event };
}

describe("event stream delivery", () => {
  it("sends keep-alive comments while a turn is quiet, then the rest of its events", async () => {
    const { gate, tool } = gateTool();
    const provider = new ScriptedProvider([toolCallStep([{ name: "wait_for_gate", args: {} }]), textStep("Opened.")]);
    server = await startTestServer({ provider, profile: { tools: [tool] }, limits: { heartbeatMs: 20 } });
    const sessionId = await createSession(server);
    const response = await startTurn(server.url, sessionId);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes(": keep-alive\n\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended without a keep-alive: ${text}`);
      text += value;
    }
    await gate.reached;
    gate.open();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toMatch(/^id: 1\nevent: turn\n/);
    expect(text).toContain('"text":"Opened."');
    expect(text.trimEnd().split("\n\n").at(-1)).toMatch(/^id: \d+\nevent: result\ndata: \{.*"type":"finished"/);
  });

  it("lets a client stop reading without holding the turn up, and gives it every event once it reads again", async () => {
    // 64 deltas of 64 KiB: more than the socket buffers hold, so the server waits for the client to drain.
    const pieces = Array.from({ length: 64 }, (_, index) => `${String(index).padStart(2, "0")}${"x".repeat(64 * 1024 - 2)}`);
    const provider = new ScriptedProvider([textStep(pieces.join(""), { chunks: pieces })]);
    server = await startTestServer({ provider });
    const sessionId = await createSession(server);
    // The turn ends and commits while nothing is read.
    const text = await readAfterTheTurnEnded(
      `${server.url}/v1/sessions/${sessionId}/turns`,
      JSON.stringify({ input: "Go" }),
      streamHeaders,
    );
    const deltas = [...text.matchAll(/"type":"text_delta","text":"(\d\d)x+"/g)].map((match) => match[1]);
    expect(deltas).toEqual(pieces.map((piece) => piece.slice(0, 2)));
    expect(text).toContain("\nevent: result\n");
  });

  it("writes the events of a burst together: a model that streams its deltas at once costs one write for them", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("one two three four five", { chunks: 5 })]) });
    const sessionId = await createSession(server);
    const chunks = await rawChunks(server.url, `/v1/sessions/${sessionId}/turns`, '{"input":"Go"}', streamHeaders);
    const withDeltas = chunks.filter((chunk) => chunk.includes('"type":"text_delta"'));
    expect(withDeltas).toHaveLength(1);
    expect([...(withDeltas[0] ?? "").matchAll(/"type":"text_delta"/g)]).toHaveLength(5);
    // Every frame arrived whole, in order, ending with the result.
    const text = chunks.join("");
    expect(text).toMatch(/^id: 1\nevent: turn\n/);
    expect(text.trimEnd().split("\n\n").at(-1)).toMatch(/^id: \d+\nevent: result\ndata: \{.*"type":"finished"/);
  });

  it("gives every attached client all its turn's events when turns end faster than their streams are written", async () => {
    const steps = [textStep("a b c d e f", { chunks: 6 })];
    // One finished turn keeps its events: every other one is compacted as soon as it ends.
    // The in-memory store: a turn runs to its end within the request's own pass of the event loop.
    server = await startTestServer({
      provider: new ScriptedProvider(steps, { repeat: true }),
      limits: { finishedTurnsWithEvents: 1 },
      store: "memory:",
    });
    const sessions = await Promise.all(Array.from({ length: 12 }, () => createSession(server!)));
    const streams = await Promise.all(sessions.map(async (sessionId) => readEvents(await startTurn(server!.url, sessionId))));
    for (const events of streams) {
      const deltas = events.filter((event) => event.event === "activity" && (event.data as { type?: string }).type === "text_delta");
      expect(deltas.map((event) => (event.data as { text?: string }).text).join("")).toBe("a b c d e f");
      expect(events.at(-1)?.event).toBe("result");
    }
  });

  it("tells a reader that comes back for a running turn's dropped events that they expired", async () => {
    const { gate, tool } = gateTool();
    const provider = new ScriptedProvider([
      toolCallStep([{ name: "wait_for_gate", args: {} }], { text: "one two three four five six", chunks: 6 }),
      textStep("Done."),
    ]);
    server = await startTestServer({ provider, profile: { tools: [tool] }, limits: { maxEvents: 4 } });
    const sessionId = await createSession(server);
    const first = await startTurn(server.url, sessionId);
    const turnId = first.headers.get("lash-turn-id");
    await readEvents(first, (event) => (event.id >= 2 ? "stop" : undefined));
    await gate.reached;
    const again = await fetch(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/events`, {
      headers: { accept: "text/event-stream", "last-event-id": "1" },
    });
    expect(again.status).toBe(200);
    const text = await readUntil(again, () => false);
    expect(text).toMatch(/^event: error\ndata: \{"error":\{"code":"events_expired"/);
    gate.open();
    await waitUntil(() => server?.running.server.stats().runningTurns === 0);
  });

  it("streams the same events in-process (a web stream) as over a socket", async () => {
    const steps = [textStep("The same answer, in pieces.", { chunks: 5 })];
    server = await startTestServer({ provider: new ScriptedProvider(steps, { repeat: true }) });
    const overSocket = await readEvents(await startTurn(server.url, await createSession(server)));
    const sessionId = await createSession(server);
    const inProcess = await readEvents(
      await server.running.server.fetch(
        new Request(`${server.url}/v1/sessions/${sessionId}/turns`, { method: "POST", headers: streamHeaders, body: '{"input":"Go"}' }),
      ),
    );
    expect(inProcess.map((event) => event.id)).toEqual(overSocket.map((event) => event.id));
    expect(inProcess.map(comparable)).toEqual(overSocket.map(comparable));
    expect(overSocket.filter((event) => event.event === "activity").length).toBeGreaterThanOrEqual(5);
  });

  it("streams through its web body when the app is mounted in another app on the same Node server", async () => {
    const steps = [textStep("Mounted, in pieces.", { chunks: 4 })];
    server = await startTestServer({ provider: new ScriptedProvider(steps, { repeat: true }) });
    const host = new Hono();
    host.get("/host", (c) => c.text("the host's own route"));
    host.route("/", server.running.server.app);
    const listening = await new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
      const node = serve({ fetch: host.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((done) => node.close(() => done())) }),
      );
    });
    try {
      const sessionId = await createSession(server);
      const events = await readEvents(await startTurn(listening.url, sessionId));
      expect(events[0]?.event).toBe("turn");
      expect(events.filter((event) => event.event === "activity" && (event.data as { type?: string }).type === "text_delta")).toHaveLength(
        4,
      );
      expect(events.at(-1)?.event).toBe("result");
      const result = events.at(-1)?.data as { answer?: { text?: string } } | undefined;
      expect(result?.answer?.text).toBe("Mounted, in pieces.");
    } finally {
      await listening.close();
    }
  });
});

describe("UI message stream delivery", () => {
  const chatBody = (text: string) =>
    JSON.stringify({ id: "chat-1", messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }], trigger: "submit-message" });

  it("lets a client stop reading without holding the turn up, and gives it every chunk once it reads again", async () => {
    const pieces = Array.from({ length: 64 }, (_, index) => `${String(index).padStart(2, "0")}${"y".repeat(64 * 1024 - 2)}`);
    server = await startTestServer({ provider: new ScriptedProvider([textStep(pieces.join(""), { chunks: pieces })]) });
    const sessionId = await createSession(server);
    const text = await readAfterTheTurnEnded(`${server.url}/v1/sessions/${sessionId}/chat`, chatBody("Go"), {
      "content-type": "application/json",
    });
    const deltas = [...text.matchAll(/"type":"text-delta","id":"[^"]+","delta":"(\d\d)y+"/g)].map((match) => match[1]);
    expect(deltas).toEqual(pieces.map((piece) => piece.slice(0, 2)));
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("keeps a finished turn's events for a web body that is read late, for the UI and the OpenAI-compatible streams", async () => {
    // One finished turn keeps its events: every other one is compacted as soon as it ends, unless a
    // response still holds its log. The responses are made in-process (web bodies) and read only
    // after every turn ended.
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("a b c d e f", { chunks: 6 })], { repeat: true }),
      limits: { finishedTurnsWithEvents: 1 },
      store: "memory:",
    });
    const app = server.running.server;
    const post = (path: string, body: string) =>
      app.fetch(new Request(`${server!.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }));
    const chats = await Promise.all(
      Array.from({ length: 3 }, async () => post(`/v1/sessions/${await createSession(server!)}/chat`, chatBody("Go"))),
    );
    const completions = await Promise.all(
      Array.from({ length: 3 }, () =>
        post("/v1/chat/completions", JSON.stringify({ model: "default", stream: true, messages: [{ role: "user", content: "Go" }] })),
      ),
    );
    await waitUntil(() => app.stats().runningTurns === 0);
    for (const response of chats) {
      const text = await response.text();
      const deltas = [...text.matchAll(/"type":"text-delta","id":"[^"]+","delta":"([^"]*)"/g)].map((match) => match[1]);
      expect(deltas.join("")).toBe("a b c d e f");
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    }
    for (const response of completions) {
      const text = await response.text();
      const pieces = [...text.matchAll(/"delta":\{"content":"([^"]*)"\}/g)].map((match) => match[1]);
      expect(pieces.join("")).toBe("a b c d e f");
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    }
  });

  it("stops writing to a client that went away; the turn goes on and commits", async () => {
    const { gate, tool } = gateTool();
    const provider = new ScriptedProvider([toolCallStep([{ name: "wait_for_gate", args: {} }]), textStep("Finished anyway.")]);
    server = await startTestServer({ provider, profile: { tools: [tool] } });
    const sessionId = await createSession(server);
    const abort = new AbortController();
    const response = await fetch(`${server.url}/v1/sessions/${sessionId}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chatBody("Go"),
      signal: abort.signal,
    });
    const text = await readUntil(response, (read) => read.includes('"type":"start"'));
    expect(text).toContain('"type":"start"');
    await gate.reached;
    abort.abort();
    gate.open();
    const running = server.running.server;
    await waitUntil(() => running.stats().runningTurns === 0);
    const state = await fetch(`${server.url}/v1/sessions/${sessionId}`);
    const messages = ((await state.json()) as { messages: { role: string }[] }).messages;
    expect(messages.at(-1)?.role).toBe("assistant");
    expect(JSON.stringify(messages.at(-1))).toContain("Finished anyway.");
  });
});
