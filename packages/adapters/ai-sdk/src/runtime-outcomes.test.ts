// Whole lash turns through the adapter over mock AI SDK models of both generations, streamed and
// generated: how a content-filter stop and an unknown finish reason end the turn, and structured
// output from `responseFormat` to the parsed value. Only the model is a mock.
import { LashRuntime } from "@lash/core";
import type { ProviderRetryPolicy } from "@lash/protocol";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { MockLanguageModelV3 } from "ai-v6/test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type FinishPart, type Generation, textParts, type Usage, usageOf } from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

/** Retries on (with no waits), so a single call proves the call was not retried. */
const FAST_RETRIES: ProviderRetryPolicy = { enabled: true, maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, jitterMs: 0, retryAfterCapMs: 0 };

const forecast = z.object({ city: z.string(), celsius: z.number() });

type Mode = "stream" | "generate";

/** What the model answers one call with. */
interface Reply {
  readonly text: string;
  readonly finishReason: FinishPart["finishReason"];
  readonly usage: Usage;
}

/**
 * A mock model of `generation` that answers its n-th call with `replies[n]`, through `doStream`
 * or `doGenerate` as `mode` says; the model id is `m`, the runtime's model.
 */
function modelAnswering(generation: Generation, mode: Mode, replies: readonly Reply[]) {
  let index = 0;
  const next = (): Reply => {
    const reply = replies[index];
    index += 1;
    if (reply === undefined) throw new Error(`unexpected model call #${index}`);
    return reply;
  };
  const stream = async () => {
    const reply = next();
    const finish: FinishPart = { type: "finish", finishReason: reply.finishReason, usage: reply.usage };
    return { stream: convertArrayToReadableStream([...textParts("t", [reply.text]), finish]) };
  };
  const generate = async () => {
    const reply = next();
    return { content: [{ type: "text" as const, text: reply.text }], finishReason: reply.finishReason, usage: reply.usage, warnings: [] };
  };
  const settings = { provider: "mock-provider", modelId: "m" };
  return generation === "v4"
    ? new MockLanguageModelV4({ ...settings, ...(mode === "stream" ? { doStream: stream } : { doGenerate: generate }) })
    : new MockLanguageModelV3({ ...settings, ...(mode === "stream" ? { doStream: stream } : { doGenerate: generate }) });
}

function callsOf(model: MockLanguageModelV4 | MockLanguageModelV3, mode: Mode) {
  return mode === "stream" ? model.doStreamCalls : model.doGenerateCalls;
}

function runtimeOver(model: MockLanguageModelV4 | MockLanguageModelV3, mode: Mode) {
  const provider = createAiSdkProvider(model, { mode, retryPolicy: FAST_RETRIES });
  return LashRuntime.builder().withSessionId("s").withModel("m").withProvider(provider).build();
}

const REFUSAL = "I'm sorry, I cannot assist with that.";
const CASES: ReadonlyArray<readonly [Generation, Mode]> = [
  ["v4", "stream"],
  ["v4", "generate"],
  ["v3", "stream"],
  ["v3", "generate"],
];

describe("a content-filter stop ends the turn", () => {
  it.each(CASES)(
    "%s model, %s: stopped provider_error, a content_filter issue quoting the text, usage counted, no retry",
    async (generation, mode) => {
      const model = modelAnswering(generation, mode, [
        { text: REFUSAL, finishReason: { unified: "content-filter", raw: "refusal" }, usage: usageOf(30, 9) },
      ]);
      const runtime = await runtimeOver(model, mode);
      const result = await runtime.runTurn("Weather in Paris?", { output: forecast });

      expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
      expect(result.errors).toContainEqual(
        expect.objectContaining({
          kind: "llm_provider",
          code: "content_filter",
          message: `The provider's content filter stopped the model (provider reason: refusal): ${REFUSAL}`,
        }),
      );
      expect(result.tokenUsage).toEqual({ inputTokens: 30, outputTokens: 9, cachedInputTokens: 0, reasoningTokens: 0 });
      expect(callsOf(model, mode)).toHaveLength(1);
      expect(result.output).toBeUndefined();
    },
  );
});

describe("a finish reason the adapter does not know", () => {
  it.each(CASES)("%s model, %s: stopped provider_error naming it; the partial text is not the answer", async (generation, mode) => {
    const model = modelAnswering(generation, mode, [
      { text: "Half an ans", finishReason: { unified: "other", raw: "network_error" }, usage: usageOf(12, 4) },
    ]);
    const result = await (await runtimeOver(model, mode)).runTurn("Explain");

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        kind: "llm_provider",
        code: "unknown",
        message: 'The provider ended the response with an unknown finish reason "network_error".',
      }),
    );
    expect(result.tokenUsage).toMatchObject({ inputTokens: 12, outputTokens: 4 });
    expect(callsOf(model, mode)).toHaveLength(1);
  });
});

describe("structured output", () => {
  const stop = { unified: "stop", raw: "stop" } as const;

  it.each(CASES)("%s model, %s: sends responseFormat with the JSON Schema and gives the parsed answer", async (generation, mode) => {
    const model = modelAnswering(generation, mode, [{ text: '{"city":"Paris","celsius":14}', finishReason: stop, usage: usageOf(40, 8) }]);
    const result = await (await runtimeOver(model, mode)).runTurn("Weather in Paris?", { output: forecast });

    expect(result.outcome.type).toBe("finished");
    expect(result.output).toEqual({ city: "Paris", celsius: 14 });
    expect(callsOf(model, mode)[0]?.responseFormat).toEqual({
      type: "json",
      name: "output",
      schema: expect.objectContaining({
        type: "object",
        properties: { city: { type: "string" }, celsius: { type: "number" } },
        required: ["city", "celsius"],
      }),
    });
  });

  it.each(["v4", "v3"] as const)(
    "%s model: sends an answer the schema refuses back once, then stops invalid_output",
    async (generation) => {
      const model = modelAnswering(generation, "stream", [
        { text: "It will be sunny.", finishReason: stop, usage: usageOf(40, 5) },
        { text: '{"city":"Paris","celsius":"warm"}', finishReason: stop, usage: usageOf(60, 9) },
      ]);
      const result = await (await runtimeOver(model, "stream")).runTurn("Weather in Paris?", { output: forecast });

      expect(result.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
      expect(result.output).toBeUndefined();
      expect(model.doStreamCalls).toHaveLength(2);
      for (const call of model.doStreamCalls) expect(call.responseFormat).toMatchObject({ type: "json", name: "output" });
      const repair = model.doStreamCalls[1]?.prompt.at(-1);
      expect(repair?.role).toBe("user");
      expect(JSON.stringify(repair?.content)).toContain("does not match the required output schema");
      expect(result.tokenUsage).toMatchObject({ inputTokens: 100, outputTokens: 14 });
    },
  );
});
