import { describe, expect, it } from "vitest";
import { classifyProviderFailure, type ProviderFailureInput } from "./provider-failure-classifier.js";

/** Error responses recorded from real providers (the public lash project's provider wire scripts, verbatim). */
const RECORDED_ERRORS = {
  "openai.chat-per-minute-429": {
    status: 429,
    headers: { "content-type": "application/json" },
    body: '{"error":{"type":"tokens","code":"rate_limit_exceeded","message":"Rate limit reached for o4-mini in organization REDACTED on tokens per min (TPM): Limit 200000, Used 160193, Requested 51963. Please try again in 3.646s. Visit https://platform.openai.com/account/rate-limits to learn more.","param":null}}',
  },
  "anthropic.messages-hard-quota-400": {
    status: 400,
    headers: { "content-type": "application/json" },
    body: '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}',
  },
  "codex.responses-rate-limit-429": {
    status: 429,
    headers: { "content-type": "application/json", "retry-after": "9", "x-request-id": "req-codex-429-b" },
    body: '{"error":{"message":"You have hit your ChatGPT usage limit","type":"usage_limit_reached","code":"usage_limit_reached","plan_type":"plus"}}',
  },
  "google.generate-content-hard-quota-429": {
    status: 429,
    headers: { "content-type": "application/json" },
    body: '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.","status":"RESOURCE_EXHAUSTED"}}',
  },
  "google.generate-content-per-minute-429": {
    status: 429,
    headers: { "content-type": "application/json" },
    body: '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count","quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash-preview-image"}},{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash-preview-image"}},{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier","quotaDimensions":{"model":"gemini-2.5-flash-preview-image","location":"global"}}]},{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"55s"}]}}',
  },
  "openai-compatible.chat-rate-limit-429": {
    status: 429,
    headers: { "content-type": "application/json", "retry-after": "7", "x-request-id": "req-429-b" },
    body: '{"error":{"message":"Rate limit reached for requests","type":"rate_limit_error","code":"rate_limit_exceeded"}}',
  },
  "openai-compatible.chat-validation-error": {
    status: 400,
    headers: { "content-type": "application/json", "x-request-id": "req-validation" },
    body: '{"error":{"message":"Invalid request: tools[0].function.parameters is invalid","type":"invalid_request_error","code":"invalid_request_error"}}',
  },
} as const;

type RecordedError = keyof typeof RECORDED_ERRORS;

/**
 * What an HTTP adapter would hand the classifier for a recorded error response: the provider's own
 * message and code from the JSON body, the status, the raw body and the headers (Retry-After in
 * milliseconds).
 */
function failureInputFromRecording(name: RecordedError): ProviderFailureInput {
  const recorded = RECORDED_ERRORS[name];
  const body = JSON.parse(recorded.body) as { error: { message: string; code?: unknown } };
  const headers: Record<string, string> = { ...recorded.headers };
  const input: ProviderFailureInput = { message: body.error.message, status: recorded.status, raw: recorded.body, headers };
  if (typeof body.error.code === "string") input.code = body.error.code;
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined) input.retryAfterMs = Number(retryAfter) * 1000;
  return input;
}

describe("classifyProviderFailure: status", () => {
  it("takes the status from `status`, and upgrades kind unknown to http", () => {
    const failure = classifyProviderFailure({ message: "server error", status: 500 });
    expect(failure).toMatchObject({ kind: "http", status: 500, retryable: true, terminalReason: "provider_error" });
  });

  it("takes the status from a numeric code when `status` is absent", () => {
    const failure = classifyProviderFailure({ message: "bad gateway", code: "502" });
    expect(failure).toMatchObject({ kind: "http", status: 502, retryable: true, code: "502" });
  });

  it("does not read a non-numeric code as a status", () => {
    const failure = classifyProviderFailure({ message: "boom", code: "http_500" });
    expect(failure.status).toBeUndefined();
    expect(failure.kind).toBe("unknown");
    expect(failure.retryable).toBe(false);
  });

  it("keeps a known kind when a status is present (only unknown becomes http)", () => {
    const failure = classifyProviderFailure({ message: "gateway timeout", kind: "timeout", status: 504 });
    expect(failure.kind).toBe("timeout");
    expect(failure.retryable).toBe(true);
  });

  it.each([408, 409, 425, 429, 500, 502, 503, 504, 529])("status %i is retryable", (status) => {
    expect(classifyProviderFailure({ message: "try later", status }).retryable).toBe(true);
  });

  it.each([404, 405, 501, 505, 418])("status %i is not retryable", (status) => {
    const failure = classifyProviderFailure({ message: "nope", status });
    expect(failure.retryable).toBe(false);
    expect(failure.kind).toBe("http");
  });

  it.each([401, 403])("status %i is an auth failure, not retryable", (status) => {
    const failure = classifyProviderFailure({ message: "invalid api key", status });
    expect(failure).toMatchObject({ kind: "auth", retryable: false });
  });

  it.each([400, 413, 422])("status %i is a validation failure, not retryable", (status) => {
    const failure = classifyProviderFailure({ message: "bad request body", status });
    expect(failure).toMatchObject({ kind: "validation", retryable: false });
  });

  it("a status decides retryability over the adapter's own opinion", () => {
    expect(classifyProviderFailure({ message: "bad", status: 400, retryable: true }).retryable).toBe(false);
    expect(classifyProviderFailure({ message: "busy", status: 503, retryable: false }).retryable).toBe(true);
  });
});

describe("classifyProviderFailure: no status", () => {
  it.each(["transport", "timeout"] as const)("a %s failure is retryable", (kind) => {
    expect(classifyProviderFailure({ message: "connection reset", kind })).toMatchObject({ kind, retryable: true });
  });

  it.each(["stream", "unknown"] as const)("a %s failure is not retryable by default", (kind) => {
    expect(classifyProviderFailure({ message: "something broke", kind }).retryable).toBe(false);
  });

  it("an unknown failure without any hint is not retryable", () => {
    expect(classifyProviderFailure({ message: "weird" })).toMatchObject({
      kind: "unknown",
      retryable: false,
      terminalReason: "provider_error",
    });
  });

  it("uses the adapter's opinion when there is no status", () => {
    expect(classifyProviderFailure({ message: "stream dropped", kind: "stream", retryable: true }).retryable).toBe(true);
    expect(classifyProviderFailure({ message: "connection refused", kind: "transport", retryable: false }).retryable).toBe(false);
  });
});

describe("classifyProviderFailure: wording", () => {
  it.each([
    "This model's maximum context length is 128000 tokens",
    "context_length_exceeded",
    "prompt is too long: 210000 tokens > 200000 maximum",
    "Input is too long for requested model.",
    "exceeds the context window",
  ])("context overflow (%s) is validation, not retryable, terminal context_overflow", (message) => {
    const failure = classifyProviderFailure({ message, status: 400 });
    expect(failure).toMatchObject({ kind: "validation", retryable: false, terminalReason: "context_overflow" });
  });

  it("context overflow wording found in the raw body counts too", () => {
    const failure = classifyProviderFailure({
      message: "request failed",
      status: 400,
      raw: '{"error":{"code":"context_length_exceeded"}}',
    });
    expect(failure.terminalReason).toBe("context_overflow");
  });

  it("context overflow wording overrides a retryable status", () => {
    const failure = classifyProviderFailure({ message: "maximum context length exceeded", status: 500 });
    expect(failure).toMatchObject({ kind: "validation", retryable: false, terminalReason: "context_overflow" });
  });

  it("context wording that reads as a rate limit is not a context overflow", () => {
    const failure = classifyProviderFailure({ message: "Rate limit reached: too many tokens in the prompt per minute", status: 429 });
    expect(failure.terminalReason).toBe("provider_error");
    expect(failure.retryable).toBe(true);
  });

  it.each(["insufficient_quota", "usage_limit_reached", "usage_not_included", "You exceeded your current quota"])(
    "quota wording (%s) is a quota failure, not retryable",
    (message) => {
      const failure = classifyProviderFailure({ message, status: 429 });
      expect(failure).toMatchObject({ kind: "quota", retryable: false });
    },
  );

  it("quota wording in the code is a quota failure", () => {
    expect(classifyProviderFailure({ message: "request refused", code: "insufficient_quota", status: 429 })).toMatchObject({
      kind: "quota",
      retryable: false,
    });
  });

  it.each(["content_filter", "prohibited_content", "blocked for safety reasons", "sensitive content detected"])(
    "content filter wording (%s) sets terminal content_filter",
    (message) => {
      expect(classifyProviderFailure({ message, status: 400 }).terminalReason).toBe("content_filter");
    },
  );

  it.each(["model_not_found", "unsupported model: gpt-9", "The model `x` does not exist"])(
    "unknown-model wording (%s) is unsupported, not retryable",
    (message) => {
      const failure = classifyProviderFailure({ message, status: 404 });
      expect(failure).toMatchObject({ kind: "unsupported", retryable: false });
    },
  );

  it("unknown-model wording is not retryable even with a retryable status", () => {
    expect(classifyProviderFailure({ message: "model_not_found", status: 503 })).toMatchObject({ kind: "unsupported", retryable: false });
  });

  it("wording is matched case-insensitively", () => {
    expect(classifyProviderFailure({ message: "CONTEXT_LENGTH_EXCEEDED", status: 400 }).terminalReason).toBe("context_overflow");
  });
});

describe("classifyProviderFailure: pass-through fields", () => {
  it("keeps raw, code, headers, retryAfterMs and requestBody", () => {
    const failure = classifyProviderFailure({
      message: "busy",
      status: 503,
      raw: "raw body",
      code: "overloaded",
      headers: { "retry-after": "3" },
      retryAfterMs: 3000,
      requestBody: '{"model":"m"}',
    });
    expect(failure).toEqual({
      kind: "http",
      message: "busy",
      retryable: true,
      terminalReason: "provider_error",
      status: 503,
      raw: "raw body",
      code: "overloaded",
      headers: { "retry-after": "3" },
      retryAfterMs: 3000,
      requestBody: '{"model":"m"}',
    });
  });

  it("keeps an adapter's terminal reason unless wording overrides it", () => {
    expect(classifyProviderFailure({ message: "stopped", kind: "stream", terminalReason: "output_limit" }).terminalReason).toBe(
      "output_limit",
    );
  });
});

describe("classifyProviderFailure: recorded provider responses", () => {
  it("the OpenAI per-minute 429 stays retryable", () => {
    const failure = classifyProviderFailure(failureInputFromRecording("openai.chat-per-minute-429"));
    expect(failure.status).toBe(429);
    expect(failure.retryable).toBe(true);
    expect(failure.kind).not.toBe("quota");
    expect(failure.terminalReason).toBe("provider_error");
  });

  it("the Anthropic credit-balance 400 is a quota failure, not retryable", () => {
    const failure = classifyProviderFailure(failureInputFromRecording("anthropic.messages-hard-quota-400"));
    expect(failure).toMatchObject({ kind: "quota", retryable: false, status: 400 });
  });

  it("the codex usage_limit_reached 429 with Retry-After is retryable", () => {
    const input = failureInputFromRecording("codex.responses-rate-limit-429");
    expect(input.retryAfterMs).toBe(9000);
    const failure = classifyProviderFailure(input);
    expect(failure).toMatchObject({ status: 429, retryable: true, retryAfterMs: 9000 });
  });

  it("the same codex usage limit without Retry-After is not retryable", () => {
    const { retryAfterMs: _dropped, ...input } = failureInputFromRecording("codex.responses-rate-limit-429");
    expect(classifyProviderFailure(input)).toMatchObject({ kind: "quota", retryable: false });
  });

  it("the Google hard-quota 429 is a quota failure, not retryable", () => {
    const failure = classifyProviderFailure(failureInputFromRecording("google.generate-content-hard-quota-429"));
    expect(failure).toMatchObject({ kind: "quota", retryable: false, status: 429 });
  });

  it("the Google per-minute 429 (quota wording, per-minute quota id) is retryable", () => {
    const failure = classifyProviderFailure(failureInputFromRecording("google.generate-content-per-minute-429"));
    expect(failure.retryable).toBe(true);
  });

  it("the OpenAI-compatible rate-limit 429 is retryable", () => {
    expect(classifyProviderFailure(failureInputFromRecording("openai-compatible.chat-rate-limit-429")).retryable).toBe(true);
  });

  it("the OpenAI-compatible validation 400 is a validation failure, not retryable", () => {
    expect(classifyProviderFailure(failureInputFromRecording("openai-compatible.chat-validation-error"))).toMatchObject({
      kind: "validation",
      retryable: false,
    });
  });
});
