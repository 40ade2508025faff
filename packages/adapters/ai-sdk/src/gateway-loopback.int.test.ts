// End to end over real loopback HTTP: the AI SDK's own AI Gateway provider (`createGateway`, which
// ships with `ai`) talks to a wire-script server that plays the gateway's protocol (a POST to
// `/language-model`, stream parts as server-sent events), once with `ai` 7's gateway ("v4" models)
// and once with `ai` 6's ("v3"). Nothing here is mocked in-process: requests, status codes, headers
// and SSE framing all cross a socket. The failure mapping over HTTP (status codes, dropped
// connections, timeouts, aborts) is covered by provider.conformance.test.ts.
import { defineTool, LashRuntime, textInput } from "@lash/core";
import type { TurnActivity } from "@lash/protocol";
import { DEFAULT_PROVIDER_RETRY_POLICY } from "@lash/protocol";
import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { errorScript, GATEWAY_MODEL_ID, gatewayModel, streamScript } from "../test/gateway-scripts.js";
import { finishPart, type Generation, textParts, usageOf } from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

const servers: WireScriptServer[] = [];

async function serve(scripts: WireScript[]): Promise<WireScriptServer> {
  const server = await startWireScriptServer(scripts, { timeScale: 0 });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

describe.each<[Generation, string]>([
  ["v4", "AI SDK 7"],
  ["v3", "AI SDK 6"],
])('over loopback HTTP with the gateway provider of the "%s" generation (%s)', (generation) => {
  it("runs a lash turn with a tool round trip", async () => {
    const server = await serve([
      streamScript(
        "tool-call",
        [
          { type: "stream-start", warnings: [] },
          ...textParts("t1", ["Adding."]),
          { type: "tool-input-start", id: "call-1", toolName: "add" },
          { type: "tool-input-delta", id: "call-1", delta: '{"a":20,"b":22}' },
          { type: "tool-input-end", id: "call-1" },
          { type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":20,"b":22}' },
          finishPart("tool-calls", usageOf(90, 12, { cacheRead: 64 })),
        ],
        { generation },
      ),
      streamScript("answer", [...textParts("t2", ["It is ", "42."]), finishPart("stop", usageOf(130, 5, { cacheRead: 64 }))], {
        generation,
      }),
    ]);
    const model = gatewayModel(server.baseUrl, generation);
    expect(model.specificationVersion).toBe(generation);
    const provider = createAiSdkProvider(model);
    expect(provider.providerId).toBe("gateway");
    const runtime = await LashRuntime.builder().withPolicy({ maxContextTokens: 128_000 }).withProvider(provider).withTools([add]).build();
    const activities: TurnActivity[] = [];
    const turn = await runtime.streamTurn(textInput("What is 20 + 22?"), {
      activities: { emit: (activity) => void activities.push(activity) },
    });

    expect(server.mismatches).toEqual([]);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "It is 42." } });
    expect(turn.toolCalls[0]).toMatchObject({
      tool: "add",
      args: { a: 20, b: 22 },
      output: { outcome: { status: "success", payload: { sum: 42 } } },
    });
    expect(runtime.tokenLedger()).toEqual([
      {
        source: "turn",
        model: GATEWAY_MODEL_ID,
        usage: { inputTokens: 220, outputTokens: 17, cachedInputTokens: 128, reasoningTokens: 0 },
      },
    ]);
    expect(
      activities
        .filter((activity) => activity.type === "text_delta")
        .map((activity) => (activity.type === "text_delta" ? activity.text : "")),
    ).toEqual(["Adding.", "It is ", "42."]);

    // What went over the wire: the tools on the first request, the tool result on the second.
    const [first, second] = server.requests;
    expect(first?.body).toMatchObject({
      tools: expect.arrayContaining([expect.objectContaining({ type: "function", name: "add" })]),
      toolChoice: { type: "auto" },
    });
    expect(second?.body).toMatchObject({
      prompt: expect.arrayContaining([
        {
          role: "tool",
          content: [{ type: "tool-result", toolCallId: "call-1", toolName: "add", output: { type: "text", value: '{"sum":42}' } }],
        },
      ]),
    });
  });

  it("retries a 429 as the server asks, through the runtime", async () => {
    const server = await serve([
      errorScript(
        "rate-limited-briefly",
        429,
        { message: "Too many requests", type: "rate_limit_exceeded" },
        { generation, headers: { "retry-after": "0" } },
      ),
      streamScript("answer", [...textParts("t", ["Hello."]), finishPart("stop")], { generation }),
    ]);
    const runtime = await LashRuntime.builder()
      .withPolicy({ maxContextTokens: 128_000 })
      .withProvider(
        createAiSdkProvider(gatewayModel(server.baseUrl, generation), {
          retryPolicy: { ...DEFAULT_PROVIDER_RETRY_POLICY, baseDelayMs: 0 },
        }),
      )
      .build();
    const activities: TurnActivity[] = [];
    const turn = await runtime.streamTurn(textInput("Hi"), { activities: { emit: (activity) => void activities.push(activity) } });
    expect(server.mismatches).toEqual([]);
    expect(turn.assistantOutput.safeText).toBe("Hello.");
    expect(server.requests).toHaveLength(2);
    expect(activities.find((activity) => activity.type === "retry_status")).toMatchObject({
      attempt: 1,
      reason: expect.stringContaining("429"),
    });
  });
});
