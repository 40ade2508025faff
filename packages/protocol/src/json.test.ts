import { describe, expect, it } from "vitest";
import { jsonValueSchema, stableStringify } from "./json.js";

describe("stableStringify", () => {
  it("sorts object keys at every depth", () => {
    const value = { b: 1, a: { z: [{ y: 1, x: 2 }], c: { e: null, d: true } } };
    expect(stableStringify(value)).toBe('{"a":{"c":{"d":true,"e":null},"z":[{"x":2,"y":1}]},"b":1}');
  });

  it("renders the same bytes whatever the insertion order", () => {
    expect(stableStringify({ x: 1, y: { q: 2, p: 3 } })).toBe(stableStringify({ y: { p: 3, q: 2 }, x: 1 }));
  });

  it("keeps array order", () => {
    expect(stableStringify([3, 1, 2])).toBe("[3,1,2]");
  });

  it("indents when asked", () => {
    expect(stableStringify({ ok: true, a: [1] }, 2)).toBe('{\n  "a": [\n    1\n  ],\n  "ok": true\n}');
  });

  it("drops undefined object entries and renders undefined as null", () => {
    expect(stableStringify({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(stableStringify(undefined)).toBe("null");
  });

  it("renders scalars like JSON.stringify", () => {
    expect(stableStringify("text")).toBe('"text"');
    expect(stableStringify(12.5)).toBe("12.5");
    expect(stableStringify(null)).toBe("null");
  });
});

describe("jsonValueSchema", () => {
  it("accepts JSON values and rejects functions and undefined", () => {
    expect(jsonValueSchema.safeParse({ a: [1, "x", null, true, { b: 2 }] }).success).toBe(true);
    expect(jsonValueSchema.safeParse(() => 1).success).toBe(false);
    expect(jsonValueSchema.safeParse(undefined).success).toBe(false);
  });
});
