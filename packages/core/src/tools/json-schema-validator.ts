import type { JsonObject } from "@lash/protocol";

/** The result of validating a value against a JSON Schema. */
export type JsonSchemaValidationResult =
  | { readonly valid: true }
  | { readonly valid: false; readonly path: string; readonly reason: string; readonly message: string };

/** How deep the validator follows a value: arguments are untrusted, so depth fails instead of overflowing the stack. */
export const MAX_VALUE_DEPTH = 64;
/** How many subschemas (including `$ref` hops) may be open at once: stops `$ref` loops that never consume the value. */
const MAX_SCHEMA_DEPTH = 512;
/** Compiled patterns are reused across calls (validation runs for every tool call); the bound keeps memory flat. */
const MAX_CACHED_PATTERNS = 256;

type SchemaRecord = Readonly<Record<string, unknown>>;

/** A position in the value, kept as a linked list so that a path string is only built for a failure. */
interface PathNode {
  readonly parent: PathNode | undefined;
  readonly key: string | number;
  readonly depth: number;
}

interface Failure {
  readonly at: PathNode | undefined;
  readonly reason: string;
  /** Set by a `type` mismatch, so alternatives that only differ by type can be reported as one. */
  readonly expectedTypes?: readonly string[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isRecord(value: unknown): value is SchemaRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Renders a path such as `$.items[2].name`; keys that are not identifiers are quoted (`$["a b"]`). */
export function formatJsonPath(segments: Iterable<PropertyKey>): string {
  let path = "$";
  for (const key of segments) {
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "symbol") path += `[${String(key)}]`;
    else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

function renderPath(at: PathNode | undefined): string {
  const keys: (string | number)[] = [];
  for (let node = at; node; node = node.parent) keys.push(node.key);
  return formatJsonPath(keys.reverse());
}

function childNode(parent: PathNode | undefined, key: string | number): PathNode {
  return { parent, key, depth: (parent?.depth ?? 0) + 1 };
}

/** Names a value's JSON type for messages; non-finite numbers are named because they are not JSON numbers. */
function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/** A short rendering of a value for messages: the value is untrusted and may be huge. */
function preview(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return Array.isArray(value) ? "an array" : isRecord(value) ? "an object" : describeType(value);
}

function listValues(values: readonly unknown[]): string {
  const shown = values.slice(0, 10).map((candidate) => JSON.stringify(candidate) ?? String(candidate));
  return values.length > 10 ? `${shown.join(", ")}, …` : shown.join(", ");
}

/** `integer` and `number` must be finite: NaN and Infinity are not JSON numbers. */
const TYPE_CHECKS: Readonly<Record<string, (value: unknown) => boolean>> = {
  null: (value) => value === null,
  boolean: (value) => typeof value === "boolean",
  string: (value) => typeof value === "string",
  number: (value) => typeof value === "number" && Number.isFinite(value),
  integer: (value) => typeof value === "number" && Number.isInteger(value),
  array: (value) => Array.isArray(value),
  object: (value) => isRecord(value),
};

/** JSON equality for `enum` and `const`; recursion is bounded by the schema's (trusted) candidate. */
function jsonEqual(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((item, index) => jsonEqual(item, actual[index]));
  }
  if (!isRecord(expected) || !isRecord(actual)) return false;
  const keys = Object.keys(expected);
  return (
    keys.length === Object.keys(actual).length && keys.every((key) => Object.hasOwn(actual, key) && jsonEqual(expected[key], actual[key]))
  );
}

/** Counts Unicode code points (JSON Schema lengths), not UTF-16 units; a lone surrogate counts as one. */
function codePointLength(text: string): number {
  let count = text.length;
  for (let index = 0; index < text.length - 1; index += 1) {
    const code = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      count -= 1;
      index += 1;
    }
  }
  return count;
}

const patternCache = new Map<string, RegExp | null>();

/** Compiles a schema pattern with the `u` flag (JSON Schema patterns are Unicode); `undefined` when it is invalid. */
function compilePattern(source: string): RegExp | undefined {
  let compiled = patternCache.get(source);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(source, "u");
    } catch {
      compiled = null;
    }
    if (patternCache.size >= MAX_CACHED_PATTERNS) patternCache.clear();
    patternCache.set(source, compiled);
  }
  return compiled ?? undefined;
}

function invalidPattern(source: string): string {
  return `the schema's pattern ${JSON.stringify(source)} is not a valid regular expression`;
}

/** Resolves a local `$ref`: `#`, `#/$defs/Name`, `#/definitions/Name` or any JSON pointer into the root. */
function resolveReference(root: unknown, reference: string): { readonly schema: unknown } | { readonly error: string } {
  if (reference === "#") return { schema: root };
  if (!reference.startsWith("#/")) {
    return { error: `the schema's $ref ${JSON.stringify(reference)} is not supported (only local references such as "#/$defs/Name")` };
  }
  const missing = { error: `the schema's $ref ${JSON.stringify(reference)} does not point into the schema` };
  let target: unknown = root;
  // Tokens are matched literally apart from the JSON pointer escapes (`~1` is `/`, `~0` is `~`).
  for (const token of reference
    .slice(2)
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))) {
    if (Array.isArray(target) && /^(0|[1-9][0-9]*)$/.test(token)) target = target[Number(token)];
    else if (isRecord(target) && Object.hasOwn(target, token)) target = target[token];
    else return missing;
  }
  return target === undefined ? missing : { schema: target };
}

/** True for a schema that accepts everything, so the children it would apply to need not be visited. */
function acceptsAnything(schema: unknown): boolean {
  return schema === undefined || schema === true || (isRecord(schema) && Object.keys(schema).length === 0);
}

class Validator {
  constructor(private readonly root: unknown) {}

  check(schema: unknown, value: unknown, at: PathNode | undefined, schemaDepth: number): Failure | undefined {
    if (schemaDepth > MAX_SCHEMA_DEPTH)
      return { at, reason: `the schema nests or references itself more than ${MAX_SCHEMA_DEPTH} levels deep here` };
    if (schema === true) return undefined;
    if (schema === false) return { at, reason: "no value is allowed here" };
    // A malformed subschema fails closed: a tool must not run on arguments nobody could check.
    if (!isRecord(schema)) return { at, reason: "the tool's schema is malformed here (a schema must be an object or a boolean)" };
    return (
      this.reference(schema, value, at, schemaDepth) ??
      typeFailure(schema, value, at) ??
      valueFailure(schema, value, at) ??
      assertionFailure(schema, value, at) ??
      this.combinations(schema, value, at, schemaDepth) ??
      (Array.isArray(value) ? this.items(schema, value, at, schemaDepth) : undefined) ??
      (isRecord(value) ? this.members(schema, value, at, schemaDepth) : undefined)
    );
  }

  private reference(schema: SchemaRecord, value: unknown, at: PathNode | undefined, schemaDepth: number): Failure | undefined {
    const reference = schema.$ref;
    if (reference === undefined) return undefined;
    if (typeof reference !== "string") return { at, reason: "the schema's $ref is not a string" };
    const resolved = resolveReference(this.root, reference);
    return "error" in resolved ? { at, reason: resolved.error } : this.check(resolved.schema, value, at, schemaDepth + 1);
  }

  private child(
    schema: unknown,
    value: unknown,
    parent: PathNode | undefined,
    key: string | number,
    schemaDepth: number,
  ): Failure | undefined {
    const node = childNode(parent, key);
    if (node.depth > MAX_VALUE_DEPTH) return { at: node, reason: `value is nested more than ${MAX_VALUE_DEPTH} levels deep` };
    return this.check(schema, value, node, schemaDepth + 1);
  }

  private combinations(schema: SchemaRecord, value: unknown, at: PathNode | undefined, schemaDepth: number): Failure | undefined {
    if (Array.isArray(schema.allOf)) {
      for (const branch of schema.allOf) {
        const failure = this.check(branch, value, at, schemaDepth + 1);
        if (failure) return failure;
      }
    }
    for (const keyword of ["anyOf", "oneOf"] as const) {
      const alternatives = schema[keyword];
      if (!Array.isArray(alternatives)) continue;
      const failures: Failure[] = [];
      const matched: number[] = [];
      // anyOf stops at the first match; oneOf needs a second match to know it failed.
      for (let index = 0; index < alternatives.length && matched.length < (keyword === "anyOf" ? 1 : 2); index += 1) {
        const failure = this.check(alternatives[index], value, at, schemaDepth + 1);
        if (failure) failures.push(failure);
        else matched.push(index);
      }
      if (matched.length === 0) return noAlternativeMatched(keyword, failures, value, at);
      if (matched.length > 1)
        return { at, reason: `expected exactly one oneOf alternative to match, but alternatives ${matched.join(" and ")} match` };
    }
    if (schema.not !== undefined && !this.check(schema.not, value, at, schemaDepth + 1)) {
      return { at, reason: 'expected the value not to match the schema under "not"' };
    }
    return undefined;
  }

  private items(schema: SchemaRecord, value: readonly unknown[], at: PathNode | undefined, schemaDepth: number): Failure | undefined {
    // Draft 2020-12 (zod's output) uses `prefixItems` + `items`; draft 7 uses an `items` array + `additionalItems`.
    const { prefixItems, items, additionalItems } = schema;
    const prefix: readonly unknown[] = Array.isArray(prefixItems) ? prefixItems : Array.isArray(items) ? items : [];
    const rest = Array.isArray(prefixItems) ? items : Array.isArray(items) ? additionalItems : items;
    if (rest === false && value.length > prefix.length)
      return { at, reason: `expected at most ${prefix.length} items, got ${value.length}` };
    // Decided once: this loop may run over a huge array.
    const restIsOpen = acceptsAnything(rest);
    const last = restIsOpen ? Math.min(prefix.length, value.length) : value.length;
    for (let index = 0; index < last; index += 1) {
      const itemIsOpen = index < prefix.length ? acceptsAnything(prefix[index]) : restIsOpen;
      const failure = itemIsOpen
        ? undefined
        : this.child(index < prefix.length ? prefix[index] : rest, value[index], at, index, schemaDepth);
      if (failure) return failure;
    }
    return undefined;
  }

  private members(schema: SchemaRecord, value: SchemaRecord, at: PathNode | undefined, schemaDepth: number): Failure | undefined {
    const properties = isRecord(schema.properties) ? schema.properties : undefined;
    const patterns = isRecord(schema.patternProperties) ? Object.entries(schema.patternProperties) : [];
    const { additionalProperties: additional, propertyNames } = schema;
    const additionalIsOpen = acceptsAnything(additional);
    const namesAreOpen = acceptsAnything(propertyNames);
    if (!properties && patterns.length === 0 && additionalIsOpen && namesAreOpen) return undefined;
    // Members are checked in the value's own key order, so the first failure is the first in the document.
    for (const key of Object.keys(value)) {
      const nameFailure = namesAreOpen ? undefined : this.check(propertyNames, key, childNode(at, key), schemaDepth + 1);
      if (nameFailure) return { at: nameFailure.at, reason: `invalid property name: ${nameFailure.reason}` };
      let declared = properties !== undefined && Object.hasOwn(properties, key);
      let failure = declared ? this.child(properties?.[key], value[key], at, key, schemaDepth) : undefined;
      for (const [source, patternSchema] of patterns) {
        if (failure) break;
        const pattern = compilePattern(source);
        if (!pattern) return { at, reason: invalidPattern(source) };
        if (!pattern.test(key)) continue;
        declared = true;
        failure = this.child(patternSchema, value[key], at, key, schemaDepth);
      }
      if (failure) return failure;
      if (declared || additionalIsOpen) continue;
      if (additional === false)
        return { at: childNode(at, key), reason: "property is not allowed (the schema has additionalProperties: false)" };
      failure = this.child(additional, value[key], at, key, schemaDepth);
      if (failure) return failure;
    }
    return undefined;
  }
}

function typeFailure(schema: SchemaRecord, value: unknown, at: PathNode | undefined): Failure | undefined {
  const type = schema.type;
  if (type === undefined) return undefined;
  const expected =
    typeof type === "string" ? [type] : Array.isArray(type) ? type.filter((name): name is string => typeof name === "string") : [];
  if (expected.length === 0) return { at, reason: "the schema's type is malformed" };
  if (expected.some((name) => Object.hasOwn(TYPE_CHECKS, name) && TYPE_CHECKS[name]?.(value) === true)) return undefined;
  return { at, reason: `expected ${expected.join(" or ")}, got ${describeType(value)}`, expectedTypes: expected };
}

function valueFailure(schema: SchemaRecord, value: unknown, at: PathNode | undefined): Failure | undefined {
  const allowed = schema.enum;
  if (Array.isArray(allowed) && !allowed.some((candidate) => jsonEqual(candidate, value))) {
    return { at, reason: `expected one of ${listValues(allowed)}, got ${preview(value)}` };
  }
  if (Object.hasOwn(schema, "const") && !jsonEqual(schema.const, value)) {
    return { at, reason: `expected ${listValues([schema.const])}, got ${preview(value)}` };
  }
  return undefined;
}

/** The keywords that constrain the value itself (not its children), by the value's type. */
function assertionFailure(schema: SchemaRecord, value: unknown, at: PathNode | undefined): Failure | undefined {
  if (typeof value === "string") return stringFailure(schema, value, at);
  if (typeof value === "number") return numberFailure(schema, value, at);
  if (Array.isArray(value)) return countFailure(schema, "minItems", "maxItems", value.length, "items", at);
  if (!isRecord(value)) return undefined;
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === "string" && !Object.hasOwn(value, key)) return { at, reason: `missing required property ${JSON.stringify(key)}` };
    }
  }
  if (schema.minProperties === undefined && schema.maxProperties === undefined) return undefined;
  return countFailure(schema, "minProperties", "maxProperties", Object.keys(value).length, "properties", at);
}

function countFailure(
  schema: SchemaRecord,
  minimumKeyword: string,
  maximumKeyword: string,
  count: number,
  unit: string,
  at: PathNode | undefined,
): Failure | undefined {
  const minimum = schema[minimumKeyword];
  const maximum = schema[maximumKeyword];
  if (typeof minimum === "number" && count < minimum) return { at, reason: `expected at least ${minimum} ${unit}, got ${count}` };
  if (typeof maximum === "number" && count > maximum) return { at, reason: `expected at most ${maximum} ${unit}, got ${count}` };
  return undefined;
}

function stringFailure(schema: SchemaRecord, value: string, at: PathNode | undefined): Failure | undefined {
  const { minLength, maxLength, pattern } = schema;
  // A string has between length/2 and length code points: count them only when that range cannot decide.
  const undecided =
    (typeof minLength === "number" && Math.ceil(value.length / 2) < minLength) ||
    (typeof maxLength === "number" && value.length > maxLength);
  const failure = undecided ? countFailure(schema, "minLength", "maxLength", codePointLength(value), "characters", at) : undefined;
  if (failure || typeof pattern !== "string") return failure;
  const compiled = compilePattern(pattern);
  if (!compiled) return { at, reason: invalidPattern(pattern) };
  return compiled.test(value) ? undefined : { at, reason: `expected a string matching the pattern ${JSON.stringify(pattern)}` };
}

const NUMBER_BOUNDS = [
  ["minimum", ">=", (value: number, bound: number) => value >= bound],
  ["maximum", "<=", (value: number, bound: number) => value <= bound],
  ["exclusiveMinimum", ">", (value: number, bound: number) => value > bound],
  ["exclusiveMaximum", "<", (value: number, bound: number) => value < bound],
] as const;

function numberFailure(schema: SchemaRecord, value: number, at: PathNode | undefined): Failure | undefined {
  // Every comparison with NaN is false, so NaN fails any bound.
  for (const [keyword, operator, holds] of NUMBER_BOUNDS) {
    const bound = schema[keyword];
    if (typeof bound === "number" && !holds(value, bound)) return { at, reason: `expected a number ${operator} ${bound}, got ${value}` };
  }
  const multipleOf = schema.multipleOf;
  if (typeof multipleOf !== "number" || !(multipleOf > 0)) return undefined;
  const quotient = value / multipleOf;
  // A tolerance, because 0.3 / 0.1 is 2.9999999999999996 in binary floating point.
  if (Number.isFinite(quotient) && Math.abs(quotient - Math.round(quotient)) <= 1e-9) return undefined;
  return { at, reason: `expected a multiple of ${multipleOf}, got ${value}` };
}

/**
 * Reports an `anyOf`/`oneOf` where no alternative matched. Alternatives rejected only for their type
 * say nothing about this value; when exactly one alternative accepted the type, its own failure is
 * the useful one (a nullable object with a bad field reports that field).
 */
function noAlternativeMatched(keyword: string, failures: readonly Failure[], value: unknown, at: PathNode | undefined): Failure {
  const relevant = failures.filter((failure) => !(failure.expectedTypes && failure.at === at));
  const [only] = relevant;
  if (only && relevant.length === 1) return only;
  if (relevant.length === 0) {
    const expected = [...new Set(failures.flatMap((failure) => failure.expectedTypes ?? []))];
    if (expected.length === 0) return { at, reason: `no ${keyword} alternative is allowed here` };
    return { at, reason: `expected ${expected.join(" or ")}, got ${describeType(value)}`, expectedTypes: expected };
  }
  const shown = relevant.slice(0, 5).map((failure) => `${renderPath(failure.at)}: ${failure.reason}`);
  return { at, reason: `the value matches none of the ${keyword} alternatives (${shown.join("; ")}${relevant.length > 5 ? "; …" : ""})` };
}

/**
 * Validates a value against a JSON Schema: type, enum, const, anyOf, oneOf, allOf, not, properties,
 * patternProperties, required, additionalProperties, propertyNames, items/prefixItems, item,
 * property and length counts (lengths in code points), numeric bounds, multipleOf, pattern and local
 * `$ref`s. Other keywords (`description`, `format`, `default`, ...) are ignored. The first failure in
 * document order wins; its message is `"<path>: <reason>"` with a path such as `$.items[2].name`.
 */
export function validateJsonSchema(schema: JsonObject, value: unknown): JsonSchemaValidationResult {
  const failure = new Validator(schema).check(schema, value, undefined, 0);
  if (!failure) return { valid: true };
  const path = renderPath(failure.at);
  return { valid: false, path, reason: failure.reason, message: `${path}: ${failure.reason}` };
}

const KEYWORD_SHAPES: readonly (readonly [readonly string[], string, (value: unknown) => boolean])[] = [
  [
    ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"],
    "a non-negative integer",
    (value) => Number.isInteger(value) && Number(value) >= 0,
  ],
  [
    ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
    "a number",
    (value) => typeof value === "number" && Number.isFinite(value),
  ],
  [["multipleOf"], "a number > 0", (value) => typeof value === "number" && Number.isFinite(value) && value > 0],
  [["required"], "an array of property names", (value) => Array.isArray(value) && value.every((key) => typeof key === "string")],
  [["enum"], "a non-empty array", (value) => Array.isArray(value) && value.length > 0],
  [["pattern", "$ref"], "a string", (value) => typeof value === "string"],
  [
    ["type"],
    `one of ${Object.keys(TYPE_CHECKS).join(", ")} or a non-empty list of them`,
    (value) => {
      const names: unknown[] = Array.isArray(value) ? value : [value];
      return names.length > 0 && names.every((name) => typeof name === "string" && Object.hasOwn(TYPE_CHECKS, name));
    },
  ],
];
const SUBSCHEMA_KEYWORDS = ["not", "additionalProperties", "additionalItems", "propertyNames", "items"];
const SUBSCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions"];

function pointerTo(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

/** Checks one subschema and everything below it; `ancestors` stops a schema object that contains itself. */
function documentProblem(root: SchemaRecord, schema: unknown, pointer: string, ancestors: Set<object>): string | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isRecord(schema)) return `${pointer}: expected a schema (an object or a boolean), got ${describeType(schema)}`;
  if (ancestors.size > MAX_SCHEMA_DEPTH || ancestors.has(schema)) return `${pointer}: the schema nests too deeply or contains itself`;
  for (const [keywords, expected, accepts] of KEYWORD_SHAPES) {
    for (const keyword of keywords) {
      if (schema[keyword] !== undefined && !accepts(schema[keyword])) return `${pointerTo(pointer, keyword)}: expected ${expected}`;
    }
  }
  const { pattern, $ref: reference } = schema;
  if (typeof pattern === "string" && !compilePattern(pattern)) return `${pointer}/pattern: ${invalidPattern(pattern)}`;
  const resolved = typeof reference === "string" ? resolveReference(root, reference) : undefined;
  if (resolved && "error" in resolved) return `${pointer}/$ref: ${resolved.error}`;
  const children: (readonly [unknown, string])[] = [];
  for (const keyword of SUBSCHEMA_KEYWORDS) {
    const child = schema[keyword];
    // `items` may also be a draft 7 tuple: a list of schemas.
    if (Array.isArray(child) && keyword === "items")
      for (const [index, entry] of child.entries()) children.push([entry, pointerTo(`${pointer}/items`, index)]);
    else if (child !== undefined) children.push([child, pointerTo(pointer, keyword)]);
  }
  for (const keyword of SUBSCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) return `${pointer}/${keyword}: expected a non-empty array of schemas`;
    for (const [index, entry] of list.entries()) children.push([entry, pointerTo(pointerTo(pointer, keyword), index)]);
  }
  for (const keyword of SUBSCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (map === undefined) continue;
    if (!isRecord(map)) return `${pointer}/${keyword}: expected an object of schemas`;
    for (const [key, entry] of Object.entries(map)) {
      if (keyword === "patternProperties" && !compilePattern(key)) return `${pointer}/${keyword}: ${invalidPattern(key)}`;
      children.push([entry, pointerTo(pointerTo(pointer, keyword), key)]);
    }
  }
  ancestors.add(schema);
  try {
    for (const [child, childPointer] of children) {
      const problem = documentProblem(root, child, childPointer, ancestors);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(schema);
  }
}

/**
 * Checks, when a tool is registered, that its JSON Schema is usable: a plain object describing an
 * object, whose keywords have the right shapes (subschemas are objects or booleans, `required` lists
 * names, counts are non-negative integers, patterns compile, `$ref`s resolve locally). Returns
 * `"<JSON pointer>: <problem>"` for the first problem, or `undefined` when the schema is usable.
 */
export function validateJsonSchemaDocument(schema: unknown): string | undefined {
  if (!isRecord(schema)) return `the input schema must be a JSON Schema object, got ${describeType(schema)}`;
  const type = schema.type;
  if (type !== undefined && type !== "object" && !(Array.isArray(type) && type.length === 1 && type[0] === "object")) {
    return `#/type: a tool's input schema must describe an object (type "object"), got ${JSON.stringify(type)}`;
  }
  return documentProblem(schema, schema, "#", new Set());
}
