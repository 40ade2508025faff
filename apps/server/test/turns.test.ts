import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { turnResultSchema, turnStreamEventSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  createSession,
  gateTool,
  type ParsedEvent,
  readEvents,
  requestJson,
  startTestServer,
  type TestServer,
  waitUntil,
} from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function sse(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { accept: "text/event-stream", ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
  });
}

function expectIncreasingIds(events: readonly ParsedEvent[]): void {
  for (let index = 1; index < events.length; index += 1) expect(events[index]!.id).toBe(events[index - 1]!.id + 1);
}

describe("a turn as JSON", () => {
  it("answers with the turn's result, committed to the session", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Hello there.", { usage: usage(12, 3) })]) });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" } });
    expect(turn.status).toBe(200);
    const result = turnResultSchema.parse(turn.body);
    expect(result).toMatchObject({
      sessionId,
      turnIndex: 1,
      outcome: { type: "finished", finish: { type: "assistant_message", text: "Hello there." } },
      answer: { text: "Hello there.", state: "usable" },
      usage: { inputTokens: 12, outputTokens: 3 },
    });
    expect(turn.headers.get("lash-turn-id")).toBe(result.turnId);

    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(state.body).toMatchObject({ turnIndex: 1, awaitingApproval: false });
    const messages = (state.body as { messages: { role: string }[] }).messages;
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant"]);
    const usageReport = await requestJson(`${server.url}/v1/sessions/${sessionId}/usage`);
    expect(usageReport.body).toMatchObject({ usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 }, rows: [{ source: "turn" }] });
  });

  it("takes input items in order", async () => {
    const provider = new ScriptedProvider([textStep("Two parts.")], { recordRequests: true });
    server = await startTestServer({ provider });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, {
      body: {
        input: [
          { type: "text", text: "first" },
          { type: "text", text: "second" },
        ],
      },
    });
    expect(turn.status).toBe(200);
    expect(JSON.stringify(provider.requests.at(-1))).toContain("first");
    expect(JSON.stringify(provider.requests.at(-1))).toContain("second");
  });
});

describe("a turn over server-sent events", () => {
  it("streams every activity with increasing ids, then one result event", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("One two three.", { chunks: 3 })]) });
    const sessionId = await createSession(server);
    const response = await sse(`${server.url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      body: JSON.stringify({ input: "Count" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(response);
    for (const event of events) turnStreamEventSchema.parse(event);
    expect(events[0]).toMatchObject({ id: 1, event: "turn", data: { sessionId, resumed: false } });
    expectIncreasingIds(events);
    expect(events.at(-1)?.event).toBe("result");
    expect(events.filter((event) => event.event === "result")).toHaveLength(1);
    const deltas = events.filter((event) => event.event === "activity" && (event.data as { type: string }).type === "text_delta");
    expect(deltas.map((event) => (event.data as { text: string }).text).join("")).toBe("One two three.");
    expect((events.at(-1)!.data as { turnId: string }).turnId).toBe(response.headers.get("lash-turn-id"));
  });

  it("keeps running when the client disconnects; Last-Event-ID reattaches to the rest, without duplicates", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "wait_for_gate", args: {} }], { text: "Let me wait." }),
        textStep("The gate opened.", { chunks: 4 }),
      ]),
      profile: { tools: [tool] },
    });
    const sessionId = await createSession(server);
    const first = await sse(`${server.url}/v1/sessions/${sessionId}/turns`, { method: "POST", body: JSON.stringify({ input: "Wait" }) });
    const turnId = first.headers.get("lash-turn-id");
    // Read up to the tool call, then go away mid-turn.
    const seen = await readEvents(first, (event) =>
      event.event === "activity" && (event.data as { type: string }).type === "tool_call_started" ? "stop" : undefined,
    );
    await gate.reached;
    expect(server.running.server.stats().runningTurns).toBe(1);
    gate.open();

    const lastSeen = seen.at(-1)!.id;
    const rest = await readEvents(
      await fetch(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/events`, { headers: { "last-event-id": String(lastSeen) } }),
    );
    expect(rest[0]?.id).toBe(lastSeen + 1);
    expectIncreasingIds([...seen, ...rest]);
    expect(rest.at(-1)).toMatchObject({ event: "result", data: { outcome: { type: "finished" }, answer: { text: "The gate opened." } } });

    // The whole stream from the start is the same events, once each.
    const all = await readEvents(await fetch(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/events`));
    expect(all).toEqual([...seen, ...rest]);
  });

  it("refuses a Last-Event-ID that is not an event of the turn", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Done.")]) });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Go" } });
    const turnId = (turn.body as { turnId: string }).turnId;
    for (const lastEventId of ["abc", "-1", "1.5", "999999"]) {
      const response = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/events`, {
        headers: { "last-event-id": lastEventId },
      });
      expect(response.status, lastEventId).toBe(400);
      expect(response.body).toMatchObject({ error: { code: "invalid_last_event_id" } });
    }
    const unknown = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/no-such-turn/events`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
  });
});

describe("cancelling and concurrent turns", () => {
  it("cancels through the cancel route: the turn ends cancelled and its partial output is committed", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        {
          events: [
            { type: "delta", text: "Partial answer" },
            { type: "sleep", ms: 60_000 },
            { type: "delta", text: " never sent" },
          ],
        },
      ]),
    });
    const sessionId = await createSession(server);
    const stream = await sse(`${server.url}/v1/sessions/${sessionId}/turns`, { method: "POST", body: JSON.stringify({ input: "Talk" }) });
    const turnId = stream.headers.get("lash-turn-id");
    const reading = readEvents(stream);
    // Wait until the partial text is out, through a second reader of the same turn.
    await readEvents(await fetch(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/events`), (event) =>
      event.event === "activity" && (event.data as { type: string }).type === "text_delta" ? "stop" : undefined,
    );

    const cancelled = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ turnId, outcome: { type: "stopped", stop: { type: "cancelled" } } });
    expect((await reading).at(-1)).toMatchObject({ event: "result", data: { outcome: { stop: { type: "cancelled" } } } });

    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(JSON.stringify((state.body as { messages: unknown[] }).messages)).toContain("Partial answer");
    // Cancelling a turn that ended answers with its result again.
    const again = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/cancel`, { method: "POST" });
    expect(again.body).toEqual(cancelled.body);
  });

  it("answers 409 turn_in_progress to a second turn while one runs, and runs nothing for it", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([toolCallStep([{ callId: "call-1", name: "wait_for_gate", args: {} }]), textStep("Done.")]),
      profile: { tools: [tool] },
    });
    const sessionId = await createSession(server);
    const first = requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Wait" } });
    await gate.reached;
    const second = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Me too" } });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: "turn_in_progress", details: { sessionId } } });
    gate.open();
    expect((await first).body).toMatchObject({ outcome: { type: "finished" }, turnIndex: 1 });
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(JSON.stringify(state.body)).not.toContain("Me too");
  });

  it("with enqueue, a second turn waits for the running one, then runs", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "wait_for_gate", args: {} }]),
        textStep("First."),
        textStep("Second."),
      ]),
      profile: { tools: [tool], concurrentTurns: "enqueue" },
    });
    const sessionId = await createSession(server);
    const first = requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Wait" } });
    await gate.reached;
    const second = requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Then me" } });
    const running = server;
    await waitUntil(() => running.running.server.stats().queuedTurns === 1);
    gate.open();
    expect((await first).body).toMatchObject({ turnIndex: 1, answer: { text: "First." } });
    expect((await second).body).toMatchObject({ turnIndex: 2, answer: { text: "Second." } });
  });

  it("with interrupt, a second turn cancels the running one (its partial output committed), then runs", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "wait_for_gate", args: {} }], { text: "Working on it." }),
        textStep("Interrupted you."),
      ]),
      profile: { tools: [tool], concurrentTurns: "interrupt" },
    });
    const sessionId = await createSession(server);
    const first = requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Wait" } });
    await gate.reached;
    const second = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Stop that" } });
    expect((await first).body).toMatchObject({ turnIndex: 1, outcome: { type: "stopped", stop: { type: "cancelled" } } });
    expect(second.body).toMatchObject({ turnIndex: 2, outcome: { type: "finished" }, answer: { text: "Interrupted you." } });
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(JSON.stringify(state.body)).toContain("Working on it.");
  });
});
