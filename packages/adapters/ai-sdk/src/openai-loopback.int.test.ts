// The adapter over the real OpenAI provider packages of both AI SDK generations: `@ai-sdk/openai`
// 4.x (AI SDK 7, "v4" models) and 3.x (AI SDK 6, "v3" models, through the `@ai-sdk/openai-v3`
// alias), each pointed with `baseURL` at a wire-script server that plays the Chat Completions
// protocol over loopback HTTP. A real lash turn runs through `LashRuntime` with one tool: the
// request bodies, the SSE framing (UTF-8 split across reads, tool arguments in pieces) and the
// usage chunks are the provider packages' own work, not a mock's.
import { defineTool, LashRuntime, textInput } from "@lash/core";
import { DEFAULT_PROVIDER_RETRY_POLICY, ProviderCallError } from "@lash/protocol";
import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Generation, lashRequest, runStream, thrownBy } from "../test/model-fixtures.js";
import { answerReply, CHAT_MODEL_ID, cutShortReply, openaiChatModel, toolCallReply } from "../test/openai-chat-scripts.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

const servers: WireScriptServer[] = [];

async function serve(scripts: WireScript[]): Promise<WireScriptServer> {
  // Ten times faster than scripted; events scripted apart still leave at least a millisecond apart,
  // so the split UTF-8 bytes and the argument pieces reach the provider package in reads of their own.
  const server = await startWireScriptServer(scripts, { timeScale: 0.1 });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const GENERATIONS: ReadonlyArray<readonly [Generation, string]> = [
  ["v4", "AI SDK 7, @ai-sdk/openai 4.x"],
  ["v3", "AI SDK 6, @ai-sdk/openai 3.x"],
];

describe.each(GENERATIONS)('the "%s" OpenAI chat model (%s) over loopback HTTP', (generation) => {
  it("runs a lash turn with a tool round trip and records the usage", async () => {
    const lookups: Array<{ q: string }> = [];
    const lookup = defineTool({
      name: "lookup",
      description: "Look a term up.",
      inputSchema: z.object({ q: z.string() }),
      execute: (input) => {
        lookups.push(input);
        return { definition: "a coffee house" };
      },
    });
    const server = await serve([
      toolCallReply("lookup", '{"q":"café"}', { prompt: 120, cached: 64, completion: 18, reasoning: 6 }),
      answerReply("A café is a coffee house.", '{"q":"café"}', '{"definition":"a coffee house"}', {
        prompt: 160,
        cached: 64,
        completion: 9,
        reasoning: 0,
      }),
    ]);
    const model = openaiChatModel(server.baseUrl, generation);
    expect(model.specificationVersion).toBe(generation);
    const runtime = await LashRuntime.builder()
      .withPolicy({ maxContextTokens: 128_000 })
      // One attempt: a request the script does not expect fails the test at once instead of being retried.
      .withProvider(createAiSdkProvider(model, { retryPolicy: { ...DEFAULT_PROVIDER_RETRY_POLICY, maxAttempts: 1 } }))
      .withTools([lookup])
      .build();

    const prose: string[] = [];
    const turn = await runtime.streamTurn(textInput("What is a café?"), {
      activities: { emit: (activity) => void (activity.type === "text_delta" && prose.push(activity.text)) },
    });

    expect(server.mismatches).toEqual([]);
    expect(server.requests).toHaveLength(2);
    // The provider package sent the tool with its JSON Schema (after lash's built-in ones).
    expect(server.requests[0]?.body).toMatchObject({
      tools: expect.arrayContaining([
        {
          type: "function",
          function: { name: "lookup", description: "Look a term up.", parameters: expect.objectContaining({ required: ["q"] }) },
        },
      ]),
    });
    // The tool ran once, with the arguments the model streamed in pieces.
    expect(lookups).toEqual([{ q: "café" }]);
    expect(turn.toolCalls).toHaveLength(1);
    expect(turn.toolCalls[0]).toMatchObject({
      callId: "call_1",
      tool: "lookup",
      args: { q: "café" },
      output: { outcome: { status: "success", payload: { definition: "a coffee house" } } },
    });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "A café is a coffee house." } });
    expect(prose.join("")).toBe("café A café is a coffee house.");
    expect(turn.errors).toEqual([]);
    // Usage: prompt tokens include the cached ones; reasoning is counted beside the output, not in it.
    expect(runtime.tokenLedger()).toEqual([
      { source: "turn", model: CHAT_MODEL_ID, usage: { inputTokens: 280, outputTokens: 21, cachedInputTokens: 128, reasoningTokens: 6 } },
    ]);
  });
});

describe("a Chat Completions stream that ends without a finish_reason", () => {
  it('fails as a retryable, incomplete stream with a "v4" model, which reports it as interrupted', async () => {
    const server = await serve([cutShortReply("Half an ans")]);
    const error = await thrownBy(() =>
      runStream(createAiSdkProvider(openaiChatModel(server.baseUrl, "v4")), lashRequest({ model: CHAT_MODEL_ID })),
    );
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "stream", code: "stream_incomplete", retryable: true });
  });

  it('ends as unknown with a "v3" model, which reports it as an ordinary "other" finish', async () => {
    const server = await serve([cutShortReply("Half an ans")]);
    const { response } = await runStream(createAiSdkProvider(openaiChatModel(server.baseUrl, "v3")), lashRequest({ model: CHAT_MODEL_ID }));
    expect(response).toMatchObject({ fullText: "Half an ans", terminalReason: "unknown" });
  });
});
