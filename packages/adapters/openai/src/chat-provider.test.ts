import { createServer } from "node:net";
import { ProviderCallError } from "@lash/protocol";
import { startWireScriptServer, type WireScript } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { type CallRecord, collectCall, failureOf, inlineScript, sseTimeline, userRequest } from "../test/provider-harness.js";
import { createOpenAIChatProvider, type OpenAIChatProviderOptions } from "./chat-provider.js";

function chatScript(name: string, timeline: WireScript["timeline"], requestMatch?: WireScript["request_match"]): WireScript {
  return inlineScript({
    name,
    provider_kind: "openai-compatible",
    endpoint: { method: "POST", path: "/chat/completions" },
    timeline,
    ...(requestMatch === undefined ? {} : { request_match: requestMatch }),
  });
}

/** Plays `script` once against a Chat provider and returns what the call produced and what the server saw. */
async function callWith(script: WireScript, options: OpenAIChatProviderOptions = {}, signal?: AbortSignal) {
  const server = await startWireScriptServer(script, { timeScale: 0 });
  try {
    const provider = createOpenAIChatProvider({ baseURL: server.baseUrl, apiKey: "test-key", ...options });
    const call: CallRecord = await collectCall(provider, userRequest("gpt-5.4"), signal);
    return { call, server, request: await server.exchangeSettled(0) };
  } finally {
    await server.close();
  }
}

describe("Chat Completions provider", () => {
  it("maps finish reasons: length is output_limit, content_filter is content_filter", async () => {
    const length = await callWith(
      chatScript("length", sseTimeline([{ choices: [{ index: 0, delta: { content: "cut" }, finish_reason: "length" }] }])),
    );
    expect(length.call.response).toMatchObject({ terminalReason: "output_limit", fullText: "cut" });
    const filtered = await callWith(
      chatScript("filter", sseTimeline([{ choices: [{ index: 0, delta: {}, finish_reason: "content_filter" }] }])),
    );
    expect(filtered.call.response?.terminalReason).toBe("content_filter");
  });

  it("maps usage with cached and reasoning tokens, and keeps the provider's usage object", async () => {
    const usage = {
      prompt_tokens: 1_000,
      completion_tokens: 300,
      total_tokens: 1_300,
      prompt_tokens_details: { cached_tokens: 800 },
      completion_tokens_details: { reasoning_tokens: 200 },
    };
    const { call } = await callWith(
      chatScript(
        "usage",
        sseTimeline([{ choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }] }, { choices: [], usage }]),
      ),
    );
    // Each token once (ADR 0016): the 200 reasoning tokens leave the 300 output tokens.
    const mapped = { inputTokens: 1_000, outputTokens: 100, cachedInputTokens: 800, reasoningTokens: 200 };
    expect(call.events).toContainEqual({ type: "usage", usage: mapped });
    expect(call.response).toMatchObject({ usage: mapped, providerUsage: usage });
  });

  it("reports tool calls as tool_use even when the server says stop, and tells calls apart by id", async () => {
    const { call } = await callWith(
      chatScript(
        "two-calls-one-index",
        sseTimeline([
          {
            choices: [
              { index: 0, delta: { tool_calls: [{ index: 0, id: "call_a", function: { name: "lookup", arguments: '{"q":"a"}' } }] } },
            ],
          },
          {
            choices: [
              { index: 0, delta: { tool_calls: [{ index: 0, id: "call_b", function: { name: "lookup", arguments: '{"q":"b"}' } }] } },
            ],
          },
          { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        ]),
      ),
    );
    expect(call.response?.terminalReason).toBe("tool_use");
    expect(call.response?.parts).toEqual([
      { type: "tool_call", callId: "call_a", toolName: "lookup", inputJson: '{"q":"a"}' },
      { type: "tool_call", callId: "call_b", toolName: "lookup", inputJson: '{"q":"b"}' },
    ]);
  });

  it("streams reasoning fields of compatible servers as reasoning deltas", async () => {
    const { call } = await callWith(
      chatScript(
        "reasoning",
        sseTimeline([
          { choices: [{ index: 0, delta: { reasoning: "Thinking" } }] },
          { choices: [{ index: 0, delta: { reasoning_content: " more", reasoning: " more" } }] },
          { choices: [{ index: 0, delta: { content: "Answer." }, finish_reason: "stop" }] },
        ]),
      ),
    );
    expect(call.events).toEqual([
      { type: "reasoning_delta", text: "Thinking" },
      { type: "reasoning_delta", text: " more" },
      { type: "delta", text: "Answer." },
    ]);
    expect(call.response?.parts).toEqual([
      { type: "reasoning", text: "Thinking more" },
      { type: "text", text: "Answer." },
    ]);
  });

  it("decodes a whole response when streaming is off", async () => {
    const completion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Checking.",
            tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 7 },
    };
    const script = chatScript(
      "whole",
      [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "application/json" }] },
        { at: 0, event: "body", data: JSON.stringify(completion) },
        { at: 0, event: "end" },
      ],
      { body: { stream: { equals: false } } },
    );
    const { call, server } = await callWith(script, { stream: false });
    expect(server.mismatches).toEqual([]);
    expect(call.events).toEqual([]);
    expect(call.response).toMatchObject({
      fullText: "Checking.",
      terminalReason: "tool_use",
      usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 0, reasoningTokens: 0 },
      parts: [
        { type: "text", text: "Checking." },
        { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"x"}' },
      ],
    });
  });

  it("sends no Authorization header without an apiKey, and sends the extra headers", async () => {
    const script = chatScript("no-auth", sseTimeline([{ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: "stop" }] }]), {
      headers: { authorization: { present: false }, "http-referer": { equals: "https://example.test" } },
    });
    const server = await startWireScriptServer(script, { timeScale: 0 });
    try {
      const provider = createOpenAIChatProvider({
        baseURL: server.baseUrl,
        defaultModel: "llama3.2",
        headers: { "HTTP-Referer": "https://example.test" },
      });
      const call = await collectCall(provider, { ...userRequest(""), tools: [] });
      expect(server.mismatches).toEqual([]);
      expect(call.response?.fullText).toBe("hi");
      expect(server.requests[0]?.body).toMatchObject({ model: "llama3.2" });
      expect(server.requests[0]?.body).not.toHaveProperty("tools");
    } finally {
      await server.close();
    }
  });
});

describe("Chat Completions failures", () => {
  it("an event that is not JSON is a stream failure naming the problem, not retryable", async () => {
    const { call } = await callWith(
      chatScript("bad-json", [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
        { at: 0, event: "sse", data: '{"choices":[{"delta":{"content":"a"}}]}' },
        { at: 0, event: "sse", data: "{not json" },
        { at: 0, event: "end" },
      ]),
    );
    const failure = failureOf(call);
    expect(failure).toMatchObject({ kind: "stream", retryable: false, code: "malformed_stream" });
    expect(failure.message).toContain("not valid JSON");
  });

  it("an event of the wrong shape is a stream failure naming the field", async () => {
    const { call } = await callWith(chatScript("bad-shape", sseTimeline([{ choices: [{ index: 0, delta: { content: 42 } }] }])));
    expect(failureOf(call)).toMatchObject({
      kind: "stream",
      retryable: false,
      message: expect.stringContaining("chat completion chunk at choices.0.delta.content"),
    });
  });

  it("a stream that ends before its finish_reason was cut short: retryable", async () => {
    const { call } = await callWith(
      chatScript("cut", [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
        { at: 0, event: "sse", data: '{"choices":[{"index":0,"delta":{"content":"partial"}}]}' },
        { at: 0, event: "end" },
      ]),
    );
    expect(call.events).toEqual([{ type: "delta", text: "partial" }]);
    expect(failureOf(call)).toMatchObject({ kind: "stream", retryable: true, code: "stream_truncated" });
  });

  it("a streaming request answered with plain JSON says so", async () => {
    const { call } = await callWith(
      chatScript("not-a-stream", [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "application/json" }] },
        { at: 0, event: "body", data: '{"choices":[]}' },
        { at: 0, event: "end" },
      ]),
    );
    expect(failureOf(call)).toMatchObject({ kind: "stream", retryable: false, code: "not_an_event_stream" });
  });

  it("an error object inside the stream is classified by its code (OpenRouter's upstream failures)", async () => {
    const { call } = await callWith(
      chatScript(
        "in-stream-error",
        sseTimeline([{ choices: [{ index: 0, delta: { content: "a" } }] }, { error: { message: "Upstream overloaded", code: 502 } }]),
      ),
    );
    expect(failureOf(call)).toMatchObject({ kind: "http", status: 502, retryable: true, message: "Upstream overloaded" });
  });

  it("a named error event is classified by its code", async () => {
    const { call } = await callWith(
      chatScript("named-error-event", [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
        { at: 0, event: "sse", data: '{"choices":[{"index":0,"delta":{"content":"a"}}]}' },
        { at: 0, event: "chunk", data: 'event: error\ndata: {"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}\n\n' },
        { at: 0, event: "end" },
      ]),
    );
    expect(failureOf(call)).toMatchObject({ retryable: true, code: "rate_limit_exceeded", message: "Rate limit reached" });
  });

  it("stops reading at [DONE], even when the server keeps the connection open", async () => {
    const { call, request } = await callWith(
      chatScript("held-after-done", [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
        { at: 0, event: "sse", data: '{"choices":[{"index":0,"delta":{"content":"done"},"finish_reason":"stop"}]}' },
        { at: 0, event: "sse", data: "[DONE]" },
        { at: 0, event: "timeout" },
      ]),
    );
    expect(call.response).toMatchObject({ fullText: "done", terminalReason: "stop" });
    expect(request.outcome).toBe("client_closed");
  });

  it("a server-sent event past 16 MiB ends the call instead of filling the memory", async () => {
    const mebibyte = new TextEncoder().encode("x".repeat(1024 * 1024));
    let sent = 0;
    const hostile: typeof globalThis.fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            sent += 1;
            if (sent === 1) controller.enqueue(new TextEncoder().encode("data: "));
            else if (sent <= 64) controller.enqueue(mebibyte);
            else controller.close();
          },
        }),
        { status: 200, headers: { "content-type": "text/event-stream" } },
      );
    const provider = createOpenAIChatProvider({ baseURL: "http://127.0.0.1:9/v1", apiKey: "test-key", fetch: hostile });
    expect(failureOf(await collectCall(provider, userRequest("gpt-5.4")))).toMatchObject({
      kind: "stream",
      code: "stream_event_too_large",
      retryable: false,
    });
    expect(sent).toBeLessThan(64);
  });

  it("a context overflow is a validation failure with terminal reason context_overflow", async () => {
    const { call } = await callWith(
      chatScript("overflow", [
        {
          at: 0,
          event: "http_error",
          status: 400,
          headers: [{ name: "content-type", value: "application/json" }],
          body: '{"error":{"message":"This model\'s maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}',
        },
      ]),
    );
    expect(failureOf(call)).toMatchObject({ kind: "validation", retryable: false, terminalReason: "context_overflow", status: 400 });
  });

  it("401 is auth, 404 for an unknown model is unsupported, a non-JSON 503 keeps its body", async () => {
    const error = (status: number, body: string) =>
      chatScript(`status-${status}`, [
        { at: 0, event: "http_error", status, headers: [{ name: "content-type", value: "application/json" }], body },
      ]);
    expect(
      failureOf((await callWith(error(401, '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}'))).call),
    ).toMatchObject({
      kind: "auth",
      retryable: false,
    });
    expect(
      failureOf((await callWith(error(404, '{"error":{"message":"The model `gpt-9` does not exist","code":"model_not_found"}}'))).call),
    ).toMatchObject({ kind: "unsupported", retryable: false });
    expect(failureOf((await callWith(error(503, "<html>upstream down</html>"))).call)).toMatchObject({
      kind: "http",
      status: 503,
      retryable: true,
      raw: "<html>upstream down</html>",
    });
  });

  it("a connection refused is a retryable transport failure", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    const provider = createOpenAIChatProvider({ baseURL: `http://127.0.0.1:${closedPort}`, apiKey: "test-key" });
    expect(failureOf(await collectCall(provider, userRequest("gpt-5.4")))).toMatchObject({ kind: "transport", retryable: true });
  });

  it("the caller's abort stops the request at once and surfaces as the abort, not a failure", async () => {
    const script = chatScript("held-open", [
      { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
      { at: 0, event: "sse", data: '{"choices":[{"index":0,"delta":{"content":"first"}}]}' },
      { at: 0, event: "timeout" },
    ]);
    const server = await startWireScriptServer(script, { timeScale: 0 });
    try {
      const provider = createOpenAIChatProvider({ baseURL: server.baseUrl, apiKey: "test-key" });
      const controller = new AbortController();
      const reason = new Error("the user cancelled");
      const events: unknown[] = [];
      let caught: unknown;
      try {
        for await (const part of provider.doStream?.(userRequest("gpt-5.4"), { signal: controller.signal }) ?? []) {
          events.push(part);
          controller.abort(reason);
        }
      } catch (error) {
        caught = error;
      }
      expect(events).toEqual([{ type: "delta", text: "first" }]);
      expect(caught).toBe(reason);
      expect(ProviderCallError.isInstance(caught)).toBe(false);
      expect((await server.exchangeSettled(0)).outcome).toBe("client_closed");
    } finally {
      await server.close();
    }
  });

  it("an abort before the response started surfaces as the abort too", async () => {
    const script = chatScript("never-starts", [{ at: 0, event: "timeout" }]);
    const server = await startWireScriptServer(script, { timeScale: 0 });
    try {
      const provider = createOpenAIChatProvider({ baseURL: server.baseUrl, apiKey: "test-key" });
      const controller = new AbortController();
      void server.requestArrived(0).then(() => controller.abort());
      const call = await collectCall(provider, userRequest("gpt-5.4"), controller.signal);
      expect(call.error).toBeInstanceOf(DOMException);
      expect((call.error as DOMException).name).toBe("AbortError");
      expect((await server.exchangeSettled(0)).outcome).toBe("client_closed");
    } finally {
      await server.close();
    }
  });
});
