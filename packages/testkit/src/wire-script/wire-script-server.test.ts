import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bundledWireScriptsDirectory } from "./bundled-wire-scripts.js";
import { loadWireScripts } from "./load-wire-scripts.js";
import { type WireScript, wireScriptSchema } from "./wire-script-schema.js";
import { startWireScriptServer, type WireScriptServer, type WireScriptServerOptions } from "./wire-script-server.js";

const scripts = new Map((await loadWireScripts(bundledWireScriptsDirectory())).map((script) => [script.name, script]));

function fixture(name: string): WireScript {
  const script = scripts.get(name);
  if (script === undefined) throw new Error(`no wire script named ${name}`);
  return script;
}

/** The body every openai-compatible script of the fixtures accepts (apart from `stream`). */
function chatBody(stream: boolean): string {
  return JSON.stringify({
    model: "openai/gpt-5.4",
    stream,
    messages: [{ role: "user", content: "hi" }],
    tools: [{ type: "function", function: { name: "lookup", parameters: {} } }],
  });
}

const chatHeaders = { authorization: "Bearer test-key", "content-type": "application/json" };

const servers: WireScriptServer[] = [];

async function serve(
  script: WireScript | readonly WireScript[],
  options: WireScriptServerOptions = { timeScale: 0 },
): Promise<WireScriptServer> {
  const server = await startWireScriptServer(script, options);
  servers.push(server);
  return server;
}

function postChat(server: WireScriptServer, stream: boolean, signal?: AbortSignal): Promise<Response> {
  const init: RequestInit = { method: "POST", headers: chatHeaders, body: chatBody(stream) };
  if (signal !== undefined) init.signal = signal;
  return fetch(`${server.baseUrl}/chat/completions`, init);
}

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

/** A custom script: the fixtures have no long pause to abort in. */
function slowStream(): WireScript {
  return wireScriptSchema.parse({
    schema: "lash.provider-wire-script.v1",
    name: "slow-stream",
    provider_kind: "openai-compatible",
    endpoint: { method: "POST", path: "/chat/completions" },
    timeline: [
      { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
      { at: 0, event: "sse", data: '{"choices":[{"delta":{"content":"first"}}]}' },
      { at: 600_000, event: "sse", data: '{"choices":[{"delta":{"content":"never"}}]}' },
      { at: 600_000, event: "end" },
    ],
  });
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  vi.useRealTimers();
});

describe("startWireScriptServer", () => {
  it("plays an SSE stream byte for byte and records the request", async () => {
    const server = await serve(fixture("openai-compatible.chat-tool-call-split-stream"), { timeScale: 1 });
    const response = await postChat(server, true);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("x-request-id")).toBe("req-stream-a, req-stream-b");
    const bytes = new Uint8Array(await response.arrayBuffer());
    const expected = Buffer.concat([
      Buffer.from('data: {"choices":[{"delta":{"content":"caf'),
      Buffer.from([195, 169]),
      Buffer.from(' "}}]}\n\n'),
      Buffer.from(
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\\"q\\":"}}]}}]}\n\n',
      ),
      Buffer.from('data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"x\\"}"}}]}}]}\n\n'),
      Buffer.from('data: {"choices":[{"finish_reason":"tool_calls","delta":{}}]}\n\n'),
      Buffer.from("data: [DONE]\n\n"),
    ]);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
    expect(new TextDecoder().decode(bytes)).toContain("café ");
    const settled = await server.exchangeSettled(0);
    expect(settled).toMatchObject({
      index: 0,
      method: "POST",
      path: "/chat/completions",
      scriptName: "openai-compatible.chat-tool-call-split-stream",
      mismatches: [],
      outcome: "completed",
      eventsPlayed: 10,
    });
    expect(settled.headers.authorization).toBe("Bearer test-key");
    expect(settled.body).toMatchObject({ model: "openai/gpt-5.4", stream: true });
    expect(server.mismatches).toEqual([]);
  });

  it("sends repeated response headers as separate header lines", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"));
    const rawHeaders = await new Promise<string[]>((resolve, reject) => {
      const outgoing = httpRequest(`${server.baseUrl}/chat/completions`, { method: "POST", headers: chatHeaders }, (incoming) => {
        incoming.resume();
        incoming.on("end", () => resolve(incoming.rawHeaders));
      });
      outgoing.on("error", reject);
      outgoing.end(chatBody(false));
    });
    const requestIds = rawHeaders.filter((_value, index) => index % 2 === 1 && rawHeaders[index - 1]?.toLowerCase() === "x-request-id");
    expect(requestIds).toEqual(["req-429-a", "req-429-b"]);
  });

  it("answers an http_error with its status, headers and body", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"));
    const response = await postChat(server, false);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.json()).toEqual({
      error: { message: "Rate limit reached for requests", type: "rate_limit_error", code: "rate_limit_exceeded" },
    });
    expect((await server.exchangeSettled(0)).outcome).toBe("completed");
  });

  it("plays a buffered body", async () => {
    const server = await serve(fixture("google.generate-content-text"));
    const response = await fetch(`${server.baseUrl}/v1internal:generateContent`, {
      method: "POST",
      headers: chatHeaders,
      body: JSON.stringify({
        model: "gemini-3.1-pro-preview",
        project: "project-1",
        request: { sessionId: "session-1", contents: [{ role: "user", parts: [{ text: "Please answer directly." }] }] },
      }),
    });
    expect(await response.json()).toMatchObject({ candidates: [{ finishReason: "STOP" }] });
    expect(server.mismatches).toEqual([]);
  });

  it("destroys the socket on disconnect, after the bytes before it", async () => {
    const server = await serve(fixture("openai-compatible.chat-mid-stream-disconnect"));
    const response = await postChat(server, true);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const received: number[] = [];
    const failure = await caught(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received.push(...value);
      }
    });
    expect(failure).toBeInstanceOf(TypeError);
    expect(Buffer.from(received).toString("utf8")).toBe('data: {"choices":[{"delta":{"content":"partial"}}]}');
    expect((await server.exchangeSettled(0)).outcome).toBe("server_disconnected");
  });

  it("holds the connection open on timeout until the client gives up", async () => {
    const server = await serve(fixture("openai-compatible.chat-stream-chunk-timeout"));
    const controller = new AbortController();
    const response = await postChat(server, true, controller.signal);
    expect(response.status).toBe(200);
    await vi.waitFor(() => expect(server.requests[0]?.heldOpen).toBe(true));
    expect(server.requests[0]?.outcome).toBe("pending");
    controller.abort();
    const settled = await server.exchangeSettled(0);
    expect(settled.outcome).toBe("client_closed");
  });

  it("sends nothing at all for a response-start timeout and closes the held connection on close()", async () => {
    const server = await serve(fixture("openai-compatible.chat-response-start-timeout"));
    const pending = caught(() => postChat(server, true));
    await vi.waitFor(() => expect(server.requests[0]?.heldOpen).toBe(true));
    await server.close();
    expect(await pending).toBeInstanceOf(TypeError);
    expect(server.requests[0]?.outcome).toBe("server_closed");
  });

  it("sees a client abort mid-stream at once and stops playing", async () => {
    const server = await serve(slowStream(), { timeScale: 1 });
    const controller = new AbortController();
    const response = await postChat(server, true, controller.signal);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("first");
    controller.abort();
    const settled = await server.exchangeSettled(0);
    expect(settled.outcome).toBe("client_closed");
    expect(settled.eventsPlayed).toBe(2);
  });

  it("keeps playing with fake timers installed", async () => {
    vi.useFakeTimers();
    const server = await serve(fixture("openai-compatible.chat-tool-call-split-stream"), { timeScale: 1 });
    const response = await postChat(server, true);
    expect(await response.text()).toContain("[DONE]");
  });

  it("answers a request that does not match with 500 and records why", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"));
    const response = await postChat(server, true);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe("wire_script_mismatch");
    expect(body.error.message).toContain("body.stream should equal false but is true");
    expect(server.mismatches).toEqual(["request #1 (openai-compatible.chat-rate-limit-429): body.stream should equal false but is true"]);
    expect(server.requests[0]?.mismatches).toEqual(["body.stream should equal false but is true"]);
  });

  it("enforces the endpoint", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"));
    const response = await fetch(`${server.baseUrl}/v1/chat/completions`, { method: "POST", headers: chatHeaders, body: chatBody(false) });
    expect(response.status).toBe(500);
    expect(server.mismatches[0]).toContain("path should be /chat/completions but is /v1/chat/completions");
  });

  it("can ignore named matchers", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"), { timeScale: 0, ignoredMatchers: ["body.stream"] });
    expect((await postChat(server, true)).status).toBe(429);
    expect(server.mismatches).toEqual([]);
  });

  it("answers every request with a single script", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"));
    expect((await postChat(server, false)).status).toBe(429);
    expect((await postChat(server, false)).status).toBe(429);
    expect(server.requests.map((request) => request.scriptName)).toEqual([
      "openai-compatible.chat-rate-limit-429",
      "openai-compatible.chat-rate-limit-429",
    ]);
  });

  it("plays a sequence, one script per request, and rejects a request past its end", async () => {
    const server = await serve([
      fixture("openai-compatible.chat-rate-limit-429"),
      fixture("openai-compatible.chat-tool-call-split-stream"),
    ]);
    expect((await postChat(server, false)).status).toBe(429);
    const second = await postChat(server, true);
    expect(second.status).toBe(200);
    expect(await second.text()).toContain("[DONE]");
    const third = await postChat(server, true);
    expect(third.status).toBe(500);
    expect(server.mismatches).toEqual(["request #3 (no script): the sequence has 2 scripts and all were used"]);
    expect(server.requests.map((request) => request.scriptName)).toEqual([
      "openai-compatible.chat-rate-limit-429",
      "openai-compatible.chat-tool-call-split-stream",
      undefined,
    ]);
  });

  it("rejects an oversized request body with 413", async () => {
    const server = await serve(fixture("openai-compatible.chat-rate-limit-429"), { timeScale: 0, maxRequestBytes: 16 });
    const response = await postChat(server, false);
    expect(response.status).toBe(413);
    expect(server.mismatches[0]).toContain("larger than 16 bytes");
  });

  it("rejects a negative time scale", async () => {
    await expect(startWireScriptServer(slowStream(), { timeScale: -1 })).rejects.toThrow(RangeError);
  });

  it("closes promptly while a playback waits", async () => {
    const server = await serve(slowStream(), { timeScale: 1 });
    const response = await postChat(server, true);
    await (response.body as ReadableStream<Uint8Array>).getReader().read();
    await server.close();
    expect(server.requests[0]?.outcome).toBe("server_closed");
  });
});
