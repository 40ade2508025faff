import type { LlmStreamEvent } from "@lash/protocol";
import { bundledWireScriptsDirectory, loadWireScripts, startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  chunkScript,
  errorScript,
  frame,
  messageEnd,
  messageStart,
  redactedThinkingBlock,
  silentScript,
  streamScript,
  textBlock,
  thinkingBlock,
  toolUseBlock,
  utf8,
} from "../test/anthropic-wire-streams.js";
import { failureOf, runProvider, userRequest } from "../test/provider-run.js";
import { expectationProblems } from "../test/wire-script-expectation.js";
import { type AnthropicProviderOptions, createAnthropicProvider } from "./index.js";

let server: WireScriptServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(scripts: readonly WireScript[], options: Partial<AnthropicProviderOptions> = {}) {
  server = await startWireScriptServer(scripts);
  const provider = createAnthropicProvider({ apiKey: "test-key", baseURL: server.baseUrl, cacheRetention: "none", ...options });
  return { server, provider };
}

function texts(events: readonly LlmStreamEvent[], type: "delta" | "reasoning_delta"): string[] {
  return events.flatMap((event) => (event.type === type ? [event.text] : []));
}

const fixtures = await loadWireScripts(bundledWireScriptsDirectory(), { providerKinds: ["anthropic"] });

function fixture(name: string): WireScript {
  const found = fixtures.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`fixture ${name} is missing`);
  return found;
}

describe("shared wire-script fixtures", () => {
  it("has the Anthropic fixtures", () => {
    expect(fixtures.map((script) => script.name)).toEqual(["anthropic.messages-hard-quota-400", "anthropic.messages-text-stream"]);
  });

  it.each(fixtures.map((script) => [script.name, script] as const))(
    "%s: matches the request and meets expected_provider",
    async (_name, script) => {
      const { provider, server } = await serve([script]);
      const run = await runProvider(provider, userRequest("Hello"));
      expect(server.mismatches).toEqual([]);
      expect(expectationProblems(script.expected_provider, run)).toEqual([]);
    },
  );

  it("anthropic.messages-text-stream: streams the text, usage and request id", async () => {
    const { provider, server } = await serve([fixture("anthropic.messages-text-stream")]);
    const run = await runProvider(provider, userRequest("Hello"));
    expect(run.error).toBeUndefined();
    expect(texts(run.events, "delta").join("")).toBe("Anthropic scripted answer.");
    expect(run.response?.usage).toEqual({ inputTokens: 7, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(run.response?.httpSummary).toBe("HTTP 200 request-id req-anthropic-text");
    const request = server.requests[0];
    expect(request?.headers["x-api-key"]).toBe("test-key");
    expect(request?.headers.authorization).toBeUndefined();
  });

  it("anthropic.messages-hard-quota-400: a quota failure, not retried", async () => {
    const { provider } = await serve([fixture("anthropic.messages-hard-quota-400")]);
    const failure = failureOf(await runProvider(provider, userRequest("Hello")));
    expect(failure).toMatchObject({ kind: "quota", status: 400, retryable: false, code: "invalid_request_error" });
    expect(failure.message).toContain("credit balance is too low");
    expect(failure.raw).toContain("Plans & Billing");
  });
});

describe("streams", () => {
  it("assembles a tool call from input_json_delta fragments, one splitting a character at the byte level", async () => {
    const fragments = ['{"city": "Mün', 'chen 🎉", ', '"days": 3}'];
    const events = [
      messageStart(),
      ...textBlock(0, ["Checking."]),
      ...toolUseBlock(1, "toolu_01", "weather", fragments),
      ...messageEnd("tool_use", { output_tokens: 30 }),
    ];
    const wire = utf8(events.map(frame).join(""));
    // Cut inside the four bytes of 🎉 (F0 9F 8E 89).
    const cut = wire.indexOf(0xf0) + 2;
    const { provider } = await serve([chunkScript("split", [wire.slice(0, cut), wire.slice(cut)])]);
    const run = await runProvider(provider, userRequest("Weather?"));
    expect(run.error).toBeUndefined();
    const toolPart = { type: "tool_call", callId: "toolu_01", toolName: "weather", inputJson: fragments.join("") };
    expect(run.events).toContainEqual({ type: "part", part: toolPart });
    expect(JSON.parse(toolPart.inputJson)).toEqual({ city: "München 🎉", days: 3 });
    expect(run.response).toMatchObject({
      terminalReason: "tool_use",
      fullText: "Checking.",
      parts: [{ type: "text", text: "Checking." }, toolPart],
    });
  });

  it("streams thinking and keeps its signature for the replay, before the tool call", async () => {
    const events = [
      messageStart({ input_tokens: 50, output_tokens: 1, cache_read_input_tokens: 200, cache_creation_input_tokens: 20 }),
      ...thinkingBlock(0, ["I should ", "look it up."], "EqQBCgIYAhIM"),
      ...toolUseBlock(1, "toolu_02", "lookup", ['{"q":"x"}']),
      ...messageEnd("tool_use", { output_tokens: 40, output_tokens_details: { thinking_tokens: 25 } }),
    ];
    const { provider } = await serve([streamScript("thinking", events)]);
    const run = await runProvider(provider, userRequest("Find x"));
    expect(run.error).toBeUndefined();
    expect(texts(run.events, "reasoning_delta")).toEqual(["I should ", "look it up."]);
    expect(run.response?.parts).toEqual([
      { type: "reasoning", text: "I should look it up.", replay: { signature: "EqQBCgIYAhIM", redacted: false, summary: [] } },
      { type: "tool_call", callId: "toolu_02", toolName: "lookup", inputJson: '{"q":"x"}' },
    ]);
    // input = input_tokens + cache writes; cached = cache reads; thinking split out of output.
    expect(run.response?.usage).toEqual({ inputTokens: 70, outputTokens: 15, cachedInputTokens: 200, reasoningTokens: 25 });
    expect(run.response?.providerUsage).toMatchObject({ cache_read_input_tokens: 200, output_tokens: 40 });
    expect(run.events.filter((event) => event.type === "usage").at(-1)).toEqual({ type: "usage", usage: run.response?.usage });
  });

  it("keeps redacted thinking opaque", async () => {
    const events = [
      messageStart(),
      ...redactedThinkingBlock(0, "EmwKAhgBEgy3va3pzix"),
      ...textBlock(1, ["Done."]),
      ...messageEnd("end_turn"),
    ];
    const { provider } = await serve([streamScript("redacted", events)]);
    const run = await runProvider(provider, userRequest("Go"));
    expect(run.response?.parts).toEqual([
      { type: "reasoning", text: "", replay: { encryptedContent: "EmwKAhgBEgy3va3pzix", redacted: true, summary: [] } },
      { type: "text", text: "Done." },
    ]);
    expect(texts(run.events, "reasoning_delta")).toEqual([]);
  });

  it.each([
    ["max_tokens", "output_limit", "The response reached max_tokens."],
    ["stop_sequence", "stop", undefined],
    ["refusal", "content_filter", "The model refused: partial"],
    ["model_context_window_exceeded", "context_overflow", "The response stopped because the context window is full."],
    ["pause_turn", "unknown", "The server paused a long-running turn (stop_reason pause_turn)."],
    ["something_new", "unknown", 'The provider ended the response with an unknown stop_reason "something_new".'],
  ])("maps stop_reason %s to %s", async (stopReason, terminalReason, terminalDiagnostic) => {
    const { provider } = await serve([streamScript(stopReason, [messageStart(), ...textBlock(0, ["partial"]), ...messageEnd(stopReason)])]);
    const run = await runProvider(provider, userRequest("Go"));
    expect(run.response).toMatchObject({ terminalReason, fullText: "partial" });
    expect(run.response?.terminalDiagnostic).toBe(terminalDiagnostic);
  });

  it("explains a refusal with its stop_details, and one without any text", async () => {
    const refusal = (details: unknown, pieces: readonly string[]) => [
      messageStart(),
      ...(pieces.length === 0 ? [] : textBlock(0, pieces)),
      { type: "message_delta", delta: { stop_reason: "refusal", stop_sequence: null, stop_details: details }, usage: { output_tokens: 3 } },
      { type: "message_stop" },
    ];
    const { provider } = await serve([
      streamScript("detailed", refusal({ type: "refusal", category: "cyber", explanation: "This could enable malware." }, ["Sure, "])),
      streamScript("bare", refusal(null, [])),
      streamScript("odd-details", refusal("not an object", ["I won't."])),
    ]);
    const detailed = await runProvider(provider, userRequest("Go"));
    expect(detailed.response).toMatchObject({
      terminalReason: "content_filter",
      fullText: "Sure, ",
      terminalDiagnostic: "The model refused (category cyber): This could enable malware. Its text before the refusal: Sure,",
    });
    const bare = await runProvider(provider, userRequest("Go"));
    expect(bare.response).toMatchObject({
      terminalReason: "content_filter",
      terminalDiagnostic: "The model refused (stop_reason refusal).",
    });
    // Details of an odd shape only explain: they do not fail a response that is otherwise whole.
    const odd = await runProvider(provider, userRequest("Go"));
    expect(odd.error).toBeUndefined();
    expect(odd.response).toMatchObject({ terminalReason: "content_filter", terminalDiagnostic: "The model refused: I won't." });
  });

  it("ignores ping, unknown events and server-tool blocks", async () => {
    const events = [
      messageStart(),
      { type: "ping" },
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
      },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "{}" } },
      { type: "content_block_stop", index: 0 },
      { type: "brand_new_event", detail: 1 },
      ...textBlock(1, ["ok"]),
      ...messageEnd("end_turn"),
    ];
    const { provider } = await serve([streamScript("extras", events)]);
    const run = await runProvider(provider, userRequest("Go"));
    expect(run.error).toBeUndefined();
    expect(run.response?.parts).toEqual([{ type: "text", text: "ok" }]);
  });

  it("reads data-only frames (no event: lines), as the shared fixtures send them", async () => {
    const chunks = [messageStart(), ...textBlock(0, ["plain"]), ...messageEnd("end_turn")].map(
      (event) => `data: ${JSON.stringify(event)}\n\n`,
    );
    const { provider } = await serve([chunkScript("data-only", chunks)]);
    expect((await runProvider(provider, userRequest("Go"))).response?.fullText).toBe("plain");
  });
});

describe("failures", () => {
  it("turns a mid-stream overloaded error event into a retryable stream failure, after what streamed", async () => {
    const events = [messageStart(), { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }];
    const chunks = [
      ...events.map(frame),
      frame({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Half" } }),
      frame({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    ];
    const { provider } = await serve([chunkScript("error-event", chunks)]);
    const run = await runProvider(provider, userRequest("Go"));
    expect(texts(run.events, "delta")).toEqual(["Half"]);
    expect(failureOf(run)).toMatchObject({
      kind: "stream",
      code: "overloaded_error",
      retryable: true,
      message: "stream error (overloaded_error): Overloaded",
    });
  });

  it("classifies a 529 overloaded answer as retryable with its Retry-After", async () => {
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    const { provider } = await serve([errorScript("529", 529, body, [{ name: "retry-after", value: "2" }])]);
    const failure = failureOf(await runProvider(provider, userRequest("Go")));
    expect(failure).toMatchObject({ kind: "http", status: 529, retryable: true, retryAfterMs: 2000, code: "overloaded_error" });
    expect(failure.headers?.["retry-after"]).toBe("2");
  });

  it.each([
    [
      "authentication",
      401,
      { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } },
      { kind: "auth", retryable: false },
    ],
    ["permission", 403, { type: "error", error: { type: "permission_error", message: "not allowed" } }, { kind: "auth", retryable: false }],
    [
      "unknown model",
      404,
      { type: "error", error: { type: "not_found_error", message: "model: claude-nope" } },
      { kind: "unsupported", retryable: false },
    ],
    [
      "context overflow",
      400,
      { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" } },
      { kind: "validation", retryable: false, terminalReason: "context_overflow" },
    ],
    [
      "validation",
      400,
      { type: "error", error: { type: "invalid_request_error", message: "messages: field required" } },
      { kind: "validation", retryable: false },
    ],
    [
      "too large",
      413,
      { type: "error", error: { type: "request_too_large", message: "Request exceeds the maximum size" } },
      { kind: "validation", retryable: false },
    ],
    ["billing", 402, { type: "error", error: { type: "billing_error", message: "payment required" } }, { kind: "quota", retryable: false }],
    [
      "rate limit",
      429,
      { type: "error", error: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" } },
      { kind: "http", retryable: true },
    ],
    ["server error", 500, "<html>upstream broke</html>", { kind: "http", retryable: true, raw: "<html>upstream broke</html>" }],
  ])("classifies an HTTP error: %s", async (_name, status, body, expected) => {
    const { provider } = await serve([errorScript(String(status), status, body)]);
    expect(failureOf(await runProvider(provider, userRequest("Go")))).toMatchObject({ status, ...expected });
  });

  it("turns a disconnect mid-stream into a retryable transport failure", async () => {
    const chunks = [frame(messageStart()), ...textBlock(0, ["partial"]).slice(0, 2).map(frame)];
    const { provider } = await serve([chunkScript("disconnect", chunks, "disconnect")]);
    const run = await runProvider(provider, userRequest("Go"));
    expect(texts(run.events, "delta")).toEqual(["partial"]);
    expect(failureOf(run)).toMatchObject({ kind: "transport", retryable: true });
  });

  it("fails a stream that ends before message_stop, naming it", async () => {
    const { provider } = await serve([chunkScript("truncated", [frame(messageStart()), ...textBlock(0, ["x"]).map(frame)])]);
    expect(failureOf(await runProvider(provider, userRequest("Go")))).toMatchObject({
      kind: "stream",
      code: "stream_truncated",
      retryable: true,
      message: "the stream ended before message_stop",
    });
  });

  it.each([
    ["data that is not JSON", ["data: {not json\n\n"], /not JSON/],
    [
      "content before message_start",
      [frame({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })],
      /before message_start/,
    ],
    [
      "a delta for a block that never started",
      [frame(messageStart()), frame({ type: "content_block_delta", index: 4, delta: { type: "text_delta", text: "x" } })],
      /content block 4, which never started/,
    ],
    [
      "a delta that does not fit its block",
      [
        frame(messageStart()),
        ...toolUseBlock(0, "toolu_1", "t", []).slice(0, 1).map(frame),
        frame({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } }),
      ],
      /text_delta for content block 0, a tool_use block/,
    ],
    [
      "a field of the wrong type",
      [frame(messageStart()), frame({ type: "content_block_start", index: "zero", content_block: { type: "text" } })],
      /malformed content_block_start event: index/,
    ],
    ["a negative token count", [frame(messageStart({ input_tokens: -5 }))], /malformed message_start event: message.usage.input_tokens/],
  ])("fails malformed streams as non-retryable stream failures: %s", async (_name, chunks, message) => {
    const { provider } = await serve([chunkScript("malformed", chunks)]);
    const failure = failureOf(await runProvider(provider, userRequest("Go")));
    expect(failure).toMatchObject({ kind: "stream", retryable: false, code: "malformed_stream" });
    expect(failure.message).toMatch(message);
  });
});

describe("timeouts and aborts", () => {
  it("fires the chunk timeout when the stream stalls", async () => {
    const { provider } = await serve([chunkScript("stall", [frame(messageStart())], "timeout")], { timeouts: { chunkTimeoutMs: 100 } });
    const run = await runProvider(provider, userRequest("Go"));
    expect(failureOf(run)).toMatchObject({ kind: "timeout", code: "timeout", retryable: true });
    expect(failureOf(run).message).toMatch(/chunkTimeoutMs/);
  });

  it("fires the request timeout when the response never starts", async () => {
    const { provider } = await serve([silentScript("no-start")], { timeouts: { requestTimeoutMs: 100 } });
    const failure = failureOf(await runProvider(provider, userRequest("Go")));
    expect(failure).toMatchObject({ kind: "timeout", code: "timeout", retryable: true });
    expect(failure.message).toMatch(/requestTimeoutMs/);
  });

  it("stops the request at once on abort and surfaces the abort", async () => {
    // The stream never ends and no timeout is set: only the abort can end the call.
    const { provider, server } = await serve(
      [chunkScript("endless", [frame(messageStart()), ...textBlock(0, ["first"]).slice(0, 2).map(frame)], "timeout")],
      {
        timeouts: { requestTimeoutMs: null, chunkTimeoutMs: null },
      },
    );
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    const seen: LlmStreamEvent[] = [];
    let thrown: unknown;
    try {
      for await (const part of provider.doStream(userRequest("Go"), { signal: controller.signal })) {
        if (part.type === "response") continue;
        seen.push(part);
        if (part.type === "delta") controller.abort(reason);
      }
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(reason);
    expect(texts(seen, "delta")).toEqual(["first"]);
    // The connection was closed by the client, not left to a timeout.
    expect((await server.exchangeSettled(0)).outcome).toBe("client_closed");
  });

  it("aborts a request waiting for its response", async () => {
    const { provider, server } = await serve([silentScript("no-start")], { timeouts: { requestTimeoutMs: null } });
    const controller = new AbortController();
    const pending = runProvider(provider, userRequest("Go"), controller.signal);
    await server.requestArrived(0);
    controller.abort();
    const run = await pending;
    expect(run.error).toBe(controller.signal.reason);
    expect((await server.exchangeSettled(0)).outcome).toBe("client_closed");
  });

  it("does not send a request when the signal already aborted", async () => {
    const { provider, server } = await serve([]);
    const controller = new AbortController();
    controller.abort();
    const run = await runProvider(provider, userRequest("Go"), controller.signal);
    expect(run.error).toBe(controller.signal.reason);
    expect(server.requests).toEqual([]);
  });
});

describe("request", () => {
  it("sends the configured headers, model, max_tokens and thinking", async () => {
    const { provider, server } = await serve([streamScript("ok", [messageStart(), ...textBlock(0, ["ok"]), ...messageEnd("end_turn")])], {
      headers: { "anthropic-beta": "files-api-2025-04-14", "x-team": "blue" },
      maxOutputTokens: 9000,
      thinking: { budgetTokens: 2048 },
    });
    await runProvider(provider, userRequest("Go"));
    const request = server.requests[0];
    expect(request?.headers["anthropic-beta"]).toBe("files-api-2025-04-14,fine-grained-tool-streaming-2025-05-14");
    expect(request?.headers["x-team"]).toBe("blue");
    expect(request?.headers["x-stainless-retry-count"]).toBe("0");
    expect(request?.body).toMatchObject({ max_tokens: 9000, thinking: { type: "enabled", budget_tokens: 2048 } });
  });
});
