import type { JsonObject, StandardSchemaV1 } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { validateJsonSchemaDocument } from "./json-schema-validator.js";
import { isStandardSchema, isZodSchema, type ToolInputValidation, toModelInputSchema, validateToolInput } from "./tool-input-schema.js";

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

describe("toModelInputSchema", () => {
  it("converts a zod object schema to JSON Schema without $schema", () => {
    const schema = toModelInputSchema({
      name: "weather",
      inputSchema: z.object({
        city: z.string().min(1).describe("City name"),
        days: z.number().int().optional(),
        units: z.enum(["c", "f"]).default("c"),
      }),
    });
    expect(schema).not.toHaveProperty("$schema");
    expect(schema.type).toBe("object");
    expect(schema.properties).toMatchObject({
      city: { type: "string", minLength: 1, description: "City name" },
      days: { type: "integer" },
      units: { enum: ["c", "f"] },
    });
    // The model writes the input side: fields with defaults are optional.
    expect(schema.required).toEqual(["city"]);
  });

  it("caches the conversion per zod schema and freezes the shared result", () => {
    const inputSchema = z.object({ query: z.string() });
    const first = toModelInputSchema({ name: "search", inputSchema });
    expect(toModelInputSchema({ name: "search_again", inputSchema })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.properties)).toBe(true);
  });

  it("keeps $defs for recursive zod schemas, and the result validates as JSON Schema", () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const tree: z.ZodType<Tree> = z.object({
      name: z.string(),
      get children() {
        return z.array(tree);
      },
    });
    const schema = toModelInputSchema({ name: "tree", inputSchema: z.object({ root: tree }) });
    expect(schema.$defs).toBeDefined();
    expect(validateToolInput({ inputSchema: schema }, { root: { name: "a", children: [{ name: "b", children: [] }] } })).toEqual({
      ok: true,
      value: { root: { name: "a", children: [{ name: "b", children: [] }] } },
    });
  });

  it("lifts a root registered with an id to a top-level object", () => {
    const inputSchema = z.object({ query: z.string() }).meta({ id: "lash_test_lifted_root", description: "Search input" });
    const schema = toModelInputSchema({ name: "lifted", inputSchema });
    expect(schema).toMatchObject({
      type: "object",
      description: "Search input",
      properties: { query: { type: "string" } },
      required: ["query"],
    });
    expect(schema).not.toHaveProperty("$ref");
    expect(schema).not.toHaveProperty("$defs");
  });

  it("rejects a zod schema whose top level is not an object", () => {
    const convert = (): JsonObject => toModelInputSchema({ name: "scalar", inputSchema: z.string() });
    expect(convert).toThrow(LashError);
    expect(convert).toThrow(
      'tool `scalar`: its input schema must describe an object (tools take a JSON object of named arguments), but it is type "string"',
    );
    try {
      convert();
    } catch (error) {
      expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    }
    const union = z.discriminatedUnion("kind", [z.object({ kind: z.literal("a") }), z.object({ kind: z.literal("b") })]);
    expect(() => toModelInputSchema({ name: "union", inputSchema: union })).toThrow("but it is a top-level oneOf");
  });

  it("produces schemas that pass the registration check and agree with zod on sample arguments", () => {
    const inputSchema = z.object({
      email: z.email(),
      id: z.uuid(),
      when: z.iso.datetime(),
      pair: z.tuple([z.string(), z.number().min(0)]),
      scores: z.record(z.string(), z.number().int()),
      payload: z.json(),
      choice: z.union([z.literal("a"), z.number()]).nullable(),
    });
    const schema = toModelInputSchema({ name: "rich", inputSchema });
    expect(validateJsonSchemaDocument(schema)).toBeUndefined();
    const good = {
      email: "ada@example.com",
      id: "123e4567-e89b-42d3-a456-426614174000",
      when: "2024-01-02T03:04:05Z",
      pair: ["x", 1],
      scores: { a: 1 },
      payload: [{ deep: [null] }],
      choice: null,
    };
    expect(validateToolInput({ inputSchema: schema }, good)).toEqual({ ok: true, value: good });
    expect(validateToolInput({ inputSchema }, good)).toMatchObject({ ok: true });
    const bad = { ...good, pair: ["x", -1] };
    expect(validateToolInput({ inputSchema: schema }, bad)).toEqual({ ok: false, message: "$.pair[1]: expected a number >= 0, got -1" });
    expect(validateToolInput({ inputSchema }, bad)).toMatchObject({ ok: false, message: expect.stringMatching(/^\$\.pair\[1\]: /) });
  });

  it("turns unrepresentable zod types into unconstrained schemas instead of failing", () => {
    const schema = toModelInputSchema({ name: "dates", inputSchema: z.object({ when: z.date(), label: z.string() }) });
    expect(schema.properties).toEqual({ when: {}, label: { type: "string" } });
  });

  it("returns a plain JSON Schema as it is, and modelInputSchema before anything else", () => {
    const jsonSchema: JsonObject = { type: "object", properties: { a: { type: "string" } } };
    expect(toModelInputSchema({ name: "plain", inputSchema: jsonSchema })).toBe(jsonSchema);
    const modelInputSchema: JsonObject = { type: "object", properties: { b: { type: "number" } } };
    expect(toModelInputSchema({ name: "override", inputSchema: z.object({ a: z.string() }), modelInputSchema })).toBe(modelInputSchema);
  });

  it("needs modelInputSchema for a Standard Schema that is not zod", () => {
    const modelInputSchema: JsonObject = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    expect(toModelInputSchema({ name: "city", inputSchema: citySchema(), modelInputSchema })).toBe(modelInputSchema);
    const convert = (): JsonObject => toModelInputSchema({ name: "city", inputSchema: citySchema() });
    expect(convert).toThrow(LashError);
    expect(convert).toThrow(
      'tool `city`: its input schema (a Standard Schema from "hand-made") cannot be converted to JSON Schema: give the tool a modelInputSchema',
    );
  });

  it("rejects an input schema that is neither JSON Schema nor a Standard Schema", () => {
    const definition = { name: "broken", inputSchema: "string" } as unknown as Parameters<typeof toModelInputSchema>[0];
    expect(() => toModelInputSchema(definition)).toThrow(
      "tool `broken`: its inputSchema must be a JSON Schema object or a Standard Schema",
    );
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
    expect(validateToolInput({ inputSchema }, { n: "2" })).toEqual({ ok: false, message: "$.n: expected integer, got string" });
    expect(validateToolInput({ inputSchema }, {})).toEqual({ ok: false, message: '$: missing required property "n"' });
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
