import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { APICallError, InvalidPromptError, LoadAPIKeyError, UnsupportedFunctionalityError } from "@ai-sdk/provider";
import * as providerV3 from "@ai-sdk/provider-v3";
import { ProviderCallError } from "@lash/protocol";
import { MockLanguageModelV4 } from "ai/test";
import { MockLanguageModelV3 } from "ai-v6/test";
import { describe, expect, it } from "vitest";
import { type Generation, lashRequest, runStream, textParts, thrownBy } from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

function apiCallError(
  statusCode: number | undefined,
  fields: { body?: string; headers?: Record<string, string>; message?: string; isRetryable?: boolean; cause?: unknown } = {},
): APICallError {
  return new APICallError({
    message: fields.message ?? `request failed with ${statusCode ?? "no status"}`,
    url: "https://api.example.com/v1/chat/completions",
    requestBodyValues: { model: "m" },
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(fields.headers === undefined ? {} : { responseHeaders: fields.headers }),
    ...(fields.body === undefined ? {} : { responseBody: fields.body }),
    ...(fields.isRetryable === undefined ? {} : { isRetryable: fields.isRetryable }),
    ...(fields.cause === undefined ? {} : { cause: fields.cause }),
  });
}

/** The classified failure of a stream call whose model (of `generation`, "v4" unless named) throws `error` from `doStream`. */
async function streamFailure(error: unknown, generation: Generation = "v4") {
  const doStream = async (): Promise<never> => {
    throw error;
  };
  const model = generation === "v4" ? new MockLanguageModelV4({ doStream }) : new MockLanguageModelV3({ doStream });
  const thrown = await thrownBy(() => runStream(createAiSdkProvider(model), lashRequest()));
  expect(ProviderCallError.isInstance(thrown)).toBe(true);
  expect((thrown as ProviderCallError).cause).toBe(error);
  return (thrown as ProviderCallError).failure;
}

describe("model errors → ProviderCallError", () => {
  it("maps a 429 with Retry-After to a retryable HTTP failure with the delay", async () => {
    const failure = await streamFailure(
      apiCallError(429, {
        message: "Rate limit reached for requests",
        headers: { "retry-after": "7", "x-request-id": "req-1", authorization: "Bearer secret" },
        body: JSON.stringify({ error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } }),
      }),
    );
    expect(failure).toMatchObject({
      kind: "http",
      status: 429,
      retryable: true,
      retryAfterMs: 7_000,
      code: "rate_limit_exceeded",
      message: "HTTP 429: Rate limit reached for requests",
      terminalReason: "provider_error",
    });
    expect(failure.headers).toEqual({ "retry-after": "7", "x-request-id": "req-1" });
    expect(failure.raw).toContain("rate_limit_exceeded");
  });

  it("prefers retry-after-ms", async () => {
    const failure = await streamFailure(apiCallError(429, { headers: { "retry-after-ms": "1500", "retry-after": "2" } }));
    expect(failure.retryAfterMs).toBe(1_500);
  });

  it("maps a 401 to a non-retryable auth failure", async () => {
    const failure = await streamFailure(
      apiCallError(401, {
        message: "Incorrect API key provided",
        body: '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}',
      }),
    );
    expect(failure).toMatchObject({ kind: "auth", status: 401, retryable: false, code: "invalid_api_key" });
  });

  it("maps a 400 context overflow to a non-retryable validation failure ending as context_overflow", async () => {
    const failure = await streamFailure(
      apiCallError(400, {
        message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        body: JSON.stringify({
          error: {
            message: "This model's maximum context length is 128000 tokens.",
            type: "invalid_request_error",
            code: "context_length_exceeded",
          },
        }),
      }),
    );
    expect(failure).toMatchObject({
      kind: "validation",
      status: 400,
      retryable: false,
      terminalReason: "context_overflow",
      code: "context_length_exceeded",
    });
  });

  it("retries a 5xx", async () => {
    const failure = await streamFailure(apiCallError(503, { body: "upstream unavailable" }));
    expect(failure).toMatchObject({ kind: "http", status: 503, retryable: true, raw: "upstream unavailable" });
  });

  it("maps a connection failure (an APICallError without a status) to a retryable transport failure", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const failure = await streamFailure(
      apiCallError(undefined, {
        message: "Cannot connect to API: fetch failed",
        isRetryable: true,
        cause: new TypeError("fetch failed", { cause: refused }),
      }),
    );
    expect(failure).toMatchObject({ kind: "transport", retryable: true });
    expect(failure.status).toBeUndefined();
  });

  it("reads the cause of a body that broke off after a 2xx status, not the status", async () => {
    const dropped = new TypeError("terminated", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) });
    const failure = await streamFailure(
      apiCallError(200, { message: "Failed to process successful response", isRetryable: false, cause: dropped }),
    );
    expect(failure).toMatchObject({ kind: "transport", retryable: true });
    expect(failure.status).toBeUndefined();
  });

  it("keeps the SDK's retryability for a status-less APICallError it cannot read more from", async () => {
    expect(await streamFailure(apiCallError(undefined, { message: "odd failure", isRetryable: true }))).toMatchObject({
      kind: "transport",
      retryable: true,
    });
    expect(await streamFailure(apiCallError(undefined, { message: "odd failure", isRetryable: false }))).toMatchObject({
      kind: "unknown",
      retryable: false,
    });
  });

  it("finds the HTTP error inside a wrapper (the AI Gateway keeps it as the cause)", async () => {
    const wrapper = Object.assign(new Error("Rate limited by the gateway"), {
      statusCode: 429,
      cause: apiCallError(429, { headers: { "retry-after": "3" } }),
    });
    expect(await streamFailure(wrapper)).toMatchObject({
      kind: "http",
      status: 429,
      retryAfterMs: 3_000,
      message: "HTTP 429: Rate limited by the gateway",
    });
    expect(await streamFailure(Object.assign(new Error("forbidden"), { statusCode: 403 }))).toMatchObject({
      kind: "auth",
      status: 403,
      retryable: false,
    });
  });

  it("maps the AI SDK's own errors by class", async () => {
    expect(await streamFailure(new LoadAPIKeyError({ message: "OpenAI API key is missing." }))).toMatchObject({
      kind: "auth",
      retryable: false,
    });
    expect(await streamFailure(new InvalidPromptError({ prompt: [], message: "messages must not be empty" }))).toMatchObject({
      kind: "validation",
      retryable: false,
    });
    expect(await streamFailure(new UnsupportedFunctionalityError({ functionality: "image parts" }))).toMatchObject({
      kind: "unsupported",
      retryable: false,
    });
  });

  it("recognises the errors of @ai-sdk/provider 3.x, which AI SDK 6 models throw, the same way", async () => {
    const rateLimited = new providerV3.APICallError({
      message: "Rate limit reached",
      url: "https://api.example.com",
      requestBodyValues: {},
      statusCode: 429,
      responseHeaders: { "retry-after": "2" },
    });
    // The adapter checks errors with the classes of the @ai-sdk/provider it was installed with (4.x here).
    expect(APICallError.isInstance(rateLimited)).toBe(true);
    expect(await streamFailure(rateLimited, "v3")).toMatchObject({ kind: "http", status: 429, retryAfterMs: 2_000, retryable: true });
    expect(await streamFailure(new providerV3.LoadAPIKeyError({ message: "OpenAI API key is missing." }), "v3")).toMatchObject({
      kind: "auth",
      retryable: false,
    });
    expect(await streamFailure(new providerV3.UnsupportedFunctionalityError({ functionality: "image parts" }), "v3")).toMatchObject({
      kind: "unsupported",
    });
  });

  it("maps a timeout below the adapter to a retryable timeout", async () => {
    expect(await streamFailure(new DOMException("The operation timed out.", "TimeoutError"))).toMatchObject({
      kind: "timeout",
      retryable: true,
    });
  });

  it("maps anything else to a non-retryable unknown failure with its message", async () => {
    expect(await streamFailure(new RangeError("bad things"))).toMatchObject({ kind: "unknown", retryable: false, message: "bad things" });
  });

  it("classifies a stream that fails while it is read", async () => {
    const parts = textParts("t", ["partial"]);
    const model = new MockLanguageModelV4({
      doStream: async () => ({
        // The parts are read first; the connection then drops on the next read.
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          pull(controller) {
            const part = parts.shift();
            if (part !== undefined) controller.enqueue(part);
            else
              controller.error(
                Object.assign(new TypeError("terminated"), {
                  cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }),
                }),
              );
          },
        }),
      }),
    });
    const events: unknown[] = [];
    const thrown = await thrownBy(async () => {
      for await (const part of createAiSdkProvider(model).doStream?.(lashRequest(), { signal: new AbortController().signal }) ?? [])
        events.push(part);
    });
    expect(events).toEqual([{ type: "delta", text: "partial" }]);
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "transport", retryable: true });
  });

  it("classifies a model that throws synchronously instead of rejecting", async () => {
    const model = new MockLanguageModelV4();
    model.doStream = () => {
      throw apiCallError(503);
    };
    const thrown = await thrownBy(() => runStream(createAiSdkProvider(model), lashRequest()));
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "http", status: 503, retryable: true });
  });

  it("maps doGenerate failures the same way", async () => {
    const model = new MockLanguageModelV4({
      doGenerate: async () => {
        throw apiCallError(429, { headers: { "retry-after": "1" } });
      },
    });
    const provider = createAiSdkProvider(model, { mode: "generate" });
    const thrown = await thrownBy(async () =>
      provider.doComplete?.(lashRequest(), { signal: new AbortController().signal, emit: () => {} }),
    );
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "http", status: 429, retryAfterMs: 1_000, retryable: true });
  });
});
