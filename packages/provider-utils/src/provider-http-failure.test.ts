import { describe, expect, it } from "vitest";
import { providerFailureFromHttp } from "./provider-http-failure.js";

/** Error responses from the provider wire scripts (recorded from real providers, verbatim). */
const GOOGLE_PER_MINUTE_BODY =
  '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count","quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash-preview-image"}}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"55s"}]}}';

describe("providerFailureFromHttp", () => {
  it("reads an OpenAI error body, Retry-After seconds and repeated headers", () => {
    const failure = providerFailureFromHttp({
      status: 429,
      headers: [
        ["content-type", "application/json"],
        ["retry-after", "7"],
        ["x-request-id", "req-429-a"],
        ["x-request-id", "req-429-b"],
      ],
      body: '{"error":{"message":"Rate limit reached for requests","type":"rate_limit_error","code":"rate_limit_exceeded"}}',
    });
    expect(failure).toMatchObject({
      kind: "http",
      status: 429,
      retryable: true,
      code: "rate_limit_exceeded",
      retryAfterMs: 7_000,
      message: "HTTP 429: Rate limit reached for requests",
      terminalReason: "provider_error",
    });
    expect(failure.headers?.["x-request-id"]).toBe("req-429-a, req-429-b");
    expect(failure.raw).toContain("rate_limit_error");
  });

  it("reads an Anthropic error body and classifies a credit balance as a non-retryable quota", () => {
    const failure = providerFailureFromHttp({
      status: 400,
      headers: { "content-type": "application/json" },
      body: '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}',
    });
    expect(failure).toMatchObject({ kind: "quota", status: 400, retryable: false, code: "invalid_request_error" });
    expect(failure.message).toContain("credit balance is too low");
  });

  it("reads Google's status and RetryInfo delay, and keeps a per-minute quota retryable", () => {
    const failure = providerFailureFromHttp({ status: 429, body: GOOGLE_PER_MINUTE_BODY });
    expect(failure).toMatchObject({ kind: "quota", retryable: true, code: "RESOURCE_EXHAUSTED", retryAfterMs: 55_000 });
  });

  it("keeps a hard Google quota without a delay non-retryable", () => {
    const failure = providerFailureFromHttp({
      status: 429,
      body: '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED"}}',
    });
    expect(failure).toMatchObject({ kind: "quota", retryable: false, code: "RESOURCE_EXHAUSTED" });
  });

  it("lets a usage limit with Retry-After be retried (the server asked to wait)", () => {
    const failure = providerFailureFromHttp({
      status: 429,
      headers: { "retry-after": "9" },
      body: '{"error":{"message":"You have hit your ChatGPT usage limit","type":"usage_limit_reached","code":"usage_limit_reached","plan_type":"plus"}}',
    });
    expect(failure).toMatchObject({ kind: "quota", retryable: true, retryAfterMs: 9_000 });
  });

  it("reads a Google error wrapped in an array", () => {
    const failure = providerFailureFromHttp({
      status: 503,
      body: '[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]',
    });
    expect(failure).toMatchObject({ kind: "http", retryable: true, code: "UNAVAILABLE", message: "HTTP 503: The model is overloaded." });
  });

  it("reads OAuth token endpoint errors", () => {
    const failure = providerFailureFromHttp({
      status: 401,
      body: '{"error":"invalid_client","error_description":"The OAuth client was not found."}',
    });
    expect(failure).toMatchObject({
      kind: "auth",
      retryable: false,
      code: "invalid_client",
      message: "HTTP 401: The OAuth client was not found.",
    });
  });

  it("accepts an error object an SDK already parsed, and bytes", () => {
    expect(
      providerFailureFromHttp({
        status: 404,
        body: { message: "The model `gpt-9` does not exist", type: "invalid_request_error", code: "model_not_found" },
      }),
    ).toMatchObject({ kind: "unsupported", code: "model_not_found", retryable: false });
    expect(providerFailureFromHttp({ status: 500, body: new TextEncoder().encode('{"detail":"Internal error"}') })).toMatchObject({
      kind: "http",
      retryable: true,
      message: "HTTP 500: Internal error",
    });
  });

  it("falls back to HTTP <status> for a body that is not JSON, and keeps an explicit message", () => {
    const failure = providerFailureFromHttp({ status: 502, body: "<html>Bad gateway</html>" });
    expect(failure).toMatchObject({ kind: "http", message: "HTTP 502", retryable: true, raw: "<html>Bad gateway</html>" });
    expect(providerFailureFromHttp({ status: 502, message: "upstream gateway failed" }).message).toBe("upstream gateway failed");
    expect(providerFailureFromHttp({ status: 500, body: "" }).raw).toBeUndefined();
  });

  it("cuts a huge body and a huge message, and ignores nonsense shapes", () => {
    const hugeMessage = "x".repeat(50_000);
    const failure = providerFailureFromHttp({ status: 500, body: JSON.stringify({ error: { message: hugeMessage, code: 42 } }) });
    expect(failure.raw?.length).toBeLessThan(4_100);
    expect(failure.raw).toContain("chars omitted");
    expect(failure.message.length).toBeLessThanOrEqual(1_010);
    expect(failure.code).toBeUndefined();
    expect(providerFailureFromHttp({ status: 500, body: "null" }).message).toBe("HTTP 500");
    expect(providerFailureFromHttp({ status: 500, body: "[1,2]" }).message).toBe("HTTP 500");
    expect(providerFailureFromHttp({ status: 500, body: '{"error":{"message":{"nested":true}}}' }).message).toBe("HTTP 500");
  });

  it("prefers retry-after-ms and reads an HTTP date", () => {
    expect(providerFailureFromHttp({ status: 429, headers: { "retry-after-ms": "1500", "retry-after": "9" } }).retryAfterMs).toBe(1_500);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(providerFailureFromHttp({ status: 503, headers: { "Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT" }, now }).retryAfterMs).toBe(
      30_000,
    );
  });

  it("drops credential headers", () => {
    const failure = providerFailureFromHttp({ status: 500, headers: { "set-cookie": "session=secret", "x-request-id": "a" } });
    expect(failure.headers).toEqual({ "x-request-id": "a" });
  });

  it("keeps the request body when given", () => {
    expect(providerFailureFromHttp({ status: 400, requestBody: '{"model":"m"}' }).requestBody).toBe('{"model":"m"}');
  });
});
