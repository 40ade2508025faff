import type { JsonObject } from "@lash/protocol";

/** The result of validating a value against a JSON Schema. */
export type JsonSchemaValidationResult =
  | { readonly valid: true }
  | { readonly valid: false; readonly path: string; readonly reason: string; readonly message: string };

const MAX_DEPTH = 64;

type Failure = { path: string; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return false;
  }
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right)) return left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length && keys.every((key) => deepEqual(left[key], right[key]));
  }
  return false;
}

function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

class Validator {
  readonly #root: Record<string, unknown>;

  constructor(root: Record<string, unknown>) {
    this.#root = root;
  }

  #resolve(reference: string): Record<string, unknown> | undefined {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(reference);
    if (!match) return undefined;
    const definitions = this.#root[match[1] as string];
    const name = (match[2] as string).replaceAll("~1", "/").replaceAll("~0", "~");
    const target = isObject(definitions) ? definitions[name] : undefined;
    return isObject(target) ? target : undefined;
  }

  check(schema: unknown, value: unknown, path: string, depth: number): Failure | undefined {
    if (depth > MAX_DEPTH) return { path, reason: `value is nested deeper than ${MAX_DEPTH} levels` };
    if (schema === true || schema === undefined) return undefined;
    if (schema === false) return { path, reason: "no value is allowed here" };
    if (!isObject(schema)) return undefined;
    if (typeof schema["$ref"] === "string") {
      const target = this.#resolve(schema["$ref"]);
      if (!target) return { path, reason: `the schema's $ref ${JSON.stringify(schema["$ref"])} is not a local definition` };
      const failure = this.check(target, value, path, depth + 1);
      if (failure) return failure;
    }
    const type = schema["type"];
    if (typeof type === "string" || Array.isArray(type)) {
      const types = (Array.isArray(type) ? type : [type]).filter((entry): entry is string => typeof entry === "string");
      if (!types.some((entry) => matchesType(value, entry))) return { path, reason: `expected ${types.join(" or ")}, got ${typeOf(value)}` };
    }
    if (Array.isArray(schema["enum"]) && !schema["enum"].some((candidate) => deepEqual(candidate, value))) {
      return { path, reason: `expected one of ${schema["enum"].map((candidate) => JSON.stringify(candidate)).join(", ")}` };
    }
    if ("const" in schema && !deepEqual(schema["const"], value)) return { path, reason: `expected ${JSON.stringify(schema["const"])}` };
    const combination = this.#combinations(schema, value, path, depth);
    if (combination) return combination;
    if (typeof value === "string") {
      const failure = this.#string(schema, value, path);
      if (failure) return failure;
    }
    if (typeof value === "number") {
      const failure = this.#number(schema, value, path);
      if (failure) return failure;
    }
    if (Array.isArray(value)) return this.#array(schema, value, path, depth);
    if (isObject(value)) return this.#object(schema, value, path, depth);
    return undefined;
  }

  #combinations(schema: Record<string, unknown>, value: unknown, path: string, depth: number): Failure | undefined {
    if (Array.isArray(schema["allOf"])) {
      for (const branch of schema["allOf"]) {
        const failure = this.check(branch, value, path, depth + 1);
        if (failure) return failure;
      }
    }
    if (Array.isArray(schema["anyOf"])) {
      const failures = schema["anyOf"].map((branch) => this.check(branch, value, path, depth + 1));
      if (!failures.some((failure) => failure === undefined)) {
        return { path, reason: `value matches none of the allowed shapes (${failures.map((failure) => failure?.reason).join("; ")})` };
      }
    }
    if (Array.isArray(schema["oneOf"])) {
      const matches = schema["oneOf"].filter((branch) => this.check(branch, value, path, depth + 1) === undefined).length;
      if (matches !== 1) return { path, reason: matches === 0 ? "value matches none of the oneOf shapes" : `value matches ${matches} oneOf shapes, expected exactly one` };
    }
    return undefined;
  }

  #string(schema: Record<string, unknown>, value: string, path: string): Failure | undefined {
    const length = codePointLength(value);
    if (typeof schema["minLength"] === "number" && length < schema["minLength"]) return { path, reason: `expected at least ${schema["minLength"]} characters, got ${length}` };
    if (typeof schema["maxLength"] === "number" && length > schema["maxLength"]) return { path, reason: `expected at most ${schema["maxLength"]} characters, got ${length}` };
    if (typeof schema["pattern"] === "string") {
      let pattern: RegExp;
      try {
        pattern = new RegExp(schema["pattern"], "u");
      } catch {
        return { path, reason: `the schema's pattern ${JSON.stringify(schema["pattern"])} is not a valid regular expression` };
      }
      if (!pattern.test(value)) return { path, reason: `expected to match the pattern ${JSON.stringify(schema["pattern"])}` };
    }
    return undefined;
  }

  #number(schema: Record<string, unknown>, value: number, path: string): Failure | undefined {
    if (typeof schema["minimum"] === "number" && value < schema["minimum"]) return { path, reason: `expected a value >= ${schema["minimum"]}, got ${value}` };
    if (typeof schema["maximum"] === "number" && value > schema["maximum"]) return { path, reason: `expected a value <= ${schema["maximum"]}, got ${value}` };
    if (typeof schema["exclusiveMinimum"] === "number" && value <= schema["exclusiveMinimum"]) return { path, reason: `expected a value > ${schema["exclusiveMinimum"]}, got ${value}` };
    if (typeof schema["exclusiveMaximum"] === "number" && value >= schema["exclusiveMaximum"]) return { path, reason: `expected a value < ${schema["exclusiveMaximum"]}, got ${value}` };
    return undefined;
  }

  #array(schema: Record<string, unknown>, value: unknown[], path: string, depth: number): Failure | undefined {
    if (typeof schema["minItems"] === "number" && value.length < schema["minItems"]) return { path, reason: `expected at least ${schema["minItems"]} items, got ${value.length}` };
    if (typeof schema["maxItems"] === "number" && value.length > schema["maxItems"]) return { path, reason: `expected at most ${schema["maxItems"]} items, got ${value.length}` };
    if (schema["items"] !== undefined && !Array.isArray(schema["items"])) {
      for (const [index, item] of value.entries()) {
        const failure = this.check(schema["items"], item, childPath(path, index), depth + 1);
        if (failure) return failure;
      }
    }
    return undefined;
  }

  #object(schema: Record<string, unknown>, value: Record<string, unknown>, path: string, depth: number): Failure | undefined {
    if (Array.isArray(schema["required"])) {
      for (const key of schema["required"]) {
        if (typeof key === "string" && !Object.hasOwn(value, key)) return { path, reason: `missing required property ${JSON.stringify(key)}` };
      }
    }
    const properties = isObject(schema["properties"]) ? schema["properties"] : {};
    for (const [key, entry] of Object.entries(value)) {
      if (Object.hasOwn(properties, key)) {
        const failure = this.check(properties[key], entry, childPath(path, key), depth + 1);
        if (failure) return failure;
      } else if (schema["additionalProperties"] === false) {
        return { path: childPath(path, key), reason: "unexpected property" };
      } else if (isObject(schema["additionalProperties"])) {
        const failure = this.check(schema["additionalProperties"], entry, childPath(path, key), depth + 1);
        if (failure) return failure;
      }
    }
    return undefined;
  }
}

/**
 * Validates a value against a JSON Schema (the subset tools use: type, enum, const, anyOf, oneOf,
 * allOf, properties, required, additionalProperties, items, min/max items and length, numeric
 * bounds, pattern, local `$ref`s). The first failure wins; its message is `"<path>: <reason>"`.
 */
export function validateJsonSchema(schema: JsonObject, value: unknown): JsonSchemaValidationResult {
  const failure = new Validator(schema).check(schema, value, "$", 0);
  if (!failure) return { valid: true };
  return { valid: false, path: failure.path, reason: failure.reason, message: `${failure.path}: ${failure.reason}` };
}

/** Checks that a tool's schema document is usable; returns a description of the problem, if any. */
export function validateJsonSchemaDocument(schema: unknown): string | undefined {
  if (!isObject(schema)) return "the input schema must be a JSON object";
  if (schema["properties"] !== undefined && !isObject(schema["properties"])) return "`properties` must be an object";
  if (schema["required"] !== undefined && (!Array.isArray(schema["required"]) || !schema["required"].every((key) => typeof key === "string"))) {
    return "`required` must be an array of strings";
  }
  if (schema["type"] !== undefined && schema["type"] !== "object") return "a tool's input schema must describe an object (`type: \"object\"`)";
  return undefined;
}
