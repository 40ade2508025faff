import { LashRuntime } from "@lash/core";
import type { TurnActivity } from "@lash/protocol";
import { startWireScriptServer, type WireScript, type WireScriptServer } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { messageEnd, messageStart, streamScript, textBlock } from "../test/anthropic-wire-streams.js";
import { createAnthropicProvider } from "./index.js";

/*
 * Whole runtime turns over loopback HTTP through the Anthropic adapter: how a refusal and an
 * unknown stop reason end the turn, and structured output from `output_config` to the parsed value.
 * The adapter always streams, so there is no whole-response variant of these turns.
 */

let server: WireScriptServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Retries on (with millisecond waits), so a single request proves the call was not retried. */
const FAST_RETRIES = { enabled: true, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitterMs: 0, retryAfterCapMs: 1 };

const forecast = z.object({ city: z.string(), celsius: z.number() });

async function runtimeServing(scripts: WireScript | WireScript[]) {
  server = await startWireScriptServer(scripts, { timeScale: 0 });
  const provider = createAnthropicProvider({ apiKey: "test-key", baseURL: server.baseUrl, retryPolicy: FAST_RETRIES });
  const runtime = await LashRuntime.builder().withSessionId("s").withModel("m").withProvider(provider).build();
  return { runtime, server };
}

/** A streamed text answer with its usage. */
function answer(name: string, pieces: readonly string[], inputTokens = 40, outputTokens = 8): WireScript {
  return streamScript(name, [
    messageStart({ input_tokens: inputTokens, output_tokens: 1 }),
    ...textBlock(0, pieces),
    ...messageEnd("end_turn", { output_tokens: outputTokens }),
  ]);
}

const REFUSAL = "I'm sorry, I cannot assist with that.";

describe("an Anthropic refusal ends the turn", () => {
  it("stopped provider_error, a content_filter issue quoting what the model said, its usage counted, no retry", async () => {
    const { runtime, server } = await runtimeServing(
      streamScript("refusal", [
        messageStart({ input_tokens: 30, output_tokens: 1 }),
        ...textBlock(0, ["I'm sorry, ", "I cannot assist with that."]),
        {
          type: "message_delta",
          delta: { stop_reason: "refusal", stop_sequence: null, stop_details: { type: "refusal", category: null, explanation: null } },
          usage: { output_tokens: 9 },
        },
        { type: "message_stop" },
      ]),
    );
    const activities: TurnActivity[] = [];
    const result = await runtime.runTurn("Weather in Paris?", {
      output: forecast,
      activities: { emit: (activity) => void activities.push(activity) },
    });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({ kind: "llm_provider", code: "content_filter", message: `The model refused: ${REFUSAL}` }),
    );
    expect(result.tokenUsage).toEqual({ inputTokens: 30, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 });
    expect(server.requests).toHaveLength(1);
    // Not taken as the structured answer (a refusal is not repaired as invalid output).
    expect(result.output).toBeUndefined();
    // Text streams as it comes: what the model said before the refusal was shown live, and stays.
    const prose = activities.flatMap((activity) => (activity.type === "text_delta" ? [activity.text] : []));
    expect(prose.join("")).toBe(REFUSAL);
  });
});

describe("an Anthropic stop_reason the adapter does not know", () => {
  it("stops the turn with a provider error naming it, without taking the partial text as the answer", async () => {
    const { runtime, server } = await runtimeServing(
      streamScript("unknown-stop", [
        messageStart({ input_tokens: 12, output_tokens: 1 }),
        ...textBlock(0, ["Half an ans"]),
        ...messageEnd("network_error", { output_tokens: 4 }),
      ]),
    );
    const result = await runtime.runTurn("Explain");

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        kind: "llm_provider",
        code: "unknown",
        message: 'The provider ended the response with an unknown stop_reason "network_error".',
      }),
    );
    expect(result.tokenUsage).toMatchObject({ inputTokens: 12, outputTokens: 4 });
    expect(server.requests).toHaveLength(1);
  });
});

describe("Anthropic structured output", () => {
  it("sends output_config.format with the JSON Schema, closed as the API requires, and gives the parsed answer", async () => {
    const { runtime, server } = await runtimeServing(answer("valid", ['{"city":"Paris",', '"celsius":14}']));
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome.type).toBe("finished");
    expect(result.output).toEqual({ city: "Paris", celsius: 14 });
    const body = server.requests[0]?.body as { output_config?: unknown };
    expect(body.output_config).toEqual({
      format: {
        type: "json_schema",
        schema: expect.objectContaining({
          type: "object",
          properties: { city: { type: "string" }, celsius: { type: "number" } },
          required: ["city", "celsius"],
          additionalProperties: false,
        }),
      },
    });
  });

  it("sends an answer the schema refuses back once, then stops invalid_output", async () => {
    const { runtime, server } = await runtimeServing([
      answer("prose", ["It will be sunny."], 40, 5),
      answer("wrong-type", ['{"city":"Paris","celsius":"warm"}'], 60, 9),
    ]);
    const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
    expect(result.output).toBeUndefined();
    expect(server.mismatches).toEqual([]);
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) expect(request.body).toHaveProperty("output_config.format.type", "json_schema");
    const second = server.requests[1]?.body as { messages?: Array<{ role: string; content: unknown }> } | undefined;
    const messages = second?.messages ?? [];
    expect(messages.at(-1)?.role).toBe("user");
    expect(JSON.stringify(messages.at(-1)?.content)).toContain("does not match the required output schema");
    expect(result.tokenUsage).toMatchObject({ inputTokens: 100, outputTokens: 14 });
  });
});
