import type { JsonObject, StandardSchemaV1 } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isStandardSchema, isZodSchema, type ToolInputValidation, validateToolInput } from "./tool-input-schema.js";

type StandardResult = ReturnType<StandardSchemaV1["~standard"]["validate"]>;

/** A hand-made Standard Schema (no zod): accepts `{ city: string }`, reports issues with `{ key }` segments. */
function citySchema(options: { readonly async?: boolean } = {}): StandardSchemaV1<unknown, { city: string }> {
  const check = (value: unknown): Awaited<StandardResult> => {
    const city: unknown = typeof value === "object" && value !== null ? (value as Record<string, unknown>).city : undefined;
    if (typeof city === "string") return { value: { city: city.trim() } };
    return { issues: [{ message: "city must be a string", path: [{ key: "city" }] }, { message: "second issue" }] };
  };
  return {
    "~standard": {
      version: 1,
      vendor: "hand-made",
      validate: (value) => (options.async ? Promise.resolve(check(value)) : check(value)) as StandardResult,
    },
  } as StandardSchemaV1<unknown, { city: string }>;
}

/** A Standard Schema whose validator returns `result` or throws `error`. */
function scriptedSchema(behaviour: {
  readonly result?: unknown;
  readonly error?: unknown;
  readonly rejection?: unknown;
}): StandardSchemaV1 {
  return {
    "~standard": {
      version: 1,
      vendor: "scripted",
      validate: () => {
        if (behaviour.error !== undefined) throw behaviour.error;
        if (behaviour.rejection !== undefined) return Promise.reject(behaviour.rejection);
        return behaviour.result as StandardResult;
      },
    },
  };
}

function isPromise(value: unknown): boolean {
  return value instanceof Promise;
}

describe("isStandardSchema and isZodSchema", () => {
  it("recognises Standard Schemas by a version 1 `~standard` with a validate function", () => {
    expect(isStandardSchema(z.object({}))).toBe(true);
    expect(isStandardSchema(citySchema())).toBe(true);
    const callable = Object.assign(() => undefined, { "~standard": { version: 1, vendor: "callable", validate: () => ({ value: 1 }) } });
    expect(isStandardSchema(callable)).toBe(true);
    expect(isStandardSchema({ "~standard": { version: 2, vendor: "future", validate: () => ({ value: 1 }) } })).toBe(false);
    expect(isStandardSchema({ "~standard": { version: 1, vendor: "broken" } })).toBe(false);
    expect(isStandardSchema({ type: "object" })).toBe(false);
    expect(isStandardSchema(null)).toBe(false);
  });

  it("recognises zod 4 schemas by `_zod`", () => {
    expect(isZodSchema(z.string())).toBe(true);
    expect(isZodSchema(citySchema())).toBe(false);
    expect(isZodSchema({ type: "object" })).toBe(false);
    expect(isZodSchema(undefined)).toBe(false);
  });
});

describe("validateToolInput", () => {
  it("returns zod's parsed value synchronously", () => {
    const inputSchema = z.object({ count: z.coerce.number(), label: z.string().default("none") });
    const validation = validateToolInput({ inputSchema }, { count: "3" });
    expect(isPromise(validation)).toBe(false);
    expect(validation).toEqual({ ok: true, value: { count: 3, label: "none" } });
  });

  it("reports zod's first issue with its path", () => {
    const inputSchema = z.object({ items: z.array(z.object({ name: z.string() })), note: z.string() });
    const validation = validateToolInput({ inputSchema }, { items: [{ name: "a" }, { name: 7 }], note: 1 });
    expect(validation).toEqual({ ok: false, message: "$.items[1].name: Invalid input: expected string, received number" });
  });

  it("waits for a zod schema with an asynchronous refinement", async () => {
    const inputSchema = z.object({ code: z.string().refine(async (code) => code === "open", "wrong code") });
    const pending = validateToolInput({ inputSchema }, { code: "closed" });
    expect(isPromise(pending)).toBe(true);
    expect(await pending).toEqual({ ok: false, message: "$.code: wrong code" });
    expect(await validateToolInput({ inputSchema }, { code: "open" })).toEqual({ ok: true, value: { code: "open" } });
  });

  it("validates with a hand-made Standard Schema, synchronously and asynchronously", async () => {
    expect(validateToolInput({ inputSchema: citySchema() }, { city: " Paris " })).toEqual({ ok: true, value: { city: "Paris" } });
    expect(validateToolInput({ inputSchema: citySchema() }, { city: 1 })).toEqual({ ok: false, message: "$.city: city must be a string" });
    const pending = validateToolInput({ inputSchema: citySchema({ async: true }) }, {});
    expect(isPromise(pending)).toBe(true);
    expect(await pending).toEqual({ ok: false, message: "$.city: city must be a string" });
  });

  it("renders issue paths with indexes, quoted keys and no path at all", () => {
    const result = (path: unknown): StandardSchemaV1 => scriptedSchema({ result: { issues: [{ message: "bad", path }] } });
    expect(validateToolInput({ inputSchema: result(["list", 0, { key: "odd key" }]) }, {})).toEqual({
      ok: false,
      message: '$.list[0]["odd key"]: bad',
    });
    expect(validateToolInput({ inputSchema: result(undefined) }, {})).toEqual({ ok: false, message: "$: bad" });
  });

  it("validates with a plain JSON Schema and passes the arguments through", () => {
    const inputSchema: JsonObject = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    const args = { n: 2 };
    const accepted = validateToolInput({ inputSchema }, args);
    expect(isPromise(accepted)).toBe(false);
    expect(accepted).toEqual({ ok: true, value: args });
    expect((accepted as Extract<ToolInputValidation, { ok: true }>).value).toBe(args);
    expect(validateToolInput({ inputSchema }, { n: "2" })).toEqual({
      ok: false,
      message: '$.n: Instance type "string" is invalid. Expected "integer".',
    });
    expect(validateToolInput({ inputSchema }, {})).toEqual({ ok: false, message: '$: Instance does not have required property "n".' });
  });

  it("reports a validator that throws or rejects as a failure instead of propagating it", async () => {
    expect(validateToolInput({ inputSchema: scriptedSchema({ error: new Error("boom") }) }, {})).toEqual({
      ok: false,
      message: "$: the argument validator failed: boom",
    });
    expect(validateToolInput({ inputSchema: scriptedSchema({ error: "plain" }) }, {})).toEqual({
      ok: false,
      message: "$: the argument validator failed: plain",
    });
    expect(await validateToolInput({ inputSchema: scriptedSchema({ rejection: new Error("later") }) }, {})).toEqual({
      ok: false,
      message: "$: the argument validator failed: later",
    });
    const throwing = z.object({ a: z.string() }).superRefine(() => {
      throw new Error("refinement crashed");
    });
    // zod answers a throwing refinement by retrying asynchronously, so the failure arrives as a rejection.
    expect(await validateToolInput({ inputSchema: throwing }, { a: "x" })).toEqual({
      ok: false,
      message: "$: the argument validator failed: refinement crashed",
    });
  });

  it("reports a malformed validator result instead of accepting the arguments", () => {
    expect(validateToolInput({ inputSchema: scriptedSchema({ result: null }) }, {})).toEqual({
      ok: false,
      message: "$: the argument validator returned no result",
    });
    expect(validateToolInput({ inputSchema: scriptedSchema({ result: { issues: [] } }) }, {})).toEqual({
      ok: false,
      message: "$: invalid value",
    });
  });

  it("reports a stack overflow inside zod on a hostile value as a failure", async () => {
    const json = z.object({ data: z.json() });
    let nested: unknown = 1;
    for (let level = 0; level < 200_000; level += 1) nested = [nested];
    const validation = await validateToolInput({ inputSchema: json }, { data: nested });
    expect(validation).toEqual({ ok: false, message: "$: the argument validator failed: Maximum call stack size exceeded" });
  });
});
