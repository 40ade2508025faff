import type { LlmResponse, LlmStreamEvent } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import type { StreamDecoder } from "./call-runner.js";
import { createChatStreamDecoder, decodeChatCompletion } from "./chat-response-mapping.js";
import { createResponsesStreamDecoder, decodeResponse } from "./responses-response-mapping.js";

/*
 * How the decoders conclude a response: refusals, finish reasons and statuses they do not know.
 * (The runtime tests show what the turn makes of it, over HTTP.)
 */

function decodeStream(decoder: StreamDecoder, events: readonly unknown[]): { events: LlmStreamEvent[]; response: LlmResponse } {
  const streamed: LlmStreamEvent[] = [];
  for (const event of events) streamed.push(...decoder.accept(event));
  const finished = decoder.finish();
  return { events: [...streamed, ...finished.events], response: finished.response };
}

const chunk = (delta: Record<string, unknown>, finishReason?: string) => ({
  choices: [{ index: 0, delta, ...(finishReason === undefined ? {} : { finish_reason: finishReason }) }],
});

const toolCall = { index: 0, id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } };

describe("Chat Completions terminal reasons", () => {
  it("a streamed refusal is content_filter; its text is neither streamed nor the answer", () => {
    const { events, response } = decodeStream(createChatStreamDecoder(), [
      chunk({ role: "assistant", refusal: "I can't " }),
      chunk({ refusal: "help with that." }),
      chunk({}, "stop"),
    ]);
    expect(events).toEqual([]);
    expect(response).toMatchObject({
      fullText: "",
      parts: [],
      terminalReason: "content_filter",
      terminalDiagnostic: "The model refused: I can't help with that.",
    });
  });

  it("a refusal wins over tool calls and over content sent beside it", () => {
    const whole = decodeChatCompletion({
      choices: [{ index: 0, message: { content: "Well.", refusal: "No.", tool_calls: [toolCall] }, finish_reason: "tool_calls" }],
    });
    expect(whole).toMatchObject({ fullText: "Well.", terminalReason: "content_filter", terminalDiagnostic: "The model refused: No." });
  });

  it("a content_filter finish reason explains itself", () => {
    const { response } = decodeStream(createChatStreamDecoder(), [chunk({ content: "Once upon" }, "content_filter")]);
    expect(response).toMatchObject({
      terminalReason: "content_filter",
      terminalDiagnostic: 'The provider\'s content filter stopped the response (finish_reason "content_filter").',
    });
  });

  it("an unknown finish reason is unknown, named in the diagnostic, with or without tool calls", () => {
    const text = decodeStream(createChatStreamDecoder(), [chunk({ content: "Half" }, "network_error")]).response;
    expect(text).toMatchObject({
      fullText: "Half",
      terminalReason: "unknown",
      terminalDiagnostic: 'The provider ended the response with an unknown finish reason "network_error".',
    });
    const calls = decodeStream(createChatStreamDecoder(), [chunk({ tool_calls: [toolCall] }, "network_error")]).response;
    expect(calls.terminalReason).toBe("unknown");
    const long = decodeChatCompletion({ choices: [{ message: { content: "x" }, finish_reason: "y".repeat(500) }] });
    expect(long.terminalDiagnostic?.length).toBeLessThan(140);
  });

  it("stop-like reasons with tool calls are tool_use, streamed or not", () => {
    expect(decodeStream(createChatStreamDecoder(), [chunk({ tool_calls: [toolCall] }, "stop")]).response.terminalReason).toBe("tool_use");
    const whole = decodeChatCompletion({ choices: [{ message: { tool_calls: [toolCall] }, finish_reason: "stop" }] });
    expect(whole).toMatchObject({ terminalReason: "tool_use" });
    expect(whole.terminalDiagnostic).toBeUndefined();
  });

  it("a whole response without a finish reason is unknown", () => {
    const whole = decodeChatCompletion({ choices: [{ message: { content: "Hi", tool_calls: [toolCall] } }] });
    expect(whole).toMatchObject({
      terminalReason: "unknown",
      terminalDiagnostic: "The provider ended the response without a finish reason.",
    });
  });
});

const messageDone = (content: unknown[]) => ({
  type: "response.output_item.done",
  output_index: 0,
  item: { type: "message", id: "msg_1", status: "completed", role: "assistant", content },
});
const completed = (status = "completed", extra: Record<string, unknown> = {}) => ({
  type: "response.completed",
  response: { id: "resp_1", status, output: [], ...extra },
});

describe("Responses terminal reasons", () => {
  it("streamed refusal deltas are kept for the diagnostic only; refusal.done gives the final text", () => {
    const { events, response } = decodeStream(createResponsesStreamDecoder(), [
      { type: "response.output_item.added", output_index: 0, item: { type: "message", id: "msg_1", content: [] } },
      { type: "response.refusal.delta", output_index: 0, item_id: "msg_1", delta: "I can't" },
      { type: "response.refusal.done", output_index: 0, item_id: "msg_1", refusal: "I can't help with that." },
      completed(),
    ]);
    expect(events).toEqual([]);
    expect(response).toMatchObject({
      fullText: "",
      parts: [],
      terminalReason: "content_filter",
      terminalDiagnostic: "The model refused: I can't help with that.",
    });
  });

  it("a done message item with a refusal part wins over the streamed pieces; output text beside it stays the text", () => {
    const { response } = decodeStream(createResponsesStreamDecoder(), [
      { type: "response.refusal.delta", output_index: 0, item_id: "msg_1", delta: "No" },
      messageDone([
        { type: "output_text", text: "Partly: " },
        { type: "refusal", refusal: "No, I will not." },
      ]),
      completed(),
    ]);
    expect(response).toMatchObject({
      fullText: "Partly: ",
      terminalReason: "content_filter",
      terminalDiagnostic: "The model refused: No, I will not.",
    });
  });

  it("an incomplete response keeps known reasons, and makes a missing, stop-like or unknown one unknown", () => {
    const incomplete = (reason: string | undefined) =>
      decodeResponse({
        status: "incomplete",
        output: [],
        ...(reason === undefined ? {} : { incomplete_details: { reason } }),
      });
    expect(incomplete("max_output_tokens")).toMatchObject({
      terminalReason: "output_limit",
      terminalDiagnostic: "The response is incomplete (max_output_tokens).",
    });
    expect(incomplete("content_filter")).toMatchObject({ terminalReason: "content_filter" });
    expect(incomplete("network_error")).toMatchObject({
      terminalReason: "unknown",
      terminalDiagnostic: 'The response is incomplete, for an unknown reason "network_error".',
    });
    expect(incomplete("stop")).toMatchObject({ terminalReason: "unknown" });
    expect(incomplete(undefined)).toMatchObject({
      terminalReason: "unknown",
      terminalDiagnostic: "The response is incomplete, for no reason given.",
    });
  });

  it("a status the adapter does not know is unknown, even with function calls", () => {
    const response = decodeResponse({
      status: "in_progress",
      output: [{ type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' }],
    });
    expect(response).toMatchObject({
      terminalReason: "unknown",
      terminalDiagnostic: 'The provider ended the response with an unknown status "in_progress".',
    });
    const done = decodeResponse({
      status: "completed",
      output: [{ type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' }],
    });
    expect(done.terminalReason).toBe("tool_use");
    expect(done.terminalDiagnostic).toBeUndefined();
  });
});
