import type { JsonObject, JsonValue } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { formatJsonPath, MAX_VALUE_DEPTH, validateJsonSchema, validateJsonSchemaDocument } from "./json-schema-validator.js";

/** The failure message, or `undefined` when the value is valid. */
function messageFor(schema: JsonObject, value: unknown): string | undefined {
  const result = validateJsonSchema(schema, value);
  return result.valid ? undefined : result.message;
}

/** Nests `value` under `depth` levels of `{ child: ... }`. */
function nestedObject(depth: number, value: JsonValue = null): JsonValue {
  let nested = value;
  for (let level = 0; level < depth; level += 1) nested = { child: nested };
  return nested;
}

describe("validateJsonSchema: keywords", () => {
  it("checks type names, including unions, integer and null", () => {
    expect(messageFor({ type: "string" }, "text")).toBeUndefined();
    expect(messageFor({ type: "string" }, 3)).toBe("$: expected string, got number");
    expect(messageFor({ type: "boolean" }, false)).toBeUndefined();
    expect(messageFor({ type: "boolean" }, "false")).toBe("$: expected boolean, got string");
    expect(messageFor({ type: "null" }, null)).toBeUndefined();
    expect(messageFor({ type: "null" }, 0)).toBe("$: expected null, got number");
    expect(messageFor({ type: "array" }, [])).toBeUndefined();
    expect(messageFor({ type: "array" }, {})).toBe("$: expected array, got object");
    expect(messageFor({ type: "object" }, {})).toBeUndefined();
    expect(messageFor({ type: "object" }, [])).toBe("$: expected object, got array");
    expect(messageFor({ type: "object" }, null)).toBe("$: expected object, got null");
    expect(messageFor({ type: ["string", "null"] }, null)).toBeUndefined();
    expect(messageFor({ type: ["string", "null"] }, 1)).toBe("$: expected string or null, got number");
  });

  it("treats integer as a finite integer and number as a finite number", () => {
    expect(messageFor({ type: "integer" }, 4)).toBeUndefined();
    expect(messageFor({ type: "integer" }, 4.0)).toBeUndefined();
    expect(messageFor({ type: "integer" }, 4.5)).toBe("$: expected integer, got number");
    expect(messageFor({ type: "integer" }, Number.POSITIVE_INFINITY)).toBe("$: expected integer, got Infinity");
    expect(messageFor({ type: "number" }, 4.5)).toBeUndefined();
    expect(messageFor({ type: "number" }, Number.NaN)).toBe("$: expected number, got NaN");
    expect(messageFor({ type: "number" }, Number.NEGATIVE_INFINITY)).toBe("$: expected number, got -Infinity");
  });

  it("checks enum and const with JSON equality", () => {
    expect(messageFor({ enum: ["a", 1, { k: [true] }] }, { k: [true] })).toBeUndefined();
    expect(messageFor({ enum: ["a", 1] }, "b")).toBe('$: expected one of "a", 1, got "b"');
    expect(messageFor({ enum: [{ k: 1 }] }, { k: 1, extra: 2 })).toBe('$: expected one of {"k":1}, got an object');
    expect(messageFor({ const: "fixed" }, "fixed")).toBeUndefined();
    expect(messageFor({ const: "fixed" }, "other")).toBe('$: expected "fixed", got "other"');
    expect(messageFor({ const: null }, 0)).toBe("$: expected null, got 0");
  });

  it("keeps messages short when the value is a huge string", () => {
    const message = messageFor({ enum: ["a"] }, "x".repeat(100_000)) ?? "";
    expect(message).toBe(`$: expected one of "a", got "${"x".repeat(40)}…"`);
  });

  it("counts string lengths in code points, not UTF-16 units", () => {
    const emoji = "😀😀"; // four UTF-16 units, two code points
    expect(messageFor({ type: "string", maxLength: 2 }, emoji)).toBeUndefined();
    expect(messageFor({ type: "string", minLength: 3 }, emoji)).toBe("$: expected at least 3 characters, got 2");
    expect(messageFor({ type: "string", maxLength: 1 }, emoji)).toBe("$: expected at most 1 characters, got 2");
    expect(messageFor({ type: "string", minLength: 2 }, "ab")).toBeUndefined();
    expect(messageFor({ type: "string", minLength: 2 }, "a")).toBe("$: expected at least 2 characters, got 1");
    expect(messageFor({ type: "string", maxLength: 2 }, "abc")).toBe("$: expected at most 2 characters, got 3");
  });

  it("matches patterns as Unicode regular expressions, unanchored", () => {
    expect(messageFor({ pattern: "^[a-z]+$" }, "abc")).toBeUndefined();
    expect(messageFor({ pattern: "b" }, "abc")).toBeUndefined();
    expect(messageFor({ pattern: "^[a-z]+$" }, "ab1")).toBe('$: expected a string matching the pattern "^[a-z]+$"');
    // With the `u` flag `.` is one code point, so an emoji is one character.
    expect(messageFor({ pattern: "^.$" }, "😀")).toBeUndefined();
    expect(messageFor({ pattern: "^\\p{Lu}" }, "Émile")).toBeUndefined();
  });

  it("reports an invalid pattern as a failure naming it instead of throwing", () => {
    expect(messageFor({ pattern: "([a-z" }, "abc")).toBe('$: the schema\'s pattern "([a-z" is not a valid regular expression');
    // Valid without the `u` flag, invalid with it: patterns are compiled as Unicode.
    expect(messageFor({ pattern: "\\-\\a" }, "abc")).toBe('$: the schema\'s pattern "\\\\-\\\\a" is not a valid regular expression');
  });

  it("checks numeric bounds", () => {
    expect(messageFor({ minimum: 1 }, 1)).toBeUndefined();
    expect(messageFor({ minimum: 1 }, 0.5)).toBe("$: expected a number >= 1, got 0.5");
    expect(messageFor({ maximum: 1 }, 1)).toBeUndefined();
    expect(messageFor({ maximum: 1 }, 2)).toBe("$: expected a number <= 1, got 2");
    expect(messageFor({ exclusiveMinimum: 1 }, 1.5)).toBeUndefined();
    expect(messageFor({ exclusiveMinimum: 1 }, 1)).toBe("$: expected a number > 1, got 1");
    expect(messageFor({ exclusiveMaximum: 1 }, 0)).toBeUndefined();
    expect(messageFor({ exclusiveMaximum: 1 }, 1)).toBe("$: expected a number < 1, got 1");
    expect(messageFor({ minimum: 0 }, Number.NaN)).toBe("$: expected a number >= 0, got NaN");
  });

  it("checks multipleOf with a floating point tolerance", () => {
    expect(messageFor({ multipleOf: 0.1 }, 0.3)).toBeUndefined();
    expect(messageFor({ multipleOf: 2 }, 6)).toBeUndefined();
    expect(messageFor({ multipleOf: 2 }, 7)).toBe("$: expected a multiple of 2, got 7");
  });

  it("checks item counts and property counts", () => {
    expect(messageFor({ minItems: 1, maxItems: 2 }, [1])).toBeUndefined();
    expect(messageFor({ minItems: 1 }, [])).toBe("$: expected at least 1 items, got 0");
    expect(messageFor({ maxItems: 2 }, [1, 2, 3])).toBe("$: expected at most 2 items, got 3");
    expect(messageFor({ minProperties: 1 }, {})).toBe("$: expected at least 1 properties, got 0");
    expect(messageFor({ maxProperties: 1 }, { a: 1, b: 2 })).toBe("$: expected at most 1 properties, got 2");
    expect(messageFor({ minProperties: 1, maxProperties: 1 }, { a: 1 })).toBeUndefined();
  });

  it("checks every item against items", () => {
    const schema: JsonObject = { type: "array", items: { type: "integer" } };
    expect(messageFor(schema, [1, 2, 3])).toBeUndefined();
    expect(messageFor(schema, [1, 2, "3", "4"])).toBe("$[2]: expected integer, got string");
  });

  it("checks tuples written as prefixItems (draft 2020-12) and as an items list (draft 7)", () => {
    const modern: JsonObject = { prefixItems: [{ type: "string" }, { type: "number" }], items: false };
    expect(messageFor(modern, ["a", 1])).toBeUndefined();
    expect(messageFor(modern, ["a", "b"])).toBe("$[1]: expected number, got string");
    expect(messageFor(modern, ["a", 1, true])).toBe("$: expected at most 2 items, got 3");
    const restTyped: JsonObject = { prefixItems: [{ type: "string" }], items: { type: "boolean" } };
    expect(messageFor(restTyped, ["a", true, false])).toBeUndefined();
    expect(messageFor(restTyped, ["a", true, 0])).toBe("$[2]: expected boolean, got number");
    const legacy: JsonObject = { items: [{ type: "string" }], additionalItems: { type: "null" } };
    expect(messageFor(legacy, ["a", null])).toBeUndefined();
    expect(messageFor(legacy, [1])).toBe("$[0]: expected string, got number");
    expect(messageFor(legacy, ["a", 1])).toBe("$[1]: expected null, got number");
  });

  it("checks required properties and property schemas", () => {
    const schema: JsonObject = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name"] };
    expect(messageFor(schema, { name: "Ada" })).toBeUndefined();
    expect(messageFor(schema, { age: 3 })).toBe('$: missing required property "name"');
    expect(messageFor(schema, { name: "Ada", age: "old" })).toBe("$.age: expected integer, got string");
    // An inherited name is not a property of the value.
    expect(messageFor({ required: ["toString"] }, {})).toBe('$: missing required property "toString"');
  });

  it("rejects unknown properties when additionalProperties is false", () => {
    const schema: JsonObject = { properties: { a: {} }, additionalProperties: false };
    expect(messageFor(schema, { a: 1 })).toBeUndefined();
    expect(messageFor(schema, { a: 1, b: 2 })).toBe("$.b: property is not allowed (the schema has additionalProperties: false)");
    // `__proto__` from JSON.parse is an own property like any other.
    expect(messageFor(schema, JSON.parse('{"__proto__": 1}'))).toBe(
      "$.__proto__: property is not allowed (the schema has additionalProperties: false)",
    );
  });

  it("checks unknown properties against an additionalProperties schema", () => {
    const schema: JsonObject = { properties: { a: { type: "string" } }, additionalProperties: { type: "number" } };
    expect(messageFor(schema, { a: "x", b: 1, c: 2 })).toBeUndefined();
    expect(messageFor(schema, { a: "x", b: "y" })).toBe("$.b: expected number, got string");
  });

  it("applies patternProperties and skips additionalProperties for the keys they match", () => {
    const schema: JsonObject = { patternProperties: { "^x-": { type: "string" } }, additionalProperties: false };
    expect(messageFor(schema, { "x-a": "ok" })).toBeUndefined();
    expect(messageFor(schema, { "x-a": 1 })).toBe('$["x-a"]: expected string, got number');
    expect(messageFor(schema, { y: "ok" })).toBe("$.y: property is not allowed (the schema has additionalProperties: false)");
  });

  it("checks property names against propertyNames", () => {
    const schema: JsonObject = { propertyNames: { enum: ["a", "b"] } };
    expect(messageFor(schema, { a: 1, b: 2 })).toBeUndefined();
    expect(messageFor(schema, { a: 1, c: 2 })).toBe('$.c: invalid property name: expected one of "a", "b", got "c"');
  });

  it("requires every allOf branch", () => {
    const schema: JsonObject = { allOf: [{ type: "string" }, { minLength: 2 }] };
    expect(messageFor(schema, "ab")).toBeUndefined();
    expect(messageFor(schema, "a")).toBe("$: expected at least 2 characters, got 1");
  });

  it("requires at least one anyOf branch and merges alternatives that only differ by type", () => {
    const schema: JsonObject = { anyOf: [{ type: "string" }, { type: "integer" }] };
    expect(messageFor(schema, "a")).toBeUndefined();
    expect(messageFor(schema, 2)).toBeUndefined();
    expect(messageFor(schema, true)).toBe("$: expected string or integer, got boolean");
  });

  it("reports the field of the only anyOf branch whose type fits (a nullable object)", () => {
    const schema: JsonObject = { anyOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "null" }] };
    expect(messageFor(schema, null)).toBeUndefined();
    expect(messageFor(schema, { a: 1 })).toBe("$.a: expected string, got number");
  });

  it("lists every branch when several branches accept the type", () => {
    const schema: JsonObject = {
      anyOf: [
        { type: "string", minLength: 3 },
        { type: "string", pattern: "^[0-9]+$" },
      ],
    };
    expect(messageFor(schema, "ab")).toBe(
      '$: the value matches none of the anyOf alternatives ($: expected at least 3 characters, got 2; $: expected a string matching the pattern "^[0-9]+$")',
    );
  });

  it("requires exactly one oneOf branch", () => {
    const schema: JsonObject = { oneOf: [{ type: "integer" }, { minimum: 10 }] };
    expect(messageFor(schema, 3)).toBeUndefined();
    expect(messageFor(schema, 10.5)).toBeUndefined();
    expect(messageFor(schema, 12)).toBe("$: expected exactly one oneOf alternative to match, but alternatives 0 and 1 match");
    // The integer alternative is rejected for its type alone, so the other alternative's failure is the one reported.
    expect(messageFor(schema, 2.5)).toBe("$: expected a number >= 10, got 2.5");
  });

  it("reports a discriminated union's failing branches with their paths", () => {
    const schema: JsonObject = {
      oneOf: [
        { type: "object", properties: { kind: { const: "a" } }, required: ["kind"] },
        { type: "object", properties: { kind: { const: "b" }, size: { type: "number" } }, required: ["kind", "size"] },
      ],
    };
    expect(messageFor(schema, { kind: "b", size: 1 })).toBeUndefined();
    expect(messageFor(schema, { kind: "b" })).toBe(
      '$: the value matches none of the oneOf alternatives ($.kind: expected "a", got "b"; $: missing required property "size")',
    );
  });

  it("rejects values matching not, and everything for a false schema", () => {
    expect(messageFor({ not: { type: "null" } }, 1)).toBeUndefined();
    expect(messageFor({ not: { type: "null" } }, null)).toBe('$: expected the value not to match the schema under "not"');
    expect(messageFor({ properties: { a: false } }, { a: 1 })).toBe("$.a: no value is allowed here");
    expect(messageFor({ properties: { a: true } }, { a: 1 })).toBeUndefined();
  });

  it("ignores keywords it does not know", () => {
    const schema: JsonObject = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "T",
      description: "d",
      default: 1,
      format: "email",
      examples: [],
    };
    expect(messageFor(schema, "not an email")).toBeUndefined();
  });

  it("fails closed on a malformed subschema instead of accepting anything", () => {
    expect(messageFor({ properties: { a: 3 } }, { a: 1 })).toBe(
      "$.a: the tool's schema is malformed here (a schema must be an object or a boolean)",
    );
  });
});

describe("validateJsonSchema: $ref", () => {
  it("follows #/$defs and #/definitions references", () => {
    const schema: JsonObject = {
      properties: { a: { $ref: "#/$defs/Name" }, b: { $ref: "#/definitions/Count" } },
      $defs: { Name: { type: "string" } },
      definitions: { Count: { type: "integer" } },
    };
    expect(messageFor(schema, { a: "x", b: 1 })).toBeUndefined();
    expect(messageFor(schema, { a: 1 })).toBe("$.a: expected string, got number");
    expect(messageFor(schema, { a: "x", b: 1.5 })).toBe("$.b: expected integer, got number");
  });

  it("follows JSON pointer escapes and a reference to the root", () => {
    const escaped: JsonObject = { properties: { a: { $ref: "#/$defs/a~1b~0c" } }, $defs: { "a/b~c": { type: "null" } } };
    expect(messageFor(escaped, { a: null })).toBeUndefined();
    expect(messageFor(escaped, { a: 1 })).toBe("$.a: expected null, got number");
    // zod writes a recursive root as `$ref: "#"`.
    const tree: JsonObject = { type: "object", properties: { children: { type: "array", items: { $ref: "#" } } } };
    expect(messageFor(tree, { children: [{ children: [] }] })).toBeUndefined();
    expect(messageFor(tree, { children: [{ children: [3] }] })).toBe("$.children[0].children[0]: expected object, got number");
  });

  it("fails on a reference that is missing or not local", () => {
    expect(messageFor({ $ref: "#/$defs/Missing" }, 1)).toBe('$: the schema\'s $ref "#/$defs/Missing" does not point into the schema');
    expect(messageFor({ $ref: "https://example.com/schema.json" }, 1)).toBe(
      '$: the schema\'s $ref "https://example.com/schema.json" is not supported (only local references such as "#/$defs/Name")',
    );
  });

  it("stops a reference loop that never consumes the value", () => {
    const schema: JsonObject = { $ref: "#/$defs/A", $defs: { A: { $ref: "#/$defs/B" }, B: { $ref: "#/$defs/A" } } };
    expect(messageFor(schema, 1)).toBe("$: the schema nests or references itself more than 512 levels deep here");
  });
});

describe("validateJsonSchema: paths, order and hostile values", () => {
  it("renders paths with dots, indexes and quoted keys", () => {
    const schema: JsonObject = {
      properties: { items: { items: { properties: { name: { type: "string" }, "odd key": { type: "string" } } } } },
    };
    expect(validateJsonSchema(schema, { items: [{}, {}, { name: 1 }] })).toEqual({
      valid: false,
      path: "$.items[2].name",
      reason: "expected string, got number",
      message: "$.items[2].name: expected string, got number",
    });
    expect(messageFor(schema, { items: [{ "odd key": 1 }] })).toBe('$.items[0]["odd key"]: expected string, got number');
    expect(formatJsonPath(["a", 0, "b c", "$d"])).toBe('$.a[0]["b c"].$d');
  });

  it("reports the first failure in document order", () => {
    const schema: JsonObject = { properties: { first: { type: "string" }, second: { type: "string" } } };
    expect(messageFor(schema, { first: 1, second: 2 })).toBe("$.first: expected string, got number");
    expect(messageFor(schema, { second: 2, first: 1 })).toBe("$.second: expected string, got number");
    // A node's own keywords come before its children.
    expect(messageFor({ ...schema, required: ["third"] }, { first: 1 })).toBe('$: missing required property "third"');
    expect(messageFor({ items: { type: "string" } }, ["a", 1, 2])).toBe("$[1]: expected string, got number");
  });

  it("caps the depth it follows in a hostile value instead of overflowing the stack", () => {
    const recursive: JsonObject = { type: "object", properties: { child: { $ref: "#" } } };
    expect(messageFor(recursive, nestedObject(MAX_VALUE_DEPTH, {}))).toBeUndefined();
    expect(messageFor(recursive, nestedObject(MAX_VALUE_DEPTH + 1, {}))).toBe(
      `$${".child".repeat(MAX_VALUE_DEPTH + 1)}: value is nested more than 64 levels deep`,
    );
    const path = `$${".child".repeat(MAX_VALUE_DEPTH + 1)}`;
    expect(validateJsonSchema(recursive, nestedObject(100_000, {}))).toEqual({
      valid: false,
      path,
      reason: `value is nested more than ${MAX_VALUE_DEPTH} levels deep`,
      message: `${path}: value is nested more than ${MAX_VALUE_DEPTH} levels deep`,
    });
  });

  it("does not descend into deep values the schema does not describe", () => {
    expect(messageFor({ type: "object" }, nestedObject(100_000))).toBeUndefined();
  });

  it("validates a huge array", () => {
    const values = Array.from({ length: 200_000 }, (_, index) => index);
    expect(messageFor({ items: { type: "integer" } }, values)).toBeUndefined();
    values[199_999] = 0.5;
    expect(messageFor({ items: { type: "integer" } }, values)).toBe("$[199999]: expected integer, got number");
  });
});

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
  });

  it("rejects invalid patterns and references that do not resolve", () => {
    expect(validateJsonSchemaDocument({ properties: { a: { pattern: "(" } } })).toBe(
      '#/properties/a/pattern: the schema\'s pattern "(" is not a valid regular expression',
    );
    expect(validateJsonSchemaDocument({ patternProperties: { "[": {} } })).toBe(
      '#/patternProperties: the schema\'s pattern "[" is not a valid regular expression',
    );
    expect(validateJsonSchemaDocument({ properties: { a: { $ref: "#/$defs/Nope" } } })).toBe(
      '#/properties/a/$ref: the schema\'s $ref "#/$defs/Nope" does not point into the schema',
    );
  });

  it("rejects a schema object that contains itself", () => {
    const properties: Record<string, unknown> = {};
    const schema = { type: "object", properties };
    properties.self = schema;
    expect(validateJsonSchemaDocument(schema)).toBe("#/properties/self: the schema nests too deeply or contains itself");
  });
});
