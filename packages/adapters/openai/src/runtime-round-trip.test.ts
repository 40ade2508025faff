import { defineTool, LashRuntime, textInput } from "@lash/core";
import type { ModelProvider, TurnActivity } from "@lash/protocol";
import { startWireScriptServer } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { inlineScript, sseTimeline } from "../test/provider-harness.js";
import { createOpenAIChatProvider } from "./chat-provider.js";
import { createOpenAIResponsesProvider } from "./responses-provider.js";

const lookup = defineTool({
  name: "lookup",
  description: "Look a word up.",
  inputSchema: z.object({ q: z.string() }),
  execute: ({ q }) => ({ word: q, meaning: "the letter after w" }),
});

/** A request that does not match its script fails the turn at once instead of being retried. */
const NO_RETRIES = { enabled: false, maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitterMs: 0, retryAfterCapMs: 0 } as const;

function runtimeFor(provider: ModelProvider, model: string): Promise<LashRuntime> {
  return LashRuntime.builder()
    .withSessionId("session-1")
    .withPolicy({ model, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withTools([lookup])
    .build();
}

async function runTurn(
  runtime: LashRuntime,
  text: string,
): Promise<{ turn: Awaited<ReturnType<LashRuntime["streamTurn"]>>; activities: TurnActivity[] }> {
  const activities: TurnActivity[] = [];
  const turn = await runtime.streamTurn(textInput(text), { activities: { emit: (activity) => void activities.push(activity) } });
  return { turn, activities };
}

const chatToolCall = inlineScript({
  name: "chat-tool-call",
  provider_kind: "openai-compatible",
  endpoint: { method: "POST", path: "/v1/chat/completions" },
  request_match: { body: { model: { equals: "gpt-5.4" }, stream: { equals: true }, tool_choice: { equals: "auto" } } },
  timeline: sseTimeline([
    { choices: [{ index: 0, delta: { role: "assistant", reasoning_content: "Need a lookup." } }] },
    { choices: [{ index: 0, delta: { content: "Let me check." } }] },
    {
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q"' } }] },
        },
      ],
    },
    { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':"x"}' } }] } }] },
    { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
    {
      choices: [],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 20,
        prompt_tokens_details: { cached_tokens: 40 },
        completion_tokens_details: { reasoning_tokens: 5 },
      },
    },
  ]),
});

const chatFinalAnswer = inlineScript({
  name: "chat-final-answer",
  provider_kind: "openai-compatible",
  endpoint: { method: "POST", path: "/v1/chat/completions" },
  request_match: { body: { messages: { contains_role: "tool" } } },
  timeline: sseTimeline([
    { choices: [{ index: 0, delta: { content: "x is the letter " } }] },
    { choices: [{ index: 0, delta: { content: "after w." } }] },
    { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { choices: [], usage: { prompt_tokens: 150, completion_tokens: 10 } },
  ]),
});

describe("a full runtime turn over loopback HTTP", () => {
  it("Chat Completions: a tool round trip, the ledger and the activity stream", async () => {
    const server = await startWireScriptServer([chatToolCall, chatFinalAnswer], { timeScale: 0 });
    try {
      const provider = createOpenAIChatProvider({ baseURL: `${server.baseUrl}/v1`, apiKey: "test-key", retryPolicy: NO_RETRIES });
      const runtime = await runtimeFor(provider, "gpt-5.4");
      const { turn, activities } = await runTurn(runtime, "What does x mean?");

      expect(server.mismatches).toEqual([]);
      expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "x is the letter after w." } });
      expect(turn.assistantOutput).toMatchObject({ safeText: "x is the letter after w.", state: "usable" });
      expect(turn.toolCalls).toHaveLength(1);
      expect(turn.toolCalls[0]).toMatchObject({ callId: "call_1", tool: "lookup", args: { q: "x" } });
      expect(turn.tokenUsage).toEqual({ inputTokens: 250, outputTokens: 25, cachedInputTokens: 40, reasoningTokens: 5 });
      expect(runtime.tokenLedger()).toEqual([
        { source: "turn", model: "gpt-5.4", usage: { inputTokens: 250, outputTokens: 25, cachedInputTokens: 40, reasoningTokens: 5 } },
      ]);

      const kinds = activities.map((activity) => activity.type);
      expect(kinds).toContain("reasoning_delta");
      expect(kinds.indexOf("tool_call_started")).toBeGreaterThan(kinds.indexOf("text_delta"));
      expect(kinds.indexOf("tool_call_completed")).toBeGreaterThan(kinds.indexOf("tool_call_started"));
      const prose = activities.flatMap((activity) => (activity.type === "text_delta" ? [activity.text] : []));
      expect(prose).toEqual(["Let me check.", "x is the letter ", "after w."]);
      expect(activities.filter((activity) => activity.type === "usage")).toHaveLength(2);

      // The second request carries the assistant's tool call and the tool's result.
      const messages = (server.requests[1]!.body as { messages: Record<string, unknown>[] }).messages;
      expect(messages.map((message) => message.role)).toEqual(["system", "user", "assistant", "tool"]);
      expect(messages[2]).toEqual({
        role: "assistant",
        content: "Let me check.",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }],
      });
      expect(messages[3]).toEqual({ role: "tool", tool_call_id: "call_1", content: expect.stringContaining("the letter after w") });
    } finally {
      await server.close();
    }
  });

  it("Responses: a tool round trip that replays the encrypted reasoning item", async () => {
    const toolCall = inlineScript({
      name: "responses-tool-call",
      provider_kind: "openai",
      endpoint: { method: "POST", path: "/v1/responses" },
      request_match: {
        body: { model: { equals: "gpt-5.4" }, store: { equals: false }, "include[0]": { equals: "reasoning.encrypted_content" } },
      },
      timeline: sseTimeline([
        { type: "response.created", response: { id: "resp_1", status: "in_progress", output: [] } },
        { type: "response.output_item.added", output_index: 0, item: { type: "reasoning", id: "rs_1", summary: [] } },
        { type: "response.reasoning_summary_text.delta", output_index: 0, item_id: "rs_1", summary_index: 0, delta: "Need a lookup." },
        {
          type: "response.output_item.done",
          output_index: 0,
          item: {
            type: "reasoning",
            id: "rs_1",
            summary: [{ type: "summary_text", text: "Need a lookup." }],
            encrypted_content: "gAAAA-encrypted-1",
          },
        },
        {
          type: "response.output_item.added",
          output_index: 1,
          item: { type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: "" },
        },
        { type: "response.function_call_arguments.delta", output_index: 1, item_id: "fc_1", delta: '{"q":' },
        { type: "response.function_call_arguments.delta", output_index: 1, item_id: "fc_1", delta: '"x"}' },
        {
          type: "response.output_item.done",
          output_index: 1,
          item: { type: "function_call", id: "fc_1", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' },
        },
        {
          type: "response.completed",
          response: {
            id: "resp_1",
            status: "completed",
            output: [],
            usage: {
              input_tokens: 100,
              input_tokens_details: { cached_tokens: 60 },
              output_tokens: 30,
              output_tokens_details: { reasoning_tokens: 12 },
            },
          },
        },
      ]),
    });
    const finalAnswer = inlineScript({
      name: "responses-final-answer",
      provider_kind: "openai",
      endpoint: { method: "POST", path: "/v1/responses" },
      request_match: {
        body: {
          "input[1].type": { equals: "reasoning" },
          "input[1].id": { equals: "rs_1" },
          "input[1].encrypted_content": { equals: "gAAAA-encrypted-1" },
          "input[2].type": { equals: "function_call" },
          "input[3].type": { equals: "function_call_output" },
        },
      },
      timeline: sseTimeline([
        {
          type: "response.output_item.added",
          output_index: 0,
          item: { type: "message", id: "msg_2", role: "assistant", phase: "final_answer", content: [] },
        },
        { type: "response.output_text.delta", output_index: 0, item_id: "msg_2", delta: "x is the letter after w." },
        {
          type: "response.output_item.done",
          output_index: 0,
          item: {
            type: "message",
            id: "msg_2",
            status: "completed",
            phase: "final_answer",
            content: [{ type: "output_text", text: "x is the letter after w." }],
          },
        },
        {
          type: "response.completed",
          response: { id: "resp_2", status: "completed", output: [], usage: { input_tokens: 160, output_tokens: 9 } },
        },
      ]),
    });
    const server = await startWireScriptServer([toolCall, finalAnswer], { timeScale: 0 });
    try {
      const provider = createOpenAIResponsesProvider({ baseURL: `${server.baseUrl}/v1`, apiKey: "test-key", retryPolicy: NO_RETRIES });
      const runtime = await runtimeFor(provider, "gpt-5.4");
      const { turn, activities } = await runTurn(runtime, "What does x mean?");

      expect(server.mismatches).toEqual([]);
      expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "x is the letter after w." } });
      expect(turn.toolCalls).toHaveLength(1);
      expect(turn.toolCalls[0]).toMatchObject({ callId: "call_1", tool: "lookup", args: { q: "x" } });
      expect(runtime.tokenLedger()).toEqual([
        { source: "turn", model: "gpt-5.4", usage: { inputTokens: 260, outputTokens: 27, cachedInputTokens: 60, reasoningTokens: 12 } },
      ]);
      const reasoning = activities.flatMap((activity) => (activity.type === "reasoning_delta" ? [activity.text] : []));
      // Streamed once by the adapter, and shown once: the final response does not repeat it.
      expect(reasoning).toEqual(["Need a lookup."]);
      const prose = activities.filter((activity) => activity.type === "text_delta");
      // The message's item id correlates its deltas.
      expect(prose.map((activity) => activity.correlationId)).toEqual(["msg_2"]);

      const second = server.requests[1]?.body as { instructions?: string; input: unknown[] };
      expect(typeof second.instructions).toBe("string");
      expect(second.input.slice(1)).toEqual([
        {
          type: "reasoning",
          id: "rs_1",
          summary: [{ type: "summary_text", text: "Need a lookup." }],
          encrypted_content: "gAAAA-encrypted-1",
        },
        { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' },
        { type: "function_call_output", call_id: "call_1", output: expect.stringContaining("the letter after w") },
      ]);
    } finally {
      await server.close();
    }
  });

  it("the runtime retries a 429 that names Retry-After, then succeeds", async () => {
    const rateLimited = inlineScript({
      name: "chat-429",
      provider_kind: "openai-compatible",
      endpoint: { method: "POST", path: "/chat/completions" },
      timeline: [
        {
          at: 0,
          event: "http_error",
          status: 429,
          headers: [
            { name: "content-type", value: "application/json" },
            { name: "retry-after", value: "7" },
          ],
          body: '{"error":{"message":"Rate limit reached for requests","type":"rate_limit_error","code":"rate_limit_exceeded"}}',
        },
      ],
    });
    const answer = inlineScript({
      name: "chat-answer",
      provider_kind: "openai-compatible",
      endpoint: { method: "POST", path: "/chat/completions" },
      timeline: sseTimeline([{ choices: [{ index: 0, delta: { content: "Done." }, finish_reason: "stop" }] }]),
    });
    const server = await startWireScriptServer([rateLimited, answer], { timeScale: 0 });
    try {
      const provider = createOpenAIChatProvider({
        baseURL: server.baseUrl,
        apiKey: "test-key",
        // The server asks for 7 s; the cap keeps the test's wait at a millisecond.
        retryPolicy: { enabled: true, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitterMs: 0, retryAfterCapMs: 1 },
      });
      const { turn, activities } = await runTurn(await runtimeFor(provider, "gpt-5.4"), "Hello");

      expect(server.mismatches).toEqual([]);
      expect(server.requests).toHaveLength(2);
      expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Done." } });
      const retries = activities.filter((activity) => activity.type === "retry_status");
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ attempt: 1, maxAttempts: 3, waitSeconds: 0, reason: "HTTP 429: Rate limit reached for requests" });
    } finally {
      await server.close();
    }
  });
});
