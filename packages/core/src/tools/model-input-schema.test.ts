import type { JsonObject, StandardSchemaV1 } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { StandardJSONSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { validateJsonSchemaDocument } from "./json-schema-document.js";
import { checkedModelInputSchema, toModelInputSchema } from "./model-input-schema.js";
import { validateToolInput } from "./tool-input-schema.js";

/** A hand-made Standard Schema without JSON Schema: accepts `{ city: string }`. */
function citySchema(): StandardSchemaV1<unknown, { city: string }> {
  return {
    "~standard": {
      version: 1,
      vendor: "hand-made",
      validate: (value) => {
        const city: unknown = typeof value === "object" && value !== null ? (value as Record<string, unknown>).city : undefined;
        return typeof city === "string" ? { value: { city } } : { issues: [{ message: "city must be a string", path: ["city"] }] };
      },
    },
  };
}

/** A hand-made Standard Schema that also implements Standard JSON Schema, converting with `input`. */
function withJsonSchema(vendor: string, input: (options: StandardJSONSchemaV1.Options) => Record<string, unknown>): StandardSchemaV1 {
  const converter: StandardJSONSchemaV1.Converter = { input, output: input };
  return {
    "~standard": { version: 1, vendor, validate: (value) => ({ value }), jsonSchema: converter },
  } as StandardSchemaV1;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to throw");
}

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
    expect(validateToolInput({ inputSchema: schema }, bad)).toEqual({ ok: false, message: "$.pair[1]: -1 is less than 0." });
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

  it("needs modelInputSchema for a Standard Schema without Standard JSON Schema, and says so", () => {
    const modelInputSchema: JsonObject = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    expect(toModelInputSchema({ name: "city", inputSchema: citySchema(), modelInputSchema })).toBe(modelInputSchema);
    const convert = (): JsonObject => toModelInputSchema({ name: "city", inputSchema: citySchema() });
    expect(convert).toThrow(LashError);
    expect(convert).toThrow(
      'tool `city`: its input schema (a Standard Schema from "hand-made") has no JSON Schema for the model (no `~standard.jsonSchema`): ' +
        "give the tool a modelInputSchema, or use a schema library that implements Standard JSON Schema",
    );
  });

  it("rejects an input schema that is neither JSON Schema nor a Standard Schema", () => {
    const definition = { name: "broken", inputSchema: "string" } as unknown as Parameters<typeof toModelInputSchema>[0];
    expect(() => toModelInputSchema(definition)).toThrow(
      "tool `broken`: its inputSchema must be a JSON Schema object or a Standard Schema",
    );
  });
});

describe("toModelInputSchema: Standard JSON Schema", () => {
  it("asks for the input side in draft 2020-12 and removes $schema", () => {
    const targets: string[] = [];
    const inputSchema = withJsonSchema("hand-made", (options) => {
      targets.push(options.target);
      return { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { city: { type: "string" } } };
    });
    const schema = toModelInputSchema({ name: "city", inputSchema });
    expect(schema).toEqual({ type: "object", properties: { city: { type: "string" } } });
    expect(targets).toEqual(["draft-2020-12"]);
    // Converted once per schema object, however many tools and turns use it.
    expect(toModelInputSchema({ name: "city_again", inputSchema })).toBe(schema);
    expect(targets).toHaveLength(1);
    expect(Object.isFrozen(schema)).toBe(true);
  });

  it("names the tool, the library and its message when the conversion throws", () => {
    const inputSchema = withJsonSchema("lib", () => {
      throw new Error('The "date" schema cannot be converted to JSON Schema.');
    });
    expect(() => toModelInputSchema({ name: "when", inputSchema })).toThrow(
      'tool `when`: its input schema (a Standard Schema from "lib") cannot be converted to JSON Schema: ' +
        'The "date" schema cannot be converted to JSON Schema.; give the tool a modelInputSchema instead',
    );
  });

  it("rejects a conversion that is not a JSON object, or not an object schema", () => {
    const notJson = withJsonSchema("lib", () => ({ type: "object", default: 10n }));
    expect(() => toModelInputSchema({ name: "big", inputSchema: notJson })).toThrow(
      'tool `big`: its input schema (a Standard Schema from "lib") cannot be converted to JSON Schema: Do not know how to serialize a BigInt',
    );
    const scalar = withJsonSchema("lib", () => ({ type: "string" }));
    expect(() => toModelInputSchema({ name: "scalar", inputSchema: scalar })).toThrow(
      'tool `scalar`: its input schema must describe an object (tools take a JSON object of named arguments), but it is type "string"',
    );
  });

  it("points valibot users at toStandardJsonSchema", () => {
    const valibotLike = { "~standard": { version: 1, vendor: "valibot", validate: (value: unknown) => ({ value }) } };
    expect(() => toModelInputSchema({ name: "plain_valibot", inputSchema: valibotLike })).toThrow(
      "(for valibot: wrap the schema with `toStandardJsonSchema` from `@valibot/to-json-schema`)",
    );
  });
});

describe("checkedModelInputSchema", () => {
  it("checks the model's schema and a plain JSON inputSchema once per definition", () => {
    const definition = { name: "plain", inputSchema: { type: "object", properties: { a: { type: "string" } } } };
    const schema = checkedModelInputSchema(definition);
    expect(schema).toBe(definition.inputSchema);
    expect(checkedModelInputSchema(definition)).toBe(schema);
  });

  it("throws a typed invalid_configuration error naming the tool and the schema location", () => {
    const error = thrown(() => checkedModelInputSchema({ name: "broken", inputSchema: { type: "object", required: "a" } }));
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    expect(error).toHaveProperty("message", "tool `broken` has an unusable input schema: #/required: expected an array of property names");
    // A JSON inputSchema is checked even when the model sees a modelInputSchema: it still validates the arguments.
    expect(() =>
      checkedModelInputSchema({ name: "two", inputSchema: { type: "object", $ref: "#/nowhere" }, modelInputSchema: { type: "object" } }),
    ).toThrow('tool `two` has an unusable input schema: #/$ref: the schema\'s $ref "#/nowhere" does not resolve');
  });
});
