// A full lash turn through the adapter: the runtime, its tools and its store are real; only the
// AI SDK model is a mock (it is the thing being wrapped).
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { APICallError } from "@ai-sdk/provider";
import { defineTool, InMemorySessionStore, LashRuntime, textInput } from "@lash/core";
import type { TurnActivity } from "@lash/protocol";
import { DEFAULT_PROVIDER_RETRY_POLICY } from "@lash/protocol";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  finishPart,
  type Generation,
  type SharedStreamPart,
  streamingModel,
  streamingModelV3,
  textParts,
  usageOf,
} from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";
import type { AiSdkLanguageModel } from "./language-model-types.js";

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

const REASONING_METADATA = { openai: { itemId: "rs_1", reasoningEncryptedContent: "encrypted-thoughts" } };

const FIRST_CALL: SharedStreamPart[] = [
  { type: "stream-start", warnings: [] },
  { type: "reasoning-start", id: "rs_1:0", providerMetadata: { openai: { itemId: "rs_1", reasoningEncryptedContent: null } } },
  { type: "reasoning-delta", id: "rs_1:0", delta: "I should use the tool." },
  { type: "reasoning-end", id: "rs_1:0", providerMetadata: REASONING_METADATA },
  ...textParts("msg_1", ["Let me ", "add."]),
  { type: "tool-input-start", id: "call-1", toolName: "add" },
  { type: "tool-input-delta", id: "call-1", delta: '{"a":2,' },
  { type: "tool-input-delta", id: "call-1", delta: '"b":3}' },
  { type: "tool-input-end", id: "call-1" },
  { type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":2,"b":3}', providerMetadata: { openai: { itemId: "fc_1" } } },
  finishPart("tool-calls", usageOf(120, 30, { cacheRead: 100, reasoning: 10 })),
];

const SECOND_CALL: SharedStreamPart[] = [
  ...textParts("msg_2", ["2 + 3 ", "= 5."]),
  finishPart("stop", usageOf(200, 8, { cacheRead: 150 })),
];

function buildRuntime(model: AiSdkLanguageModel) {
  return LashRuntime.builder()
    .withSessionId("ai-sdk-session")
    .withPolicy({ maxContextTokens: 128_000 })
    .withProvider(createAiSdkProvider(model))
    .withTools([add])
    .withStore(new InMemorySessionStore())
    .build();
}

describe("a lash turn through an AI SDK model", () => {
  it.each<Generation>(["v4", "v3"])(
    "runs a tool round trip on a %s model, replays reasoning and the call to the model, and records usage",
    async (generation) => {
      const model = generation === "v4" ? streamingModel([FIRST_CALL, SECOND_CALL]) : streamingModelV3([FIRST_CALL, SECOND_CALL]);
      const runtime = await buildRuntime(model);
      const activities: TurnActivity[] = [];
      const turn = await runtime.streamTurn(textInput("What is 2 + 3?"), {
        activities: { emit: (activity) => void activities.push(activity) },
      });

      expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "2 + 3 = 5." } });
      expect(turn.assistantOutput.safeText).toBe("2 + 3 = 5.");
      expect(turn.toolCalls).toHaveLength(1);
      expect(turn.toolCalls[0]).toMatchObject({
        callId: "call-1",
        tool: "add",
        args: { a: 2, b: 3 },
        output: { outcome: { status: "success", payload: { sum: 5 } } },
      });
      expect(turn.errors).toEqual([]);

      // Usage: the AI SDK's totals include cache reads (kept, the default) and reasoning (moved beside output).
      expect(runtime.tokenLedger()).toEqual([
        {
          source: "turn",
          model: "mock-model-id",
          usage: { inputTokens: 320, outputTokens: 28, cachedInputTokens: 250, reasoningTokens: 10 },
        },
      ]);

      // The activity stream: live reasoning and prose, the tool call, usage per model call.
      const kinds = activities.map((activity) => activity.type);
      expect(kinds.filter((kind) => kind === "model_request_started")).toHaveLength(2);
      expect(
        activities
          .filter((activity) => activity.type === "reasoning_delta")
          .map((activity) => (activity.type === "reasoning_delta" ? activity.text : "")),
      ).toEqual(["I should use the tool."]);
      expect(
        activities
          .filter((activity) => activity.type === "text_delta")
          .map((activity) => (activity.type === "text_delta" ? activity.text : "")),
      ).toEqual(["Let me ", "add.", "2 + 3 ", "= 5."]);
      expect(kinds.indexOf("tool_call_started")).toBeGreaterThan(kinds.indexOf("text_delta"));
      expect(kinds.indexOf("tool_call_completed")).toBeGreaterThan(kinds.indexOf("tool_call_started"));
      const usages = activities.filter((activity) => activity.type === "usage");
      expect(usages.map((activity) => (activity.type === "usage" ? activity.cumulative.inputTokens : 0))).toEqual([120, 320]);

      // The second call replays the reasoning (with its provider metadata), the call and its result.
      const secondPrompt = model.doStreamCalls[1]?.prompt ?? [];
      const assistant = secondPrompt.find((message) => message.role === "assistant");
      expect(assistant?.content).toEqual([
        { type: "reasoning", text: "I should use the tool.", providerOptions: REASONING_METADATA },
        { type: "text", text: "Let me add." },
        {
          type: "tool-call",
          toolCallId: "call-1",
          toolName: "add",
          input: { a: 2, b: 3 },
          providerOptions: { openai: { itemId: "fc_1" } },
        },
      ]);
      const toolMessage = secondPrompt.find((message) => message.role === "tool");
      expect(toolMessage?.content).toEqual([
        { type: "tool-result", toolCallId: "call-1", toolName: "add", output: { type: "text", value: expect.stringContaining("5") } },
      ]);
      expect(model.doStreamCalls[0]?.tools?.map((tool) => tool.name)).toContain("add");
      expect(secondPrompt[0]?.role).toBe("system");
    },
  );

  it("retries a rate-limited call as the server asks, then finishes", async () => {
    let calls = 0;
    const model = new MockLanguageModelV4({
      doStream: async () => {
        calls += 1;
        if (calls === 1) {
          throw new APICallError({
            message: "Rate limit reached",
            url: "https://api.example.com",
            requestBodyValues: {},
            statusCode: 429,
            responseHeaders: { "retry-after": "0" },
          });
        }
        return { stream: convertArrayToReadableStream([...textParts("t", ["Hi."]), finishPart("stop", usageOf(5, 1))]) };
      },
    });
    const runtime = await LashRuntime.builder()
      .withPolicy({ maxContextTokens: 128_000 })
      .withProvider(createAiSdkProvider(model, { retryPolicy: { ...DEFAULT_PROVIDER_RETRY_POLICY, baseDelayMs: 0 } }))
      .build();
    const activities: TurnActivity[] = [];
    const turn = await runtime.streamTurn(textInput("Hello"), { activities: { emit: (activity) => void activities.push(activity) } });
    expect(calls).toBe(2);
    expect(turn.assistantOutput.safeText).toBe("Hi.");
    expect(activities.find((activity) => activity.type === "retry_status")).toMatchObject({ attempt: 1, maxAttempts: 4, waitSeconds: 0 });
  });

  it("ends the turn as a provider error, with the classified failure, when the call cannot succeed", async () => {
    const model = new MockLanguageModelV4({
      doStream: async () => {
        throw new APICallError({
          message: "Incorrect API key provided",
          url: "https://api.example.com",
          requestBodyValues: {},
          statusCode: 401,
          responseBody: '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}',
        });
      },
    });
    const runtime = await LashRuntime.builder().withPolicy({ maxContextTokens: 128_000 }).withProvider(createAiSdkProvider(model)).build();
    const turn = await runtime.streamTurn(textInput("Hello"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors[0]).toMatchObject({ code: "invalid_api_key" });
    expect(turn.errors[0]?.message).toContain("Incorrect API key provided");
  });

  it("ends the turn cancelled when the caller aborts mid-stream, keeping what streamed", async () => {
    const controller = new AbortController();
    const model = new MockLanguageModelV4({
      doStream: async () => ({
        // Streams one delta, then waits forever (a model that ignores its signal).
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(streamController) {
            for (const part of textParts("t", ["Partial answer"]).slice(0, 2)) streamController.enqueue(part);
          },
        }),
      }),
    });
    const runtime = await LashRuntime.builder().withPolicy({ maxContextTokens: 128_000 }).withProvider(createAiSdkProvider(model)).build();
    const turn = await runtime.streamTurn(textInput("Hello"), {
      signal: controller.signal,
      activities: {
        emit: (activity) => {
          if (activity.type === "text_delta") controller.abort();
        },
      },
    });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.rawText).toContain("Partial answer");
  });
});
