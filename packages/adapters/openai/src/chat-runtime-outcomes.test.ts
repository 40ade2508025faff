import { defineTool } from "@lash/core";
import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { inlineScript, jsonTimeline, sseTimeline } from "../test/provider-harness.js";
import { activityLog, FAST_RETRIES, forecast, lastMessageText, proseOf, runtimeOver } from "../test/runtime-harness.js";
import { createOpenAIChatProvider } from "./chat-provider.js";

/*
 * Whole runtime turns over loopback HTTP through the Chat Completions adapter: how a refusal and an
 * unknown finish reason end the turn, and structured output from the request body to the parsed
 * value.
 */

let server: WireScriptServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function chatScript(name: string, timeline: WireScript["timeline"]): WireScript {
  return inlineScript({ name, provider_kind: "openai-compatible", endpoint: { method: "POST", path: "/chat/completions" }, timeline });
}

/** A streamed answer: the content in `pieces`, a finish reason, then the usage chunk. */
function streamedAnswer(name: string, pieces: readonly string[], usage = { prompt_tokens: 40, completion_tokens: 8 }): WireScript {
  return chatScript(
    name,
    sseTimeline([
      ...pieces.map((content) => ({ choices: [{ index: 0, delta: { content } }] })),
      { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      { choices: [], usage },
    ]),
  );
}

/** Serves `scripts` (one script answers every request; a list answers request n with script n) and builds a runtime over it. */
async function runtimeServing(scripts: WireScript | WireScript[], options: { stream?: boolean } = {}) {
  server = await startWireScriptServer(scripts, { timeScale: 0 });
  const provider = createOpenAIChatProvider({ baseURL: server.baseUrl, apiKey: "test-key", retryPolicy: FAST_RETRIES, ...options });
  return { runtime: await runtimeOver(provider), server };
}

const REFUSAL = "I'm sorry, I cannot assist with that.";

describe("a Chat Completions refusal ends the turn", () => {
  it("streamed: stopped provider_error, a content_filter issue quoting it, its usage counted, no retry", async () => {
    const { runtime, server } = await runtimeServing(
      chatScript(
        "refusal-stream",
        sseTimeline([
          { choices: [{ index: 0, delta: { role: "assistant", content: null, refusal: "I'm sorry, " } }] },
          { choices: [{ index: 0, delta: { refusal: "I cannot assist with that." } }] },
          { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
          { choices: [], usage: { prompt_tokens: 30, completion_tokens: 9 } },
        ]),
      ),
    );
    const { activities, sink } = activityLog();
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast, activities: sink });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({ kind: "llm_provider", code: "content_filter", message: `The model refused: ${REFUSAL}` }),
    );
    expect(result.tokenUsage).toEqual({ inputTokens: 30, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(server.requests).toHaveLength(1);
    // A refusal is not an answer: it is neither streamed as prose nor parsed as the output.
    expect(proseOf(activities)).toBe("");
    expect(result.assistantOutput.rawText).not.toContain("sorry");
    expect(result.output).toBeUndefined();
  });

  it("not streamed: the same outcome from message.refusal", async () => {
    const completion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: null, refusal: REFUSAL }, finish_reason: "stop" }],
      usage: { prompt_tokens: 31, completion_tokens: 10 },
    };
    const { runtime, server } = await runtimeServing(chatScript("refusal-whole", jsonTimeline(completion)), { stream: false });
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({ kind: "llm_provider", code: "content_filter", message: `The model refused: ${REFUSAL}` }),
    );
    expect(result.tokenUsage).toEqual({ inputTokens: 31, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(server.requests).toHaveLength(1);
    expect(result.assistantOutput.rawText).not.toContain("sorry");
  });
});

describe("a Chat Completions finish reason the adapter does not know", () => {
  it("stops the turn with a provider error naming it, without taking the partial text as the answer", async () => {
    const { runtime, server } = await runtimeServing(
      chatScript(
        "network-error",
        sseTimeline([
          { choices: [{ index: 0, delta: { content: "Half an ans" } }] },
          { choices: [{ index: 0, delta: {}, finish_reason: "network_error" }] },
          { choices: [], usage: { prompt_tokens: 12, completion_tokens: 4 } },
        ]),
      ),
    );
    const result = await runtime.runTurn("Explain");

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        kind: "llm_provider",
        code: "unknown",
        message: 'The provider ended the response with an unknown finish reason "network_error".',
      }),
    );
    expect(result.tokenUsage).toMatchObject({ inputTokens: 12, outputTokens: 4 });
    expect(server.requests).toHaveLength(1);
  });

  /** A `lookup` tool that records the words it was asked for in `log`. */
  const lookupInto = (log: string[]) =>
    defineTool({
      name: "lookup",
      description: "Look a word up.",
      inputSchema: z.object({ q: z.string() }),
      execute: ({ q }) => {
        log.push(q);
        return { meaning: "the letter after w" };
      },
    });
  const toolCallChunks = (finishReason: string) => [
    {
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }] },
        },
      ],
    },
    { choices: [{ index: 0, delta: {}, finish_reason: finishReason }] },
  ];

  async function turnWithCalls(finishReason: string) {
    const lookups: string[] = [];
    // Were the calls run, the second script would answer the follow-up call and finish the turn.
    server = await startWireScriptServer(
      [chatScript("calls", sseTimeline(toolCallChunks(finishReason))), streamedAnswer("answer", ["x is the letter after w."])],
      { timeScale: 0 },
    );
    const provider = createOpenAIChatProvider({ baseURL: server.baseUrl, apiKey: "test-key", retryPolicy: FAST_RETRIES });
    const runtime = await runtimeOver(provider, [lookupInto(lookups)]);
    return { result: await runtime.runTurn("What does x mean?"), lookups };
  }

  it("with tool calls stays unknown: the calls are not run", async () => {
    const { result, lookups } = await turnWithCalls("network_error");

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(expect.objectContaining({ code: "unknown" }));
    expect(result.toolCalls).toEqual([]);
    expect(lookups).toEqual([]);
    expect(server?.requests).toHaveLength(1);
  });

  it("stop with tool calls (Ollama's answer) still runs the calls", async () => {
    const { result, lookups } = await turnWithCalls("stop");

    expect(result.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "x is the letter after w." } });
    expect(lookups).toEqual(["x"]);
  });
});

describe("Chat Completions structured output", () => {
  it("sends response_format with the JSON Schema and gives the parsed answer", async () => {
    const { runtime, server } = await runtimeServing(streamedAnswer("valid", ['{"city":"Paris",', '"celsius":14}']));
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome.type).toBe("finished");
    expect(result.output).toEqual({ city: "Paris", celsius: 14 });
    const body = server.requests[0]?.body as { response_format?: unknown };
    expect(body.response_format).toEqual({
      type: "json_schema",
      json_schema: {
        name: "output",
        strict: false,
        schema: expect.objectContaining({
          type: "object",
          properties: { city: { type: "string" }, celsius: { type: "number" } },
          required: ["city", "celsius"],
        }),
      },
    });
  });

  it("sends an answer the schema refuses back once, then stops invalid_output", async () => {
    const { runtime, server } = await runtimeServing([
      streamedAnswer("prose", ["It will be sunny."], { prompt_tokens: 40, completion_tokens: 5 }),
      streamedAnswer("wrong-type", ['{"city":"Paris","celsius":"warm"}'], { prompt_tokens: 60, completion_tokens: 9 }),
    ]);
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
    expect(result.output).toBeUndefined();
    expect(server.mismatches).toEqual([]);
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) expect(request.body).toHaveProperty("response_format.type", "json_schema");
    expect(lastMessageText(server.requests[1]?.body)).toMatch(/"role":"user".*does not match the required output schema/);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 100, outputTokens: 14 });
  });
});
