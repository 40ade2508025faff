import { dereference, type Schema } from "@cfworker/json-schema";

type SchemaRecord = Readonly<Record<string, unknown>>;

/** How deep subschemas may nest: deeper is a generated schema gone wrong, or one that contains itself. */
const MAX_SCHEMA_DEPTH = 512;
const TYPE_NAMES = ["null", "boolean", "string", "number", "integer", "array", "object"];

function isRecord(value: unknown): value is SchemaRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

function compiles(pattern: string): boolean {
  try {
    // Compiled the way the validator compiles it: JSON Schema patterns are Unicode.
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

function invalidPattern(source: string): string {
  return `the schema's pattern ${JSON.stringify(source)} is not a valid regular expression`;
}

/**
 * Keyword values the validator would misread rather than reject (it iterates a string `required`
 * character by character, never matches an unknown type name, throws on a non-array `enum` at every
 * call), so they are caught when the tool is registered.
 */
const KEYWORD_SHAPES: readonly (readonly [readonly string[], string, (value: unknown) => boolean])[] = [
  [
    ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"],
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
  [["pattern", "$ref", "format"], "a string", (value) => typeof value === "string"],
  [
    ["type"],
    `one of ${TYPE_NAMES.join(", ")} or a non-empty list of them`,
    (value) => {
      const names: unknown[] = Array.isArray(value) ? value : [value];
      return names.length > 0 && names.every((name) => typeof name === "string" && TYPE_NAMES.includes(name));
    },
  ],
];
/** The keywords whose value is a subschema, a list of them, or a map of them (the ones the validator applies). */
const SUBSCHEMA_KEYWORDS = [
  "not",
  "if",
  "then",
  "else",
  "contains",
  "additionalProperties",
  "unevaluatedProperties",
  "additionalItems",
  "unevaluatedItems",
  "propertyNames",
  "items",
];
const SUBSCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const SUBSCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

function pointerTo(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

/** The subschemas directly under `schema`, with their JSON pointers; or the problem with the keyword that holds them. */
function subschemasOf(
  schema: SchemaRecord,
  pointer: string,
): { readonly children: (readonly [unknown, string])[] } | { readonly problem: string } {
  const children: (readonly [unknown, string])[] = [];
  for (const keyword of SUBSCHEMA_KEYWORDS) {
    const child = schema[keyword];
    // `items` may also be a draft-07 tuple: a list of schemas.
    if (Array.isArray(child) && keyword === "items")
      for (const [index, entry] of child.entries()) children.push([entry, pointerTo(`${pointer}/items`, index)]);
    else if (child !== undefined) children.push([child, pointerTo(pointer, keyword)]);
  }
  for (const keyword of SUBSCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) return { problem: `${pointer}/${keyword}: expected a non-empty array of schemas` };
    for (const [index, entry] of list.entries()) children.push([entry, pointerTo(pointerTo(pointer, keyword), index)]);
  }
  for (const keyword of SUBSCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (map === undefined) continue;
    if (!isRecord(map)) return { problem: `${pointer}/${keyword}: expected an object of schemas` };
    for (const [key, entry] of Object.entries(map)) {
      if (keyword === "patternProperties" && !compiles(key)) return { problem: `${pointer}/${keyword}: ${invalidPattern(key)}` };
      children.push([entry, pointerTo(pointerTo(pointer, keyword), key)]);
    }
  }
  return { children };
}

/** Checks one subschema's keywords and everything below it; `ancestors` stops a schema object that contains itself. */
function shapeProblem(schema: unknown, pointer: string, ancestors: Set<object>): string | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isRecord(schema)) return `${pointer}: expected a schema (an object or a boolean), got ${describeType(schema)}`;
  if (ancestors.size > MAX_SCHEMA_DEPTH || ancestors.has(schema)) return `${pointer}: the schema nests too deeply or contains itself`;
  for (const [keywords, expected, accepts] of KEYWORD_SHAPES) {
    for (const keyword of keywords) {
      if (schema[keyword] !== undefined && !accepts(schema[keyword])) return `${pointerTo(pointer, keyword)}: expected ${expected}`;
    }
  }
  if (typeof schema.pattern === "string" && !compiles(schema.pattern)) return `${pointer}/pattern: ${invalidPattern(schema.pattern)}`;
  const below = subschemasOf(schema, pointer);
  if ("problem" in below) return below.problem;
  ancestors.add(schema);
  try {
    for (const [child, childPointer] of below.children) {
      const problem = shapeProblem(child, childPointer, ancestors);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(schema);
  }
}

/**
 * Finds a `$ref` the validator could not follow, resolving references the way it does (its own
 * index of the schema: JSON pointers, `$id`s and `$anchor`s), on a copy because indexing marks the
 * schema objects.
 */
function referenceProblem(schema: SchemaRecord): string | undefined {
  const copy = JSON.parse(JSON.stringify(schema)) as Schema;
  let lookup: Record<string, unknown>;
  try {
    lookup = dereference(copy);
  } catch (error) {
    return `#: the schema's identifiers cannot be resolved: ${error instanceof Error ? error.message : String(error)}`;
  }
  return unresolvedReference(copy, "#", lookup);
}

function unresolvedReference(node: unknown, pointer: string, lookup: Record<string, unknown>): string | undefined {
  if (!isRecord(node)) return undefined;
  const reference = node.$ref;
  // The validator records where each `$ref` points as `__absolute_ref__` while indexing.
  if (typeof reference === "string" && lookup[(node as Schema).__absolute_ref__ ?? reference] === undefined) {
    return `${pointer}/$ref: the schema's $ref ${JSON.stringify(reference)} does not resolve inside the schema (other documents are not fetched)`;
  }
  const below = subschemasOf(node, pointer);
  if ("problem" in below) return undefined;
  for (const [child, childPointer] of below.children) {
    const problem = unresolvedReference(child, childPointer, lookup);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Checks, when a tool is registered, that its JSON Schema is usable: a plain object describing an
 * object, whose keywords have the right shapes (subschemas are objects or booleans, `required` lists
 * names, counts are non-negative integers, patterns compile) and whose `$ref`s resolve. Returns
 * `"<JSON pointer>: <problem>"` for the first problem, or `undefined` when the schema is usable.
 */
export function validateJsonSchemaDocument(schema: unknown): string | undefined {
  if (!isRecord(schema)) return `the input schema must be a JSON Schema object, got ${describeType(schema)}`;
  const type = schema.type;
  if (type !== undefined && type !== "object" && !(Array.isArray(type) && type.length === 1 && type[0] === "object")) {
    return `#/type: a tool's input schema must describe an object (type "object"), got ${JSON.stringify(type)}`;
  }
  return shapeProblem(schema, "#", new Set()) ?? referenceProblem(schema);
}
