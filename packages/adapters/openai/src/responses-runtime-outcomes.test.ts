import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { inlineScript, jsonTimeline, sseTimeline } from "../test/provider-harness.js";
import { activityLog, FAST_RETRIES, forecast, lastMessageText, proseOf, runtimeOver } from "../test/runtime-harness.js";
import { createOpenAIResponsesProvider } from "./responses-provider.js";

/*
 * Whole runtime turns over loopback HTTP through the Responses adapter: how a refusal and an
 * incomplete response with a reason the adapter does not know end the turn, and structured output
 * from `text.format` to the parsed value.
 */

let server: WireScriptServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function responsesScript(name: string, timeline: WireScript["timeline"]): WireScript {
  return inlineScript({ name, provider_kind: "openai", endpoint: { method: "POST", path: "/responses" }, timeline });
}

/** A streamed message answer: `pieces` as text deltas of one message item, then `response.completed` with the usage. */
function streamedAnswer(name: string, pieces: readonly string[], usage = { input_tokens: 40, output_tokens: 8 }): WireScript {
  const text = pieces.join("");
  return responsesScript(
    name,
    sseTimeline([
      { type: "response.output_item.added", output_index: 0, item: { type: "message", id: "msg_1", role: "assistant", content: [] } },
      ...pieces.map((delta) => ({ type: "response.output_text.delta", output_index: 0, item_id: "msg_1", delta })),
      {
        type: "response.output_item.done",
        output_index: 0,
        item: { type: "message", id: "msg_1", status: "completed", role: "assistant", content: [{ type: "output_text", text }] },
      },
      { type: "response.completed", response: { id: "resp_1", status: "completed", output: [], usage } },
    ]),
  );
}

async function runtimeServing(scripts: WireScript | WireScript[], options: { stream?: boolean } = {}) {
  server = await startWireScriptServer(scripts, { timeScale: 0 });
  const provider = createOpenAIResponsesProvider({ baseURL: server.baseUrl, apiKey: "test-key", retryPolicy: FAST_RETRIES, ...options });
  return { runtime: await runtimeOver(provider), server };
}

const REFUSAL = "I'm sorry, I cannot assist with that.";
const refusalMessage = {
  type: "message",
  id: "msg_1",
  status: "completed",
  role: "assistant",
  content: [{ type: "refusal", refusal: REFUSAL }],
};

describe("a Responses refusal ends the turn", () => {
  it("streamed: stopped provider_error, a content_filter issue quoting it, its usage counted, no retry", async () => {
    const { runtime, server } = await runtimeServing(
      responsesScript(
        "refusal-stream",
        sseTimeline([
          { type: "response.created", response: { id: "resp_1", status: "in_progress", output: [] } },
          { type: "response.output_item.added", output_index: 0, item: { type: "message", id: "msg_1", role: "assistant", content: [] } },
          {
            type: "response.content_part.added",
            output_index: 0,
            item_id: "msg_1",
            content_index: 0,
            part: { type: "refusal", refusal: "" },
          },
          { type: "response.refusal.delta", output_index: 0, item_id: "msg_1", content_index: 0, delta: "I'm sorry, " },
          { type: "response.refusal.delta", output_index: 0, item_id: "msg_1", content_index: 0, delta: "I cannot assist with that." },
          { type: "response.refusal.done", output_index: 0, item_id: "msg_1", content_index: 0, refusal: REFUSAL },
          { type: "response.output_item.done", output_index: 0, item: refusalMessage },
          {
            type: "response.completed",
            response: { id: "resp_1", status: "completed", output: [refusalMessage], usage: { input_tokens: 30, output_tokens: 9 } },
          },
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
    expect(proseOf(activities)).toBe("");
    expect(result.assistantOutput.rawText).not.toContain("sorry");
    expect(result.output).toBeUndefined();
  });

  it("not streamed: the same outcome from a refusal content part", async () => {
    const body = {
      id: "resp_1",
      object: "response",
      status: "completed",
      output: [refusalMessage],
      usage: { input_tokens: 31, output_tokens: 10 },
    };
    const { runtime, server } = await runtimeServing(responsesScript("refusal-whole", jsonTimeline(body)), { stream: false });
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

describe("a Responses response that ends for a reason the adapter does not know", () => {
  it("stops the turn with a provider error naming it, without taking the partial text as the answer", async () => {
    const { runtime, server } = await runtimeServing(
      responsesScript(
        "incomplete-unknown",
        sseTimeline([
          { type: "response.output_item.added", output_index: 0, item: { type: "message", id: "msg_1", role: "assistant", content: [] } },
          { type: "response.output_text.delta", output_index: 0, item_id: "msg_1", delta: "Half an ans" },
          {
            type: "response.incomplete",
            response: {
              id: "resp_1",
              status: "incomplete",
              incomplete_details: { reason: "network_error" },
              output: [],
              usage: { input_tokens: 12, output_tokens: 4 },
            },
          },
        ]),
      ),
    );
    const result = await runtime.runTurn("Explain");

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        kind: "llm_provider",
        code: "unknown",
        message: 'The response is incomplete, for an unknown reason "network_error".',
      }),
    );
    expect(result.tokenUsage).toMatchObject({ inputTokens: 12, outputTokens: 4 });
    expect(server.requests).toHaveLength(1);
  });
});

describe("Responses structured output", () => {
  it("sends text.format with the JSON Schema and gives the parsed answer", async () => {
    const { runtime, server } = await runtimeServing(streamedAnswer("valid", ['{"city":"Paris",', '"celsius":14}']));
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome.type).toBe("finished");
    expect(result.output).toEqual({ city: "Paris", celsius: 14 });
    const body = server.requests[0]?.body as { text?: unknown };
    expect(body.text).toEqual({
      format: {
        type: "json_schema",
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
      streamedAnswer("prose", ["It will be sunny."], { input_tokens: 40, output_tokens: 5 }),
      streamedAnswer("wrong-type", ['{"city":"Paris","celsius":"warm"}'], { input_tokens: 60, output_tokens: 9 }),
    ]);
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
    expect(result.output).toBeUndefined();
    expect(server.mismatches).toEqual([]);
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) expect(request.body).toHaveProperty("text.format.type", "json_schema");
    expect(lastMessageText(server.requests[1]?.body)).toMatch(/"role":"user".*does not match the required output schema/);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 100, outputTokens: 14 });
  });
});
