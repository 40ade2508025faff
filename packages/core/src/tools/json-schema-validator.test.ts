import type { JsonObject, JsonValue } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { formatJsonPath, pointerToSegments } from "./json-path.js";
import { validateJsonSchema } from "./json-schema-validator.js";

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
    expect(messageFor({ type: "string" }, 3)).toBe('$: Instance type "number" is invalid. Expected "string".');
    expect(messageFor({ type: "boolean" }, "false")).toBe('$: Instance type "string" is invalid. Expected "boolean".');
    expect(messageFor({ type: "null" }, null)).toBeUndefined();
    expect(messageFor({ type: "array" }, {})).toBe('$: Instance type "object" is invalid. Expected "array".');
    expect(messageFor({ type: "object" }, [])).toBe('$: Instance type "array" is invalid. Expected "object".');
    expect(messageFor({ type: "object" }, null)).toBe('$: Instance type "null" is invalid. Expected "object".');
    expect(messageFor({ type: ["string", "null"] }, null)).toBeUndefined();
    expect(messageFor({ type: ["string", "null"] }, 1)).toBe('$: Instance type "number" is invalid. Expected "string", "null".');
  });

  it("treats integer as a number without a fraction", () => {
    expect(messageFor({ type: "integer" }, 4)).toBeUndefined();
    expect(messageFor({ type: "integer" }, 4.0)).toBeUndefined();
    expect(messageFor({ type: "integer" }, 4.5)).toBe('$: Instance type "number" is invalid. Expected "integer".');
    expect(messageFor({ type: "number" }, 4.5)).toBeUndefined();
  });

  it("checks enum and const with JSON equality", () => {
    expect(messageFor({ enum: ["a", 1, { k: [true] }] }, { k: [true] })).toBeUndefined();
    expect(messageFor({ enum: ["a", 1] }, "b")).toBe('$: Instance does not match any of ["a",1].');
    expect(messageFor({ enum: [{ k: 1 }] }, { k: 1, extra: 2 })).toBe('$: Instance does not match any of [{"k":1}].');
    expect(messageFor({ const: "fixed" }, "fixed")).toBeUndefined();
    expect(messageFor({ const: "fixed" }, "other")).toBe('$: Instance does not match "fixed".');
  });

  it("keeps messages short when the value is a huge string", () => {
    const message = messageFor({ enum: ["a"] }, "x".repeat(100_000)) ?? "";
    expect(message).toBe('$: Instance does not match any of ["a"].');
  });

  it("counts string lengths in code points, not UTF-16 units", () => {
    const emoji = "😀😀"; // four UTF-16 units, two code points
    expect(messageFor({ type: "string", maxLength: 2 }, emoji)).toBeUndefined();
    expect(messageFor({ type: "string", minLength: 3 }, emoji)).toBe("$: String is too short (2 < 3).");
    expect(messageFor({ type: "string", maxLength: 1 }, emoji)).toBe("$: String is too long (2 > 1).");
  });

  it("matches patterns as Unicode regular expressions, unanchored", () => {
    expect(messageFor({ pattern: "^[a-z]+$" }, "abc")).toBeUndefined();
    expect(messageFor({ pattern: "b" }, "abc")).toBeUndefined();
    expect(messageFor({ pattern: "^[a-z]+$" }, "ab1")).toBe("$: String does not match pattern.");
    // With the `u` flag `.` is one code point, so an emoji is one character.
    expect(messageFor({ pattern: "^.$" }, "😀")).toBeUndefined();
    expect(messageFor({ pattern: "^\\p{Lu}" }, "Émile")).toBeUndefined();
  });

  it("reports a pattern it cannot compile as a failure instead of throwing", () => {
    expect(messageFor({ pattern: "([a-z" }, "abc")).toMatch(/^\$: the schema could not be applied: Invalid regular expression/);
    // Valid without the `u` flag, invalid with it: patterns are compiled as Unicode.
    expect(messageFor({ pattern: "\\-\\a" }, "abc")).toMatch(/^\$: the schema could not be applied: Invalid regular expression/);
  });

  it("checks numeric bounds and multipleOf", () => {
    expect(messageFor({ minimum: 1 }, 1)).toBeUndefined();
    expect(messageFor({ minimum: 1 }, 0.5)).toBe("$: 0.5 is less than 1.");
    expect(messageFor({ maximum: 1 }, 2)).toBe("$: 2 is greater than 1.");
    expect(messageFor({ exclusiveMinimum: 1 }, 1)).toBe("$: 1 is less than 1.");
    expect(messageFor({ exclusiveMaximum: 1 }, 1)).toBe("$: 1 is greater than or equal to 1.");
    // Decimal arithmetic: 0.3 is a multiple of 0.1 although 0.3 / 0.1 is not an integer in binary floating point.
    expect(messageFor({ multipleOf: 0.1 }, 0.3)).toBeUndefined();
    expect(messageFor({ multipleOf: 2 }, 7)).toBe("$: 7 is not a multiple of 2.");
  });

  it("checks item counts and property counts", () => {
    expect(messageFor({ minItems: 1, maxItems: 2 }, [1])).toBeUndefined();
    expect(messageFor({ minItems: 1 }, [])).toBe("$: Array has too few items (0 < 1).");
    expect(messageFor({ maxItems: 2 }, [1, 2, 3])).toBe("$: Array has too many items (3 > 2).");
    expect(messageFor({ minProperties: 1 }, {})).toBe("$: Instance does not have at least 1 properties.");
    expect(messageFor({ minProperties: 1, maxProperties: 1 }, { a: 1 })).toBeUndefined();
  });

  it("checks every item against items, and tuples written as prefixItems or as an items list", () => {
    expect(messageFor({ type: "array", items: { type: "integer" } }, [1, 2, "3", "4"])).toBe(
      '$[2]: Instance type "string" is invalid. Expected "integer".',
    );
    const modern: JsonObject = { prefixItems: [{ type: "string" }, { type: "number" }], items: false };
    expect(messageFor(modern, ["a", 1])).toBeUndefined();
    expect(messageFor(modern, ["a", "b"])).toBe('$[1]: Instance type "string" is invalid. Expected "number".');
    expect(messageFor(modern, ["a", 1, true])).toBe("$[2]: no value is allowed here (the schema is false)");
    const legacy: JsonObject = { items: [{ type: "string" }], additionalItems: { type: "null" } };
    expect(messageFor(legacy, ["a", null])).toBeUndefined();
    expect(messageFor(legacy, ["a", 1])).toBe('$[1]: Instance type "number" is invalid. Expected "null".');
  });

  it("checks required properties before the properties themselves", () => {
    const schema: JsonObject = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name"] };
    expect(messageFor(schema, { name: "Ada" })).toBeUndefined();
    expect(messageFor(schema, { age: 3 })).toBe('$: Instance does not have required property "name".');
    expect(messageFor(schema, { name: "Ada", age: "old" })).toBe('$.age: Instance type "string" is invalid. Expected "integer".');
    expect(messageFor(schema, { age: "old" })).toBe('$: Instance does not have required property "name".');
    // An inherited name is not a property of the value.
    expect(messageFor({ required: ["toString"] }, {})).toBe('$: Instance does not have required property "toString".');
  });

  it("rejects unknown properties when additionalProperties is false, and checks them against a schema", () => {
    const closed: JsonObject = { properties: { a: {} }, additionalProperties: false };
    expect(messageFor(closed, { a: 1 })).toBeUndefined();
    expect(messageFor(closed, { a: 1, b: 2 })).toBe("$.b: property is not allowed (the schema has additionalProperties: false)");
    // `__proto__` from JSON.parse is an own property like any other.
    expect(messageFor(closed, JSON.parse('{"__proto__": 1}'))).toBe(
      "$.__proto__: property is not allowed (the schema has additionalProperties: false)",
    );
    const typed: JsonObject = { properties: { a: { type: "string" } }, additionalProperties: { type: "number" } };
    expect(messageFor(typed, { a: "x", b: 1 })).toBeUndefined();
    expect(messageFor(typed, { a: "x", b: "y" })).toBe('$.b: Instance type "string" is invalid. Expected "number".');
  });

  it("applies patternProperties and checks property names", () => {
    const schema: JsonObject = { patternProperties: { "^x-": { type: "string" } }, additionalProperties: false };
    expect(messageFor(schema, { "x-a": "ok" })).toBeUndefined();
    expect(messageFor(schema, { "x-a": 1 })).toBe('$["x-a"]: Instance type "number" is invalid. Expected "string".');
    expect(messageFor(schema, { y: "ok" })).toBe("$.y: property is not allowed (the schema has additionalProperties: false)");
    expect(messageFor({ propertyNames: { enum: ["a", "b"] } }, { a: 1, c: 2 })).toBe(
      '$.c: invalid property name: Instance does not match any of ["a","b"].',
    );
  });

  it("checks nested objects and reports the deepest failure with its path", () => {
    const schema: JsonObject = {
      type: "object",
      properties: {
        user: {
          type: "object",
          properties: { address: { type: "object", properties: { city: { type: "string", minLength: 1 } }, required: ["city"] } },
          required: ["address"],
        },
      },
    };
    expect(messageFor(schema, { user: { address: { city: "Paris" } } })).toBeUndefined();
    expect(messageFor(schema, { user: { address: { city: "" } } })).toBe("$.user.address.city: String is too short (0 < 1).");
    expect(messageFor(schema, { user: { address: {} } })).toBe('$.user.address: Instance does not have required property "city".');
    expect(messageFor(schema, { user: { address: { city: "Paris" } }, extra: true })).toBeUndefined();
  });

  it("requires every allOf branch", () => {
    const schema: JsonObject = { properties: { a: { allOf: [{ type: "string" }, { minLength: 2 }] } } };
    expect(messageFor(schema, { a: "ab" })).toBeUndefined();
    expect(messageFor(schema, { a: "a" })).toBe("$.a: String is too short (1 < 2).");
  });

  it("lists the anyOf alternatives when none matches", () => {
    const schema: JsonObject = { anyOf: [{ type: "string" }, { type: "integer" }] };
    expect(messageFor(schema, "a")).toBeUndefined();
    expect(messageFor(schema, 2)).toBeUndefined();
    expect(messageFor(schema, true)).toBe(
      '$: Instance does not match any subschemas. ($: Instance type "boolean" is invalid. Expected "string".; $: Instance type "boolean" is invalid. Expected "integer".)',
    );
  });

  it("reports the field of the only anyOf alternative whose type fits (a nullable object)", () => {
    const schema: JsonObject = { anyOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "null" }] };
    expect(messageFor(schema, null)).toBeUndefined();
    expect(messageFor(schema, { a: 1 })).toBe('$.a: Instance type "number" is invalid. Expected "string".');
  });

  it("lists only the alternatives that accept the type when several do", () => {
    const schema: JsonObject = {
      anyOf: [{ type: "string", minLength: 3 }, { type: "string", pattern: "^[0-9]+$" }, { type: "null" }],
    };
    expect(messageFor(schema, "ab")).toBe(
      "$: Instance does not match any subschemas. ($: String is too short (2 < 3).; $: String does not match pattern.)",
    );
  });

  it("requires exactly one oneOf alternative", () => {
    const schema: JsonObject = { oneOf: [{ type: "integer" }, { minimum: 10 }] };
    expect(messageFor(schema, 3)).toBeUndefined();
    expect(messageFor(schema, 10.5)).toBeUndefined();
    expect(messageFor(schema, 12)).toBe("$: Instance does not match exactly one subschema (2 matches).");
    // The integer alternative is rejected for its type alone, so the other alternative's failure is the one reported.
    expect(messageFor(schema, 2.5)).toBe("$: 2.5 is less than 10.");
  });

  it("rejects values matching not, and everything for a false schema", () => {
    expect(messageFor({ not: { type: "null" } }, 1)).toBeUndefined();
    expect(messageFor({ not: { type: "null" } }, null)).toBe('$: Instance matched "not" schema.');
    expect(messageFor({ properties: { a: false } }, { a: 1 })).toBe("$.a: no value is allowed here (the schema is false)");
    expect(messageFor({ properties: { a: true } }, { a: 1 })).toBeUndefined();
  });

  it("checks formats and ignores annotations", () => {
    const schema: JsonObject = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "T",
      description: "d",
      default: 1,
      examples: [],
      format: "email",
    };
    expect(messageFor(schema, "ada@example.com")).toBeUndefined();
    expect(messageFor(schema, "not an email")).toBe('$: String does not match format "email".');
    expect(messageFor({ format: "a-format-nobody-knows" }, "anything")).toBeUndefined();
  });

  it("does not change the caller's schema, even a frozen one", () => {
    const schema: JsonObject = Object.freeze({
      properties: Object.freeze({ a: Object.freeze({ $ref: "#/$defs/Name" }) }),
      $defs: Object.freeze({ Name: Object.freeze({ type: "string" }) }),
    });
    const before = JSON.stringify(schema);
    expect(messageFor(schema, { a: 1 })).toBe('$.a: Instance type "number" is invalid. Expected "string".');
    expect(Object.getOwnPropertyNames(schema.properties)).toEqual(["a"]);
    expect(JSON.stringify(schema)).toBe(before);
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
    expect(messageFor(schema, { a: 1 })).toBe('$.a: Instance type "number" is invalid. Expected "string".');
    expect(messageFor(schema, { a: "x", b: 1.5 })).toBe('$.b: Instance type "number" is invalid. Expected "integer".');
  });

  it("follows JSON pointer escapes and a reference to the root", () => {
    const escaped: JsonObject = { properties: { a: { $ref: "#/$defs/a~1b~0c" } }, $defs: { "a/b~c": { type: "null" } } };
    expect(messageFor(escaped, { a: null })).toBeUndefined();
    expect(messageFor(escaped, { a: 1 })).toBe('$.a: Instance type "number" is invalid. Expected "null".');
    // zod writes a recursive root as `$ref: "#"`.
    const tree: JsonObject = { type: "object", properties: { children: { type: "array", items: { $ref: "#" } } } };
    expect(messageFor(tree, { children: [{ children: [] }] })).toBeUndefined();
    expect(messageFor(tree, { children: [{ children: [3] }] })).toBe(
      '$.children[0].children[0]: Instance type "number" is invalid. Expected "object".',
    );
  });

  it("reports a reference that does not resolve as a failure, in one line", () => {
    expect(messageFor({ $ref: "#/$defs/Missing" }, 1)).toBe('$: the schema could not be applied: Unresolved $ref "#/$defs/Missing".');
    expect(messageFor({ $ref: "https://example.com/schema.json" }, 1)).toBe(
      '$: the schema could not be applied: Unresolved $ref "https://example.com/schema.json".',
    );
  });
});

describe("validateJsonSchema: paths, order and hostile values", () => {
  it("renders paths with dots, indexes and quoted keys", () => {
    const schema: JsonObject = {
      properties: {
        items: { items: { properties: { name: { type: "string" }, "odd key": { type: "string" }, "7": { type: "string" } } } },
      },
    };
    expect(validateJsonSchema(schema, { items: [{}, {}, { name: 1 }] })).toEqual({
      valid: false,
      path: "$.items[2].name",
      reason: 'Instance type "number" is invalid. Expected "string".',
      message: '$.items[2].name: Instance type "number" is invalid. Expected "string".',
    });
    expect(messageFor(schema, { items: [{ "odd key": 1 }] })).toBe(
      '$.items[0]["odd key"]: Instance type "number" is invalid. Expected "string".',
    );
    // A key made of digits is a key, not an index: the value decides.
    expect(messageFor(schema, { items: [{ "7": 1 }] })).toBe('$.items[0]["7"]: Instance type "number" is invalid. Expected "string".');
    expect(formatJsonPath(["a", 0, "b c", "$d"])).toBe('$.a[0]["b c"].$d');
  });

  it("decodes instance locations written as URI-encoded JSON pointers", () => {
    const value = { "a/b": [{ "x y": { "%": 1 } }] };
    expect(pointerToSegments("#/a~1b/0/x%20y/%25", value)).toEqual(["a/b", 0, "x y", "%"]);
    expect(pointerToSegments("#", value)).toEqual([]);
  });

  it("reports the first failure in document order", () => {
    const schema: JsonObject = { properties: { first: { type: "string" }, second: { type: "string" } } };
    expect(messageFor(schema, { first: 1, second: 2 })).toBe('$.first: Instance type "number" is invalid. Expected "string".');
    expect(messageFor({ items: { type: "string" } }, ["a", 1, 2])).toBe('$[1]: Instance type "number" is invalid. Expected "string".');
  });

  it("fails closed on a value nested deeper than the stack, instead of throwing", () => {
    const recursive: JsonObject = { type: "object", properties: { child: { $ref: "#" } } };
    expect(messageFor(recursive, nestedObject(64, {}))).toBeUndefined();
    expect(validateJsonSchema(recursive, nestedObject(100_000, {}))).toEqual({
      valid: false,
      path: "$",
      reason: "the schema could not be applied: Maximum call stack size exceeded",
      message: "$: the schema could not be applied: Maximum call stack size exceeded",
    });
  });

  it("does not descend into deep values the schema does not describe", () => {
    expect(messageFor({ type: "object" }, nestedObject(100_000))).toBeUndefined();
  });

  it("fails closed on a value that is not JSON", () => {
    expect(messageFor({ type: "object" }, undefined)).toBe(
      '$: the schema could not be applied: Instances of "undefined" type are not supported.',
    );
  });

  it("validates a huge array", () => {
    const values = Array.from({ length: 50_000 }, (_, index) => index);
    expect(messageFor({ items: { type: "integer" } }, values)).toBeUndefined();
    values[49_999] = 0.5;
    expect(messageFor({ items: { type: "integer" } }, values)).toBe('$[49999]: Instance type "number" is invalid. Expected "integer".');
  });
});
