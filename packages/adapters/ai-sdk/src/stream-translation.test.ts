import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { ProviderCallError } from "@lash/protocol";
import { MockLanguageModelV4 } from "ai/test";
import { MockLanguageModelV3 } from "ai-v6/test";
import { describe, expect, it } from "vitest";
import {
  finishPart,
  finishReason,
  lashRequest,
  runStream,
  type SharedStreamPart,
  streamingModel,
  streamingModelV3,
  textParts,
  thrownBy,
  usageOf,
} from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";
import { REASONING_METADATA_PREFIX } from "./provider-metadata-replay.js";

async function streamOf(parts: readonly LanguageModelV4StreamPart[]) {
  return runStream(createAiSdkProvider(streamingModel([parts])), lashRequest());
}

describe("stream parts → lash events and response", () => {
  it("streams text deltas and returns the text, the usage and the terminal reason", async () => {
    const { events, response } = await streamOf([
      { type: "stream-start", warnings: [] },
      { type: "response-metadata", id: "resp-1", modelId: "mock-model-id", timestamp: new Date(0) },
      ...textParts("t1", ["Hel", "", "lo!"]),
      finishPart("stop", usageOf(12, 3)),
    ]);
    expect(events).toEqual([
      { type: "delta", text: "Hel" },
      { type: "delta", text: "lo!" },
      { type: "usage", usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect(response).toEqual({
      fullText: "Hello!",
      parts: [{ type: "text", text: "Hello!" }],
      usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: "stop",
    });
  });

  it("keeps each text block a part of its own, in the order the blocks started, with no separator in fullText", async () => {
    const { response } = await streamOf([
      { type: "text-start", id: "a" },
      { type: "text-start", id: "b" },
      { type: "text-delta", id: "a", delta: "first " },
      { type: "text-delta", id: "b", delta: "second" },
      { type: "text-delta", id: "a", delta: "block" },
      finishPart(),
    ]);
    expect(response.parts).toEqual([
      { type: "text", text: "first block" },
      { type: "text", text: "second" },
    ]);
    expect(response.fullText).toBe("first blocksecond");
  });

  it("streams reasoning deltas, then attaches the block's provider metadata as replay data", async () => {
    const metadataAtStart = { openai: { itemId: "rs_1", reasoningEncryptedContent: null } };
    const metadataAtEnd = { openai: { itemId: "rs_1", reasoningEncryptedContent: "opaque-bytes" } };
    const { events, response } = await streamOf([
      { type: "reasoning-start", id: "rs_1:0", providerMetadata: metadataAtStart },
      { type: "reasoning-delta", id: "rs_1:0", delta: "Thinking" },
      { type: "reasoning-delta", id: "rs_1:0", delta: " hard." },
      { type: "reasoning-end", id: "rs_1:0", providerMetadata: metadataAtEnd },
      ...textParts("t", ["Done."]),
      finishPart("stop", usageOf(10, 50, { reasoning: 40 })),
    ]);
    const replay = {
      itemId: "rs_1",
      encryptedContent: `${REASONING_METADATA_PREFIX}${JSON.stringify(metadataAtEnd)}`,
      redacted: false,
      summary: [],
    };
    expect(events.slice(0, 3)).toEqual([
      { type: "reasoning_delta", text: "Thinking" },
      { type: "reasoning_delta", text: " hard." },
      { type: "part", part: { type: "reasoning", text: "", replay } },
    ]);
    expect(response.parts).toEqual([
      { type: "reasoning", text: "Thinking hard.", replay },
      { type: "text", text: "Done." },
    ]);
    expect(response.usage).toEqual({ inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 40 });
  });

  it("collects a signature sent on a delta of its own, and marks redacted blocks", async () => {
    const { response } = await streamOf([
      { type: "reasoning-start", id: "0" },
      { type: "reasoning-delta", id: "0", delta: "Let me see." },
      { type: "reasoning-delta", id: "0", delta: "", providerMetadata: { anthropic: { signature: "sig-1" } } },
      { type: "reasoning-end", id: "0" },
      { type: "reasoning-start", id: "1", providerMetadata: { anthropic: { redactedData: "cipher" } } },
      { type: "reasoning-end", id: "1" },
      finishPart(),
    ]);
    expect(response.parts).toMatchObject([
      { type: "reasoning", text: "Let me see.", replay: { signature: "sig-1", redacted: false } },
      { type: "reasoning", text: "", replay: { redacted: true } },
    ]);
  });

  it("keeps reasoning without provider metadata display-only (no replay, no extra part event)", async () => {
    const { events, response } = await streamOf([
      { type: "reasoning-start", id: "r" },
      { type: "reasoning-delta", id: "r", delta: "hmm" },
      { type: "reasoning-end", id: "r" },
      finishPart(),
    ]);
    expect(events.filter((event) => event.type === "part")).toEqual([]);
    expect(response.parts).toEqual([{ type: "reasoning", text: "hmm" }]);
  });

  it("turns streamed tool input and the tool call into one tool_call part with its replay data", async () => {
    const metadata = { google: { thoughtSignature: "sig" } };
    const { events, response } = await streamOf([
      { type: "tool-input-start", id: "call-1", toolName: "add" },
      { type: "tool-input-delta", id: "call-1", delta: '{"a":' },
      { type: "tool-input-delta", id: "call-1", delta: "1}" },
      { type: "tool-input-end", id: "call-1" },
      { type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":1}', providerMetadata: metadata },
      finishPart("tool-calls"),
    ]);
    const part = {
      type: "tool_call",
      callId: "call-1",
      toolName: "add",
      inputJson: '{"a":1}',
      replay: { opaque: { aiSdkProviderMetadata: metadata } },
    };
    expect(events.filter((event) => event.type === "part")).toEqual([{ type: "part", part }]);
    expect(response.parts).toEqual([part]);
    expect(response.terminalReason).toBe("tool_use");
  });

  it("completes a tool call whose input streamed but whose tool-call part never came", async () => {
    const { events, response } = await streamOf([
      { type: "tool-input-start", id: "c1", toolName: "search" },
      { type: "tool-input-delta", id: "c1", delta: '{"q":"x"}' },
      { type: "tool-input-start", id: "c2", toolName: "note", inputEncoding: "text" },
      { type: "tool-input-delta", id: "c2", delta: 'say "hi"' },
      { type: "tool-input-start", id: "c3", toolName: "ping" },
      finishPart("tool-calls"),
    ]);
    const expected = [
      { type: "tool_call", callId: "c1", toolName: "search", inputJson: '{"q":"x"}' },
      { type: "tool_call", callId: "c2", toolName: "note", inputJson: JSON.stringify('say "hi"') },
      { type: "tool_call", callId: "c3", toolName: "ping", inputJson: "{}" },
    ];
    expect(response.parts).toEqual(expected);
    expect(events.filter((event) => event.type === "part").map((event) => (event.type === "part" ? event.part : undefined))).toEqual(
      expected,
    );
  });

  it("leaves out calls the provider executed itself, and what lash does not keep", async () => {
    const { events, response } = await streamOf([
      { type: "tool-input-start", id: "ws", toolName: "web_search", providerExecuted: true },
      { type: "tool-input-delta", id: "ws", delta: "{}" },
      { type: "tool-call", toolCallId: "ws", toolName: "web_search", input: "{}", providerExecuted: true },
      { type: "tool-result", toolCallId: "ws", toolName: "web_search", result: { hits: 1 } },
      { type: "tool-approval-request", approvalId: "ap-1", toolCallId: "ws" },
      { type: "source", sourceType: "url", id: "s1", url: "https://example.com" },
      { type: "file", mediaType: "image/png", data: { type: "data", data: "iVBORw0KGgo=" } },
      { type: "raw", rawValue: { anything: true } },
      ...textParts("t", ["Found it."]),
      finishPart("stop"),
    ]);
    expect(events.map((event) => event.type)).toEqual(["delta", "usage"]);
    expect(response.parts).toEqual([{ type: "text", text: "Found it." }]);
    expect(response.terminalReason).toBe("stop");
  });

  it("reports tool use when the provider says stop but sent tool calls", async () => {
    const { response } = await streamOf([
      { type: "tool-call", toolCallId: "c", toolName: "t", input: "{}" },
      { type: "finish", finishReason: finishReason("stop"), usage: usageOf(1, 1) },
    ]);
    expect(response.terminalReason).toBe("tool_use");
  });

  it("keeps an unknown finish reason with tool calls unknown: the calls may be cut off", async () => {
    const { response } = await streamOf([
      { type: "tool-call", toolCallId: "c", toolName: "t", input: '{"q":' },
      { type: "finish", finishReason: finishReason("other", "network_error"), usage: usageOf(1, 1) },
    ]);
    expect(response).toMatchObject({
      terminalReason: "unknown",
      terminalDiagnostic: 'The provider ended the response with an unknown finish reason "network_error".',
    });
  });

  it("keeps the provider's raw usage for audits", async () => {
    const usage = { ...usageOf(5, 2), raw: { prompt_tokens: 5, completion_tokens: 2, extra: undefined } };
    const { response } = await streamOf([{ type: "finish", finishReason: finishReason("stop"), usage }]);
    expect(response.providerUsage).toEqual({ prompt_tokens: 5, completion_tokens: 2 });
  });

  it("fails the call with a classified stream failure on an error part", async () => {
    const error = await thrownBy(() =>
      streamOf([...textParts("t", ["partial"]), { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }]),
    );
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).failure).toMatchObject({
      kind: "stream",
      message: "Overloaded",
      code: "overloaded_error",
      retryable: true,
    });
  });

  it("does not retry an error part that names a request problem", async () => {
    const error = await thrownBy(() =>
      streamOf([
        { type: "error", error: { code: "context_length_exceeded", message: "This model's maximum context length is 8192 tokens." } },
      ]),
    );
    expect((error as ProviderCallError).failure).toMatchObject({
      kind: "validation",
      retryable: false,
      terminalReason: "context_overflow",
    });
  });

  it("fails as a retryable stream failure when the stream ends without a finish part", async () => {
    const error = await thrownBy(() => streamOf(textParts("t", ["cut sh"])));
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "stream", code: "stream_incomplete", retryable: true });
  });
});

describe("what differs between the generations", () => {
  it('reads a "v3" stream the same way as a "v4" one', async () => {
    const parts: SharedStreamPart[] = [
      { type: "stream-start", warnings: [] },
      ...textParts("t", ["Calling."]),
      { type: "tool-input-start", id: "c1", toolName: "add", inputEncoding: "json" },
      { type: "tool-input-delta", id: "c1", delta: '{"a":1}' },
      { type: "tool-input-end", id: "c1" },
      { type: "tool-call", toolCallId: "c1", toolName: "add", input: '{"a":1}' },
      finishPart("tool-calls", usageOf(30, 9, { cacheRead: 20, reasoning: 4 })),
    ];
    const fromV4 = await runStream(createAiSdkProvider(streamingModel([parts])), lashRequest());
    const fromV3 = await runStream(createAiSdkProvider(streamingModelV3([parts])), lashRequest());
    expect(fromV3).toEqual(fromV4);
    expect(fromV4.response).toEqual({
      fullText: "Calling.",
      parts: [
        { type: "text", text: "Calling." },
        { type: "tool_call", callId: "c1", toolName: "add", inputJson: '{"a":1}' },
      ],
      usage: { inputTokens: 30, outputTokens: 5, cachedInputTokens: 20, reasoningTokens: 4 },
      terminalReason: "tool_use",
    });
  });

  it('ignores the parts only "v4" streams (ping, custom content, reasoning files, text citations)', async () => {
    const { events, response } = await streamOf([
      { type: "ping" },
      { type: "custom", kind: "acme.marker" },
      { type: "reasoning-file", mediaType: "image/png", data: { type: "data", data: "iVBORw0KGgo=" } },
      { type: "file", mediaType: "image/png", data: { type: "url", url: new URL("https://example.com/a.png") } },
      { type: "text-start", id: "t" },
      { type: "text-delta", id: "t", delta: "Cited." },
      { type: "text-end", id: "t", citations: [{ source: { type: "source", sourceType: "url", id: "s", url: "https://example.com" } }] },
      { type: "ping" },
      finishPart("stop"),
    ]);
    expect(events.map((event) => event.type)).toEqual(["delta", "usage"]);
    expect(response.parts).toEqual([{ type: "text", text: "Cited." }]);
    expect(response.terminalReason).toBe("stop");
  });

  it('fails a "v4" stream that finished as interrupted as a retryable, incomplete stream', async () => {
    // What a v4 provider reports when the connection closed cleanly before the provider's own end marker.
    const error = await thrownBy(() =>
      streamOf([
        ...textParts("t", ["cut sh"]),
        { type: "finish", finishReason: { unified: "interrupted", raw: undefined }, usage: usageOf(10, 2) },
      ]),
    );
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "stream", code: "stream_incomplete", retryable: true });
    expect((error as ProviderCallError).message).toContain('"interrupted"');
  });
});

describe('mode "generate" (doComplete over doGenerate)', () => {
  it('maps a "v3" result the same way, and a "v4" one with content only "v4" has', async () => {
    const common = {
      finishReason: finishReason("stop", "end_turn"),
      usage: usageOf(12, 3),
      warnings: [],
    };
    const v3 = new MockLanguageModelV3({
      doGenerate: {
        ...common,
        content: [
          { type: "text", text: "Hi." },
          { type: "file", mediaType: "image/png", data: "iVBORw0KGgo=" },
        ],
      },
    });
    const v4 = new MockLanguageModelV4({
      doGenerate: {
        ...common,
        content: [
          { type: "reasoning-file", mediaType: "image/png", data: { type: "data", data: "iVBORw0KGgo=" } },
          { type: "text", text: "Hi.", citations: [] },
          { type: "file", mediaType: "image/png", data: { type: "data", data: "iVBORw0KGgo=" } },
          { type: "custom", kind: "acme.marker" },
        ],
      },
    });
    const complete = (model: MockLanguageModelV3 | MockLanguageModelV4) =>
      createAiSdkProvider(model, { mode: "generate" }).doComplete?.(lashRequest(), {
        signal: new AbortController().signal,
        emit: () => {},
      });
    const expected = {
      fullText: "Hi.",
      parts: [{ type: "text", text: "Hi." }],
      usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: "stop",
    };
    expect(await complete(v3)).toEqual(expected);
    expect(await complete(v4)).toEqual(expected);
  });

  it("maps the generated content, usage and finish reason, and streams nothing", async () => {
    const model = new MockLanguageModelV4({
      doGenerate: {
        content: [
          { type: "reasoning", text: "Plan.", providerMetadata: { anthropic: { signature: "s" } } },
          { type: "text", text: "Calling." },
          { type: "tool-call", toolCallId: "c1", toolName: "add", input: '{"a":1}' },
          { type: "source", sourceType: "url", id: "s", url: "https://example.com" },
        ],
        finishReason: finishReason("tool-calls"),
        usage: usageOf(30, 9, { cacheRead: 20 }),
        warnings: [],
      },
    });
    const provider = createAiSdkProvider(model, { mode: "generate" });
    expect(provider.doStream).toBeUndefined();
    const emitted: unknown[] = [];
    const response = await provider.doComplete?.(lashRequest(), {
      signal: new AbortController().signal,
      emit: (event) => void emitted.push(event),
    });
    expect(emitted).toEqual([]);
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(response).toEqual({
      fullText: "Calling.",
      parts: [
        { type: "reasoning", text: "Plan.", replay: expect.objectContaining({ signature: "s" }) },
        { type: "text", text: "Calling." },
        { type: "tool_call", callId: "c1", toolName: "add", inputJson: '{"a":1}' },
      ],
      usage: { inputTokens: 30, outputTokens: 9, cachedInputTokens: 20, reasoningTokens: 0 },
      terminalReason: "tool_use",
    });
  });
});
