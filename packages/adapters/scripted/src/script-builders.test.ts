import { type LlmRequest, type LlmStreamEvent, ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
import { ScriptedProvider } from "./scripted-provider.js";

const REQUEST: LlmRequest = {
  model: "m",
  messages: [{ role: "user", blocks: [{ type: "text", text: "hi" }] }],
  attachments: [],
  tools: [],
  toolChoice: "auto",
};

describe("usage", () => {
  it("spells out the four counters, cached and reasoning defaulting to zero", () => {
    expect(usage(10, 2)).toEqual({ inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(usage(10, 2, 4, 1)).toEqual({ inputTokens: 10, outputTokens: 2, cachedInputTokens: 4, reasoningTokens: 1 });
  });
});

describe("textStep", () => {
  it("streams the text as one delta and returns it as fullText and one text part", () => {
    expect(textStep("Hello there.")).toEqual({
      events: [{ type: "delta", text: "Hello there." }],
      response: {
        fullText: "Hello there.",
        parts: [{ type: "text", text: "Hello there." }],
        usage: usage(0, 0),
        terminalReason: "stop",
      },
    });
  });

  it("cuts the text into the requested number of deltas", () => {
    const step = textStep("abcdefgh", { chunks: 3, usage: { inputTokens: 5 } });
    expect(step.events).toEqual([
      { type: "delta", text: "abc" },
      { type: "delta", text: "def" },
      { type: "delta", text: "gh" },
    ]);
    expect(step.response?.usage).toEqual(usage(5, 0));
  });

  it("streams given chunks as they are, and rejects chunks that do not join to the text", () => {
    expect(textStep("Hi you", { chunks: ["H", "i you"] }).events).toEqual([
      { type: "delta", text: "H" },
      { type: "delta", text: "i you" },
    ]);
    expect(() => textStep("Hi you", { chunks: ["Hi", "me"] })).toThrow(TypeError);
  });

  it("with streamOnly returns an empty response and streams the usage instead", () => {
    const step = textStep("abcd", { chunks: 2, streamOnly: true, usage: usage(3, 1) });
    expect(step).toEqual({
      events: [
        { type: "delta", text: "ab" },
        { type: "delta", text: "cd" },
        { type: "usage", usage: usage(3, 1) },
      ],
      response: {},
    });
  });

  it("plays through the provider as a stream followed by the final response", async () => {
    const provider = new ScriptedProvider([textStep("Found it.", { chunks: 2, usage: usage(6, 3) })]);
    const events: LlmStreamEvent[] = [];
    const response = await provider.doComplete!(REQUEST, {
      signal: new AbortController().signal,
      emit: (event) => void events.push(event),
    });
    expect(events.map((event) => (event.type === "delta" ? event.text : "")).join("")).toBe("Found it.");
    expect(response).toEqual({
      fullText: "Found it.",
      parts: [{ type: "text", text: "Found it." }],
      usage: usage(6, 3),
      terminalReason: "stop",
    });
  });
});

describe("toolCallStep", () => {
  it("returns tool_call parts with JSON-encoded arguments and terminal reason tool_use", () => {
    const step = toolCallStep([
      { callId: "c-add", name: "add", args: { a: 2, b: 3 } },
      { name: "lookup", args: [1, "x"] },
    ]);
    expect(step).toEqual({
      events: [],
      response: {
        fullText: "",
        parts: [
          { type: "tool_call", callId: "c-add", toolName: "add", inputJson: '{"a":2,"b":3}' },
          { type: "tool_call", callId: "call-2", toolName: "lookup", inputJson: '[1,"x"]' },
        ],
        usage: usage(0, 0),
        terminalReason: "tool_use",
      },
    });
  });

  it("sends string arguments as they are, so invalid JSON can be scripted", () => {
    const parts = toolCallStep([{ name: "echo", args: "{not json" }]).response?.parts;
    expect(parts).toEqual([{ type: "tool_call", callId: "call-1", toolName: "echo", inputJson: "{not json" }]);
  });

  it("puts prose before the calls, streamed as deltas, with the given usage", () => {
    const step = toolCallStep([{ name: "add", args: {} }], { text: "Let me add.", usage: usage(12, 4) });
    expect(step.events).toEqual([{ type: "delta", text: "Let me add." }]);
    expect(step.response).toMatchObject({
      fullText: "Let me add.",
      parts: [
        { type: "text", text: "Let me add." },
        { type: "tool_call", toolName: "add", inputJson: "{}" },
      ],
      usage: usage(12, 4),
    });
  });
});

describe("errorStep", () => {
  it("fails the call with the classified failure after its events", async () => {
    const provider = new ScriptedProvider([
      errorStep({ message: "Rate limit reached", status: 429, retryAfterMs: 2_000 }, [{ type: "delta", text: "x" }]),
    ]);
    const events: LlmStreamEvent[] = [];
    const error = await provider.doComplete!(REQUEST, {
      signal: new AbortController().signal,
      emit: (event) => void events.push(event),
    }).catch((thrown: unknown) => thrown);
    expect(events).toEqual([{ type: "delta", text: "x" }]);
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).failure).toEqual({
      kind: "http",
      message: "Rate limit reached",
      retryable: true,
      status: 429,
      retryAfterMs: 2_000,
      terminalReason: "provider_error",
    });
  });

  it("classifies failure details even when they carry kind, retryable and terminal reason", () => {
    const step = errorStep({ message: "bad key", status: 401, kind: "http", retryable: true, terminalReason: "provider_error" });
    expect(step.error).toMatchObject({ kind: "auth", retryable: false });
  });
});
