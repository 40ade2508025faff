import { startWireScriptServer, type WireScript } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { collectCall, failureOf, inlineScript, sseTimeline, userRequest } from "../test/provider-harness.js";
import { createOpenAIResponsesProvider, type OpenAIResponsesProviderOptions } from "./responses-provider.js";

function responsesScript(name: string, timeline: WireScript["timeline"], requestMatch?: WireScript["request_match"]): WireScript {
  return inlineScript({
    name,
    provider_kind: "openai",
    endpoint: { method: "POST", path: "/responses" },
    timeline,
    ...(requestMatch === undefined ? {} : { request_match: requestMatch }),
  });
}

async function callWith(script: WireScript, options: OpenAIResponsesProviderOptions = {}) {
  const server = await startWireScriptServer(script, { timeScale: 0 });
  try {
    const provider = createOpenAIResponsesProvider({ baseURL: server.baseUrl, apiKey: "test-key", ...options });
    const call = await collectCall(provider, userRequest("gpt-5.4"));
    expect(server.mismatches).toEqual([]);
    return call;
  } finally {
    await server.close();
  }
}

const messageAdded = (id: string, phase: string) => ({
  type: "response.output_item.added",
  output_index: 0,
  item: { type: "message", id, phase, content: [] },
});

describe("Responses provider", () => {
  it("streams reasoning summary parts as paragraphs and keeps the item's encrypted content for replay", async () => {
    const call = await callWith(
      responsesScript(
        "reasoning",
        sseTimeline([
          { type: "response.output_item.added", output_index: 0, item: { type: "reasoning", id: "rs_1", summary: [] } },
          { type: "response.reasoning_summary_text.delta", output_index: 0, item_id: "rs_1", summary_index: 0, delta: "First." },
          { type: "response.reasoning_summary_text.delta", output_index: 0, item_id: "rs_1", summary_index: 1, delta: "Second." },
          {
            type: "response.output_item.done",
            output_index: 0,
            item: {
              type: "reasoning",
              id: "rs_1",
              summary: [
                { type: "summary_text", text: "First." },
                { type: "summary_text", text: "Second." },
              ],
              encrypted_content: "enc",
            },
          },
          {
            type: "response.output_item.added",
            output_index: 1,
            item: { type: "message", id: "msg_1", phase: "final_answer", content: [] },
          },
          { type: "response.output_text.delta", output_index: 1, item_id: "msg_1", delta: "Hi." },
          {
            type: "response.output_item.done",
            output_index: 1,
            item: { type: "message", id: "msg_1", phase: "final_answer", content: [{ type: "output_text", text: "Hi." }] },
          },
          { type: "response.completed", response: { status: "completed", output: [] } },
        ]),
      ),
      { reasoningSummary: "auto" },
    );
    const replay = { itemId: "rs_1", encryptedContent: "enc", redacted: false, summary: ["First.", "Second."] };
    expect(call.events).toEqual([
      { type: "reasoning_delta", text: "First." },
      { type: "reasoning_delta", text: "\n\nSecond." },
      { type: "part", part: { type: "reasoning", text: "", replay } },
      { type: "part", part: { type: "text", text: "Hi.", responseMeta: { id: "msg_1", phase: "final_answer" } } },
    ]);
    expect(call.response).toMatchObject({
      fullText: "Hi.",
      terminalReason: "stop",
      parts: [
        { type: "reasoning", text: "First.\n\nSecond.", replay },
        { type: "text", text: "Hi.", responseMeta: { id: "msg_1", phase: "final_answer" } },
      ],
    });
  });

  it("an incomplete response for max_output_tokens is output_limit", async () => {
    const call = await callWith(
      responsesScript(
        "incomplete",
        sseTimeline([
          messageAdded("msg_1", "final_answer"),
          { type: "response.output_text.delta", output_index: 0, item_id: "msg_1", delta: "Partial" },
          {
            type: "response.incomplete",
            response: {
              status: "incomplete",
              incomplete_details: { reason: "max_output_tokens" },
              output: [],
              usage: { input_tokens: 10, output_tokens: 64 },
            },
          },
        ]),
      ),
      { maxOutputTokens: 64 },
    );
    expect(call.response).toMatchObject({
      terminalReason: "output_limit",
      fullText: "Partial",
      terminalDiagnostic: "The response is incomplete (max_output_tokens).",
    });
  });

  it("response.failed fails the call with the server's error", async () => {
    const call = await callWith(
      responsesScript(
        "failed",
        sseTimeline([
          {
            type: "response.failed",
            response: {
              status: "failed",
              error: { code: "context_length_exceeded", message: "Your input exceeds the context window of this model." },
            },
          },
        ]),
      ),
    );
    expect(failureOf(call)).toMatchObject({
      kind: "validation",
      retryable: false,
      terminalReason: "context_overflow",
      code: "context_length_exceeded",
    });
  });

  it("an error event with a server error is retryable", async () => {
    const call = await callWith(
      responsesScript(
        "error-event",
        sseTimeline([{ type: "error", code: "server_error", message: "The server had an error.", param: null }]),
      ),
    );
    expect(failureOf(call)).toMatchObject({ retryable: true, code: "server_error", message: "The server had an error." });
  });

  it("a stream that stops before response.completed was cut short: retryable", async () => {
    const script = responsesScript("cut", [
      { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
      { at: 0, event: "sse", data: JSON.stringify(messageAdded("msg_1", "final_answer")) },
      { at: 0, event: "end" },
    ]);
    expect(failureOf(await callWith(script))).toMatchObject({ kind: "stream", retryable: true, code: "stream_truncated" });
  });

  it("an output item of the wrong shape names the field", async () => {
    const call = await callWith(
      responsesScript(
        "bad-item",
        sseTimeline([{ type: "response.output_item.done", output_index: 0, item: { type: "function_call", call_id: 7 } }]),
      ),
    );
    expect(failureOf(call)).toMatchObject({
      kind: "stream",
      retryable: false,
      message: expect.stringContaining("response.output_item.done item at call_id"),
    });
  });

  it("decodes a whole response when streaming is off", async () => {
    const body = {
      id: "resp_1",
      object: "response",
      status: "completed",
      output: [
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "enc" },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}', status: "completed" },
      ],
      usage: {
        input_tokens: 20,
        input_tokens_details: { cached_tokens: 5 },
        output_tokens: 9,
        output_tokens_details: { reasoning_tokens: 4 },
      },
    };
    const script = responsesScript(
      "whole",
      [
        { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "application/json" }] },
        { at: 0, event: "body", data: JSON.stringify(body) },
        { at: 0, event: "end" },
      ],
      { body: { stream: { equals: false } } },
    );
    const call = await callWith(script, { stream: false });
    expect(call.response).toEqual({
      fullText: "",
      parts: [
        { type: "reasoning", text: "", replay: { itemId: "rs_1", encryptedContent: "enc", redacted: false, summary: [] } },
        { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"x"}', replay: { itemId: "fc_1" } },
      ],
      usage: { inputTokens: 20, outputTokens: 5, cachedInputTokens: 5, reasoningTokens: 4 },
      terminalReason: "tool_use",
      providerUsage: body.usage,
    });
  });
});
