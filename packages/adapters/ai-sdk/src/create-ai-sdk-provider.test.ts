import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { DEFAULT_PROVIDER_RETRY_POLICY, LashError, MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError } from "@lash/protocol";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { finishPart, lashRequest, runStream, streamingModel, streamingModelV3, textParts, thrownBy } from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";
import type { AiSdkLanguageModel } from "./language-model-types.js";

/** A model shaped like an AI SDK 5 (`LanguageModelV2`) model. */
function v2Model(): unknown {
  return {
    specificationVersion: "v2",
    provider: "openai.chat",
    modelId: "gpt-4o",
    supportedUrls: {},
    doGenerate: async () => ({}),
    doStream: async () => ({}),
  };
}

function configurationError(action: () => unknown): LashError {
  try {
    action();
  } catch (error) {
    expect(LashError.isInstance(error)).toBe(true);
    return error as LashError;
  }
  throw new Error("expected a configuration error");
}

/** A stream that sends `parts`, then nothing more until it is cancelled (a model that ignores its signal). */
function stalledStream(parts: readonly LanguageModelV4StreamPart[]): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream<LanguageModelV4StreamPart>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
    },
  });
}

describe("createAiSdkProvider: construction", () => {
  it("describes the wrapped model as a lash provider", () => {
    const provider = createAiSdkProvider(streamingModel([], { provider: "openai.responses", modelId: "gpt-5-mini" }));
    expect(provider.specificationVersion).toBe(MODEL_PROVIDER_SPECIFICATION_VERSION);
    expect(provider.providerId).toBe("openai.responses");
    expect(provider.defaultModel).toBe("gpt-5-mini");
    expect(provider.inputUsageExcludesCachedTokens).toBe(false);
    expect(provider.retryPolicy).toBeUndefined();
    expect(typeof provider.doStream).toBe("function");
    expect(provider.doComplete).toBeUndefined();
  });

  it("takes the provider id, the usage convention, the retry policy and the mode from the options", () => {
    const retryPolicy = { ...DEFAULT_PROVIDER_RETRY_POLICY, maxAttempts: 2 };
    const provider = createAiSdkProvider(streamingModel([]), {
      providerId: "my-llm",
      inputUsageExcludesCachedTokens: true,
      retryPolicy,
      mode: "generate",
    });
    expect(provider.providerId).toBe("my-llm");
    expect(provider.inputUsageExcludesCachedTokens).toBe(true);
    expect(provider.retryPolicy).toEqual(retryPolicy);
    expect(provider.doStream).toBeUndefined();
    expect(typeof provider.doComplete).toBe("function");
  });

  it("accepts models of both supported generations", () => {
    expect(createAiSdkProvider(streamingModel([], { modelId: "v4-model" })).defaultModel).toBe("v4-model");
    expect(createAiSdkProvider(streamingModelV3([], { modelId: "v3-model" })).defaultModel).toBe("v3-model");
  });

  it("rejects an older model, naming its version, the supported ones and what to install", () => {
    const error = configurationError(() => createAiSdkProvider(v2Model() as AiSdkLanguageModel));
    expect(error.code).toBe("unsupported_provider_version");
    expect(error.message).toContain('`openai.chat` implements specification "v2"');
    expect(error.message).toContain('supports "v3", "v4"');
    expect(error.message).toContain("Upgrade the provider package to its release for AI SDK 7 (`ai` 7.x, `@ai-sdk/provider` 4.x)");
    expect(error.message).toContain("or for AI SDK 6 (`ai` 6.x, `@ai-sdk/provider` 3.x)");
  });

  it("rejects a newer model, pointing at a newer adapter release", () => {
    const future = configurationError(() =>
      createAiSdkProvider({ ...(v2Model() as object), specificationVersion: "v5" } as unknown as AiSdkLanguageModel),
    );
    expect(future.code).toBe("unsupported_provider_version");
    expect(future.message).toContain('implements specification "v5"');
    expect(future.message).toContain('Upgrade @lash/adapter-ai-sdk to a release that supports "v5"');
    const odd = configurationError(() =>
      createAiSdkProvider({ ...(v2Model() as object), specificationVersion: "experimental" } as unknown as AiSdkLanguageModel),
    );
    expect(odd.code).toBe("unsupported_provider_version");
  });

  const noop = (): void => {};
  it.each<[string, unknown, RegExp]>([
    ["a model id string", "openai/gpt-4o", /pass the provider's model instead/],
    ["null", null, /got null/],
    ["a provider function", noop, /call it with a model id/],
    ["an object without a specification version", { doStream: noop }, /not an AI SDK LanguageModel/],
    ["a v3 object without doStream", { specificationVersion: "v3", provider: "p", modelId: "m", doGenerate: noop }, /no doStream method/],
    [
      "a v3 object without a model id",
      { specificationVersion: "v3", provider: "p", modelId: "", doGenerate: noop, doStream: noop },
      /modelId must be a non-empty string/,
    ],
    [
      "a v4 object without doGenerate",
      { specificationVersion: "v4", provider: "p", modelId: "m", doStream: noop },
      /no doGenerate method, which specification "v4" requires/,
    ],
  ])("rejects %s as invalid configuration", (_name, value, message) => {
    const error = configurationError(() => createAiSdkProvider(value as AiSdkLanguageModel));
    expect(error.code).toBe("invalid_configuration");
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ mode: "batch" }, /mode must be "stream" or "generate"/],
    [{ providerId: " " }, /providerId must be a non-empty string/],
    [{ maxOutputTokens: 0 }, /maxOutputTokens must be a positive integer/],
    [{ timeouts: { chunkTimeoutMs: -1 } }, /chunkTimeoutMs/],
    [{ languageModelFor: "gpt-4o" }, /languageModelFor must be a function/],
  ])("rejects invalid options %j", (options, message) => {
    const error = configurationError(() => createAiSdkProvider(streamingModel([]), options as never));
    expect(error.code).toBe("invalid_configuration");
    expect(error.message).toMatch(message);
  });
});

describe("createAiSdkProvider: model selection", () => {
  it("uses the wrapped model for its own id and for a request without one", async () => {
    const model = streamingModel([[finishPart()], [finishPart()]]);
    const provider = createAiSdkProvider(model);
    await runStream(provider, lashRequest({ model: "mock-model-id" }));
    await runStream(provider, lashRequest({ model: "" }));
    expect(model.doStreamCalls).toHaveLength(2);
  });

  it("fails a request for another model as unsupported, instead of answering with the wrong model", async () => {
    const error = await thrownBy(() => runStream(createAiSdkProvider(streamingModel([])), lashRequest({ model: "gpt-4o" })));
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "unsupported", code: "model_mismatch", retryable: false });
    expect((error as ProviderCallError).message).toContain("languageModelFor");
  });

  it("asks languageModelFor for other models, once per model id, and checks what it returns", async () => {
    // The wrapped model is a "v4" one; the other one is of the older generation.
    const other = streamingModelV3([[finishPart()], [finishPart()]], { modelId: "other" });
    const languageModelFor = vi.fn((modelId: string) => (modelId === "other" ? other : (v2Model() as AiSdkLanguageModel)));
    const provider = createAiSdkProvider(streamingModel([]), { languageModelFor });
    await runStream(provider, lashRequest({ model: "other" }));
    await runStream(provider, lashRequest({ model: "other" }));
    expect(other.doStreamCalls).toHaveLength(2);
    expect(languageModelFor).toHaveBeenCalledTimes(1);
    const error = await thrownBy(() => runStream(provider, lashRequest({ model: "legacy" })));
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "unsupported", code: "unsupported_model", retryable: false });
    expect((error as ProviderCallError).message).toContain('specification "v2"');
  });

  it("reports a languageModelFor that throws as unsupported", async () => {
    const provider = createAiSdkProvider(streamingModel([]), {
      languageModelFor: (modelId) => {
        throw new Error(`no such model: ${modelId}`);
      },
    });
    const error = await thrownBy(() => runStream(provider, lashRequest({ model: "missing" })));
    expect((error as ProviderCallError).failure).toMatchObject({
      kind: "unsupported",
      code: "unsupported_model",
      message: "no such model: missing",
    });
  });
});

describe("createAiSdkProvider: abort and timeouts", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("surfaces the caller's abort as the abort, even from a model that ignores its signal", async () => {
    const model = new MockLanguageModelV4({ doStream: async () => ({ stream: stalledStream(textParts("t", ["Hel"]).slice(0, 2)) }) });
    const controller = new AbortController();
    const reason = new Error("the user pressed stop");
    const events: unknown[] = [];
    const thrown = await thrownBy(async () => {
      for await (const part of createAiSdkProvider(model).doStream?.(lashRequest(), { signal: controller.signal }) ?? []) {
        events.push(part);
        controller.abort(reason);
      }
    });
    expect(events).toEqual([{ type: "delta", text: "Hel" }]);
    expect(thrown).toBe(reason);
  });

  it("hands the signal to the model, and rethrows the abort the model raises", async () => {
    const model = new MockLanguageModelV4({
      doStream: ({ abortSignal }) =>
        new Promise((_resolve, reject) => {
          abortSignal?.addEventListener("abort", () => reject(new DOMException("This operation was aborted", "AbortError")), {
            once: true,
          });
        }),
    });
    const controller = new AbortController();
    const pending = runStream(createAiSdkProvider(model), lashRequest(), controller.signal);
    controller.abort();
    const thrown = await thrownBy(() => pending);
    expect(ProviderCallError.isInstance(thrown)).toBe(false);
    expect((thrown as Error).name).toBe("AbortError");
  });

  it("does not call the model when the signal already aborted", async () => {
    const model = streamingModel([[finishPart()]]);
    const controller = new AbortController();
    const reason = new Error("cancelled before the call");
    controller.abort(reason);
    expect(await thrownBy(() => runStream(createAiSdkProvider(model), lashRequest(), controller.signal))).toBe(reason);
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it("fails as a retryable timeout when the stream stalls longer than chunkTimeoutMs", async () => {
    vi.useFakeTimers();
    const model = new MockLanguageModelV4({ doStream: async () => ({ stream: stalledStream(textParts("t", ["Hel"]).slice(0, 2)) }) });
    const provider = createAiSdkProvider(model, { timeouts: { chunkTimeoutMs: 1_000 } });
    const pending = thrownBy(() => runStream(provider, lashRequest()));
    await vi.advanceTimersByTimeAsync(1_000);
    const thrown = await pending;
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "timeout", code: "timeout", retryable: true });
    expect((thrown as ProviderCallError).message).toContain("chunkTimeoutMs");
  });

  it("fails as a retryable timeout when the response does not start within requestTimeoutMs", async () => {
    vi.useFakeTimers();
    const model = new MockLanguageModelV4({ doStream: () => new Promise(() => {}) });
    const provider = createAiSdkProvider(model, { timeouts: { requestTimeoutMs: 5_000 } });
    const pending = thrownBy(() => runStream(provider, lashRequest()));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(((await pending) as ProviderCallError).failure).toMatchObject({ kind: "timeout", retryable: true });
    expect(model.doStreamCalls[0]?.abortSignal?.aborted).toBe(true);
  });

  it("bounds a whole generate call by requestTimeoutMs", async () => {
    vi.useFakeTimers();
    const model = new MockLanguageModelV4({ doGenerate: () => new Promise(() => {}) });
    const provider = createAiSdkProvider(model, { mode: "generate", timeouts: { requestTimeoutMs: 2_000 } });
    const pending = thrownBy(async () => provider.doComplete?.(lashRequest(), { signal: new AbortController().signal, emit: () => {} }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(((await pending) as ProviderCallError).failure).toMatchObject({ kind: "timeout", retryable: true });
  });

  it("releases the model's stream when the consumer stops early", async () => {
    let cancelled = false;
    const parts = [...textParts("t", ["a", "b"]), finishPart()];
    const model = new MockLanguageModelV4({
      doStream: async () => ({
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          pull(controller) {
            const part = parts.shift();
            if (part !== undefined) controller.enqueue(part);
          },
          cancel() {
            cancelled = true;
          },
        }),
      }),
    });
    for await (const part of createAiSdkProvider(model).doStream?.(lashRequest(), { signal: new AbortController().signal }) ?? []) {
      if (part.type === "delta") break;
    }
    expect(cancelled).toBe(true);
  });

  it("disables a timeout with null", async () => {
    const model = new MockLanguageModelV4({ doStream: async () => ({ stream: convertArrayToReadableStream([finishPart()]) }) });
    const { response } = await runStream(
      createAiSdkProvider(model, { timeouts: { requestTimeoutMs: null, chunkTimeoutMs: null } }),
      lashRequest(),
    );
    expect(response.terminalReason).toBe("stop");
  });
});
