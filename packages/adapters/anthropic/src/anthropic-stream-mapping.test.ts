import { describe, expect, it } from "vitest";
import { messageEnd, messageStart, textBlock, thinkingBlock } from "../test/anthropic-wire-streams.js";
import { MalformedStreamEventError, parseAnthropicStreamEvent } from "./anthropic-stream-events.js";
import { AnthropicStreamErrorEvent, AnthropicStreamMapping } from "./anthropic-stream-mapping.js";

function feed(mapping: AnthropicStreamMapping, events: readonly Record<string, unknown>[]) {
  return events.flatMap((event) => mapping.accept(parseAnthropicStreamEvent(JSON.stringify(event), undefined)));
}

describe("AnthropicStreamMapping", () => {
  it("keeps the cumulative usage of message_delta over message_start", () => {
    const mapping = new AnthropicStreamMapping();
    const events = feed(mapping, [
      messageStart({ input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 5 }),
      ...textBlock(0, ["a"]),
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 7 } },
      { type: "message_delta", delta: {}, usage: { output_tokens: 9, input_tokens: 12 } },
      { type: "message_stop" },
    ]);
    expect(events.filter((event) => event.type === "usage").at(-1)).toEqual({
      type: "usage",
      usage: { inputTokens: 12, outputTokens: 9, cachedInputTokens: 5, reasoningTokens: 0 },
    });
    expect(mapping.response()).toMatchObject({
      terminalReason: "stop",
      fullText: "a",
      providerUsage: { input_tokens: 12, output_tokens: 9, cache_read_input_tokens: 5 },
    });
  });

  it("streams content a block starts with, and keeps unsigned thinking display-only", () => {
    const mapping = new AnthropicStreamMapping();
    const events = feed(mapping, [
      messageStart(),
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "pre-", signature: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "thought" } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "Hi" } },
      { type: "content_block_stop", index: 1 },
      ...messageEnd("end_turn"),
    ]);
    expect(events.filter((event) => event.type !== "usage")).toEqual([
      { type: "reasoning_delta", text: "pre-" },
      { type: "reasoning_delta", text: "thought" },
      { type: "delta", text: "Hi" },
    ]);
    expect(mapping.response().parts).toEqual([
      { type: "reasoning", text: "pre-thought" },
      { type: "text", text: "Hi" },
    ]);
  });

  it("orders the final parts by block index and ignores what follows message_stop", () => {
    const mapping = new AnthropicStreamMapping();
    feed(mapping, [
      messageStart(),
      ...textBlock(1, ["second"]),
      ...thinkingBlock(0, ["first"], "sig"),
      ...messageEnd("end_turn"),
      ...textBlock(2, ["late"]),
    ]);
    expect(mapping.finished).toBe(true);
    expect(mapping.response().parts.map((part) => part.type)).toEqual(["reasoning", "text"]);
  });

  it.each([
    ["a second message_start", [messageStart(), messageStart()], /second message_start/],
    ["a block started twice", [messageStart(), ...textBlock(0, []).slice(0, 1), ...textBlock(0, []).slice(0, 1)], /started twice/],
    [
      "a delta after the block stopped",
      [messageStart(), ...textBlock(0, ["a"]), { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "b" } }],
      /already stopped/,
    ],
    [
      "a signature on a text block",
      [
        messageStart(),
        ...textBlock(0, []).slice(0, 1),
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "s" } },
      ],
      /signature_delta/,
    ],
  ])("rejects %s", (_name, events, message) => {
    const mapping = new AnthropicStreamMapping();
    let thrown: unknown;
    try {
      feed(mapping, events);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedStreamEventError);
    expect((thrown as Error).message).toMatch(message);
  });

  it("raises an error event with its type and message, even before message_start", () => {
    const mapping = new AnthropicStreamMapping();
    let thrown: unknown;
    try {
      feed(mapping, [{ type: "error", error: { type: "api_error", message: "Internal server error" } }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AnthropicStreamErrorEvent);
    expect(thrown).toMatchObject({ errorType: "api_error", apiMessage: "Internal server error" });
  });

  it("takes the event type from the SSE name when the data has none", () => {
    expect(parseAnthropicStreamEvent("{}", "message_stop")).toEqual({ type: "message_stop" });
    expect(() => parseAnthropicStreamEvent("{}", undefined)).toThrow(/no type/);
  });
});
