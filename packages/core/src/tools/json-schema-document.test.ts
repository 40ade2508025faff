import { describe, expect, it } from "vitest";
import { validateJsonSchemaDocument } from "./json-schema-document.js";
import { validateJsonSchema } from "./json-schema-validator.js";

describe("validateJsonSchemaDocument", () => {
  it("accepts a usable tool schema", () => {
    expect(validateJsonSchemaDocument({})).toBeUndefined();
    expect(
      validateJsonSchemaDocument({
        type: "object",
        properties: { tags: { type: "array", items: { $ref: "#/$defs/Tag" }, minItems: 0 }, mode: { enum: ["a"] } },
        required: ["tags"],
        additionalProperties: false,
        $defs: { Tag: { type: "string", pattern: "^[a-z]+$" } },
      }),
    ).toBeUndefined();
  });

  it("rejects what is not a plain object describing an object", () => {
    expect(validateJsonSchemaDocument(null)).toBe("the input schema must be a JSON Schema object, got null");
    expect(validateJsonSchemaDocument([])).toBe("the input schema must be a JSON Schema object, got array");
    expect(validateJsonSchemaDocument("object")).toBe("the input schema must be a JSON Schema object, got string");
    expect(validateJsonSchemaDocument({ type: "string" })).toBe(
      '#/type: a tool\'s input schema must describe an object (type "object"), got "string"',
    );
  });

  it("names the first malformed keyword with a JSON pointer", () => {
    expect(validateJsonSchemaDocument({ properties: [] })).toBe("#/properties: expected an object of schemas");
    expect(validateJsonSchemaDocument({ required: "name" })).toBe("#/required: expected an array of property names");
    expect(validateJsonSchemaDocument({ required: [1] })).toBe("#/required: expected an array of property names");
    expect(validateJsonSchemaDocument({ properties: { a: { type: "float" } } })).toBe(
      "#/properties/a/type: expected one of null, boolean, string, number, integer, array, object or a non-empty list of them",
    );
    expect(validateJsonSchemaDocument({ properties: { a: { minLength: -1 } } })).toBe(
      "#/properties/a/minLength: expected a non-negative integer",
    );
    expect(validateJsonSchemaDocument({ properties: { a: { maximum: "9" } } })).toBe("#/properties/a/maximum: expected a number");
    expect(validateJsonSchemaDocument({ properties: { a: { multipleOf: 0 } } })).toBe("#/properties/a/multipleOf: expected a number > 0");
    expect(validateJsonSchemaDocument({ properties: { a: { enum: [] } } })).toBe("#/properties/a/enum: expected a non-empty array");
    expect(validateJsonSchemaDocument({ properties: { "a/b": 3 } })).toBe(
      "#/properties/a~1b: expected a schema (an object or a boolean), got number",
    );
    expect(validateJsonSchemaDocument({ anyOf: [] })).toBe("#/anyOf: expected a non-empty array of schemas");
    expect(validateJsonSchemaDocument({ items: [{ type: "string" }, "x"] })).toBe(
      "#/items/1: expected a schema (an object or a boolean), got string",
    );
    expect(validateJsonSchemaDocument({ additionalProperties: "no" })).toBe(
      "#/additionalProperties: expected a schema (an object or a boolean), got string",
    );
    expect(validateJsonSchemaDocument({ if: { type: "string" }, else: 1 })).toBe(
      "#/else: expected a schema (an object or a boolean), got number",
    );
  });

  it("rejects patterns that do not compile as Unicode regular expressions", () => {
    expect(validateJsonSchemaDocument({ properties: { a: { pattern: "(" } } })).toBe(
      '#/properties/a/pattern: the schema\'s pattern "(" is not a valid regular expression',
    );
    expect(validateJsonSchemaDocument({ patternProperties: { "[": {} } })).toBe(
      '#/patternProperties: the schema\'s pattern "[" is not a valid regular expression',
    );
  });

  it("rejects a $ref the validator could not follow, and accepts the ones it can", () => {
    expect(validateJsonSchemaDocument({ properties: { a: { $ref: "#/$defs/Nope" } } })).toBe(
      '#/properties/a/$ref: the schema\'s $ref "#/$defs/Nope" does not resolve inside the schema (other documents are not fetched)',
    );
    expect(validateJsonSchemaDocument({ properties: { a: { $ref: "https://example.com/schema.json" } } })).toBe(
      '#/properties/a/$ref: the schema\'s $ref "https://example.com/schema.json" does not resolve inside the schema (other documents are not fetched)',
    );
    // References the validator resolves: the root, JSON pointer escapes, an `$anchor`, and an `$id` inside the schema.
    const schema = {
      type: "object",
      properties: {
        self: { $ref: "#" },
        escaped: { $ref: "#/$defs/a~1b" },
        anchored: { $ref: "#name" },
        identified: { $ref: "https://example.com/count" },
      },
      $defs: {
        "a/b": { type: "null" },
        Name: { $anchor: "name", type: "string" },
        Count: { $id: "https://example.com/count", type: "integer" },
      },
    };
    expect(validateJsonSchemaDocument(schema)).toBeUndefined();
    expect(validateJsonSchema(schema, { anchored: "Ada", identified: 3, escaped: null })).toEqual({ valid: true });
    expect(validateJsonSchema(schema, { identified: "three" })).toMatchObject({ valid: false, path: "$.identified" });
    expect(validateJsonSchema(schema, { anchored: 1 })).toMatchObject({ valid: false, path: "$.anchored" });
  });

  it("rejects a schema object that contains itself", () => {
    const properties: Record<string, unknown> = {};
    const schema = { type: "object", properties };
    properties.self = schema;
    expect(validateJsonSchemaDocument(schema)).toBe("#/properties/self: the schema nests too deeply or contains itself");
  });
});
