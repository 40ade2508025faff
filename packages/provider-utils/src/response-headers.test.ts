import { describe, expect, it } from "vitest";
import { normalizeResponseHeaders } from "./response-headers.js";

describe("normalizeResponseHeaders", () => {
  it("lower-cases names and joins repeated ones from pairs, records and Headers", () => {
    expect(
      normalizeResponseHeaders([
        ["X-Request-Id", "a"],
        ["x-request-id", "b"],
      ]),
    ).toEqual({ "x-request-id": "a, b" });
    expect(normalizeResponseHeaders({ "Retry-After": "7", "x-list": ["a", "b"], "content-length": 12, absent: undefined })).toEqual({
      "retry-after": "7",
      "x-list": "a, b",
      "content-length": "12",
    });
    const headers = new Headers({ "Content-Type": "application/json" });
    headers.append("x-request-id", "a");
    headers.append("x-request-id", "b");
    expect(normalizeResponseHeaders(headers)).toEqual({ "content-type": "application/json", "x-request-id": "a, b" });
    expect(normalizeResponseHeaders(undefined)).toEqual({});
  });

  it("caps what a hostile server can put in", () => {
    const many = Array.from({ length: 500 }, (_, index): [string, string] => [`x-header-${index}`, "v"]);
    expect(Object.keys(normalizeResponseHeaders(many))).toHaveLength(100);
    expect(normalizeResponseHeaders({ "x-long": "v".repeat(10_000) })["x-long"]).toHaveLength(2_048);
    const prototypeAttempt = normalizeResponseHeaders([["__proto__", "polluted"]]);
    expect(Object.getPrototypeOf(prototypeAttempt)).toBe(Object.prototype);
    expect(Object.keys(prototypeAttempt)).toEqual([]);
  });

  it("drops credential-bearing headers", () => {
    expect(normalizeResponseHeaders({ "Set-Cookie": "a=b", Authorization: "Bearer x", cookie: "c", ok: "1" })).toEqual({ ok: "1" });
  });
});
