// What a model (or a provider) can send that must not hurt the session: JSON nested thousands of
// levels deep, impossible token counts, endless or enormous answers.
import type { LlmRequest, LlmResponse, LlmStreamEvent, LlmStreamPart, ModelProvider } from "@lash/protocol";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL } from "../../test/fixtures.js";
import { createRuntimeCoreConfig, InMemorySessionDatabase, LashRuntime, MAX_MODEL_JSON_DEPTH, RuntimeEnvironment } from "../index.js";

const usage = (input: number, output: number) => ({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, reasoningTokens: 0 });

/** `{"value":[[[...]]]}` nested `depth` levels deep (the outer object included). */
function deeplyNested(depth: number): string {
  return `{"value":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
}

/** The deepest nesting of arrays and objects in a value, walked without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === undefined) break;
    if (typeof next.value !== "object" || next.value === null) continue;
    const depth = next.depth + 1;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(next.value)) pending.push({ value: child, depth });
  }
  return deepest;
}

function providerFrom(handlers: {
  complete?: (request: LlmRequest) => LlmResponse;
  stream?: (request: LlmRequest, signal: AbortSignal) => AsyncIterable<LlmStreamPart>;
}): ModelProvider & { calls: number; streamClosed: boolean } {
  const provider = {
    specificationVersion: "lash.provider.v1" as const,
    providerId: "hostile",
    defaultModel: MODEL,
    calls: 0,
    streamClosed: false,
    ...(handlers.complete
      ? {
          doComplete: async (request: LlmRequest): Promise<LlmResponse> => {
            provider.calls += 1;
            return handlers.complete?.(request) as LlmResponse;
          },
        }
      : {}),
    ...(handlers.stream
      ? {
          doStream: (request: LlmRequest, options: { signal: AbortSignal }): AsyncIterable<LlmStreamPart> => {
            provider.calls += 1;
            return handlers.stream?.(request, options.signal) as AsyncIterable<LlmStreamPart>;
          },
        }
      : {}),
  };
  return provider;
}

describe("model-written JSON nested too deep", () => {
  it("tool arguments nested 1,500 levels deep are refused with an error the model sees; the session stays loadable", async () => {
    const provider = new ScriptedProvider(
      [
        {
          response: {
            fullText: "",
            parts: [{ type: "tool_call", callId: "deep-1", toolName: "echo_tool", inputJson: deeplyNested(1_500) }],
            usage: usage(10, 5),
            terminalReason: "tool_use",
          },
        },
        textStep("I will keep it flat."),
      ],
      { defaultModel: MODEL },
    );
    const database = new InMemorySessionDatabase();
    const environment = RuntimeEnvironment.builder().withProvider(provider).withSessionStoreFactory(database).build();
    const runtime = await LashRuntime.builder()
      .withEnvironment(environment)
      .withTools([echoTool])
      .withStore(database.openSession("deep"))
      .build();

    const turn = await runtime.runTurn("Nest it");

    expect(turn.outcome.type).toBe("finished");
    const call = turn.toolCalls[0];
    expect(call?.output.outcome.status).toBe("failure");
    expect(JSON.stringify(call?.output.outcome)).toContain(`nests deeper than ${MAX_MODEL_JSON_DEPTH} levels`);
    // The model saw the refusal as the tool's result.
    const seen = JSON.stringify(provider.requests[1]?.messages.at(-1));
    expect(seen).toContain(`nests deeper than ${MAX_MODEL_JSON_DEPTH} levels`);
    // Nothing deeply nested reached the graph: the call's arguments are kept as their raw text.
    expect(depthOf(runtime.exportState())).toBeLessThan(MAX_MODEL_JSON_DEPTH);
    const reloaded = await LashRuntime.builder().withEnvironment(environment).withStore(database.openSession("deep")).build();
    expect(reloaded.activeMessages().at(-1)?.role).toBe("assistant");
  });

  it("a structured answer nested too deep is sent back for repair, then stops invalid_output", async () => {
    const { z } = await import("zod");
    const provider = new ScriptedProvider([textStep(deeplyNested(1_000)), textStep(deeplyNested(1_000))], { defaultModel: MODEL });
    const runtime = await LashRuntime.builder().withProvider(provider).build();

    const turn = await runtime.runTurn("Answer", { output: z.object({ value: z.unknown() }) });

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
    expect(JSON.stringify(turn.errors)).toContain(`nests deeper than ${MAX_MODEL_JSON_DEPTH} levels`);
    expect(turn.output).toBeUndefined();
  });
});

describe("impossible token counts", () => {
  it("a negative count is a typed provider error; the answer is kept and nothing negative is counted or stored", async () => {
    const provider = providerFrom({
      complete: () => ({
        fullText: "Here is the answer.",
        parts: [{ type: "text", text: "Here is the answer." }],
        usage: usage(-500, 7),
        terminalReason: "stop",
      }),
    });
    const database = new InMemorySessionDatabase();
    const runtime = await LashRuntime.builder().withProvider(provider).withStore(database.openSession("negative")).build();

    const turn = await runtime.runTurn("Count");

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors).toEqual([expect.objectContaining({ kind: "llm_provider", code: "invalid_usage" })]);
    expect(turn.errors[0]?.message).toContain("usage.inputTokens = -500");
    expect(turn.assistantOutput.safeText).toBe("Here is the answer.");
    expect(provider.calls).toBe(1);
    const stored = await database.openSession("negative").loadSession({ type: "full_graph" });
    for (const entry of stored?.tokenLedger ?? []) for (const count of Object.values(entry.usage)) expect(count).toBeGreaterThanOrEqual(0);
    expect(runtime.activeMessages().map((message) => message.role)).toEqual(["user", "assistant"]);
  });

  it("a streamed count past 2^53 is refused the same way", async () => {
    const provider = providerFrom({
      stream: async function* (): AsyncGenerator<LlmStreamPart> {
        yield { type: "delta", text: "Streamed answer." };
        yield { type: "usage", usage: { ...usage(0, 3), inputTokens: 2 ** 53 + 2 } };
        yield {
          type: "response",
          response: {
            fullText: "Streamed answer.",
            parts: [{ type: "text", text: "Streamed answer." }],
            usage: usage(0, 0),
            terminalReason: "stop",
          },
        };
      },
    });
    const runtime = await LashRuntime.builder().withProvider(provider).build();

    const turn = await runtime.runTurn("Count");

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors[0]).toMatchObject({ kind: "llm_provider", code: "invalid_usage" });
    expect(turn.assistantOutput.safeText).toBe("Streamed answer.");
    expect(turn.tokenUsage.inputTokens).toBe(0);
  });
});

describe("the per-call output cap", () => {
  const CAP = 200_000;

  it("an endless stream is ended at the cap: stopped incomplete, with what arrived up to the cap", async () => {
    const piece = "x".repeat(16_384);
    const provider = providerFrom({
      stream: async function* (_request, signal) {
        try {
          // Endless unless the runtime ends the call.
          for (let sent = 0; !signal.aborted && sent < 10_000; sent += 1) {
            yield { type: "delta", text: piece } satisfies LlmStreamEvent;
          }
        } finally {
          provider.streamClosed = true;
        }
      },
    });
    const runtime = await LashRuntime.builder()
      .withProvider(provider)
      .withRuntimeCoreConfig(createRuntimeCoreConfig({ maxOutputCharacters: CAP }))
      .build();

    const turn = await runtime.runTurn("Talk forever");

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "incomplete" } });
    expect(turn.errors[0]).toMatchObject({ kind: "llm_provider", code: "output_limit" });
    expect(turn.assistantOutput.rawText).toHaveLength(CAP);
    expect(provider.streamClosed).toBe(true);
    expect(provider.calls).toBe(1);
  });

  it("an enormous answer that did not stream is cut to the cap the same way", async () => {
    const text = "y".repeat(CAP * 3);
    const provider = providerFrom({
      complete: () => ({ fullText: text, parts: [{ type: "text", text }], usage: usage(5, 9), terminalReason: "stop" }),
    });
    const runtime = await LashRuntime.builder()
      .withProvider(provider)
      .withRuntimeCoreConfig(createRuntimeCoreConfig({ maxOutputCharacters: CAP }))
      .build();

    const turn = await runtime.runTurn("Say a lot");

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "incomplete" } });
    expect(turn.assistantOutput.rawText).toHaveLength(CAP);
    expect(turn.tokenUsage.outputTokens).toBe(9);
  });

  it("a cap that is not a positive integer is a configuration error", () => {
    expect(() => createRuntimeCoreConfig({ maxOutputCharacters: 0 })).toThrow(/maxOutputCharacters must be a positive integer/);
  });
});
