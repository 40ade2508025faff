import { describe, expect, it } from "vitest";
import { durationMsFromProtobufJson, retryAfterMsFromHeaders } from "./retry-after.js";

describe("retryAfterMsFromHeaders", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it.each([
    [{ "retry-after": "7" }, 7_000],
    [{ "retry-after": "0" }, 0],
    [{ "retry-after": "1.25" }, 1_250],
    [{ "retry-after": " 3 " }, 3_000],
    [{ "retry-after-ms": "250" }, 250],
    [{ "retry-after-ms": "12.3" }, 13],
    [{ "retry-after-ms": "soon", "retry-after": "2" }, 2_000],
    [{ "retry-after": "Wed, 01 Jan 2025 00:00:10 GMT" }, 10_000],
    [{ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }, 0],
  ])("reads %j as %i ms", (headers, expected) => {
    expect(retryAfterMsFromHeaders(headers, { now })).toBe(expected);
  });

  it.each<Record<string, string>>([
    {},
    { "retry-after": "-1" },
    { "retry-after": "9 apples" },
    { "retry-after": "" },
    { "retry-after": "1e400" },
    { "retry-after": "x".repeat(100) },
  ])("ignores %j", (headers) => {
    expect(retryAfterMsFromHeaders(headers, { now })).toBeUndefined();
  });
});

describe("durationMsFromProtobufJson", () => {
  it("reads seconds with an s suffix", () => {
    expect(durationMsFromProtobufJson("55s")).toBe(55_000);
    expect(durationMsFromProtobufJson("0.5s")).toBe(500);
  });

  it.each([55, "55", "-1s", "5m", null, undefined])("ignores %j", (value) => {
    expect(durationMsFromProtobufJson(value)).toBeUndefined();
  });
});
