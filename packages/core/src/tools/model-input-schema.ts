import type { JsonObject, StandardSchemaV1 } from "@lash/protocol";
import { LashError, RuntimeError } from "@lash/protocol";
import type { StandardJSONSchemaV1 } from "@standard-schema/spec";
import { z } from "zod";
import { validateJsonSchemaDocument } from "./json-schema-document.js";
import { isObjectLike, isPlainObject, isStandardSchema, isZodSchema } from "./tool-input-schema.js";

/** What the model's schema is made from: a tool definition, or anything shaped like one (its fields are checked here). */
export interface ToolSchemaSource {
  readonly name: string;
  readonly inputSchema: unknown;
  readonly modelInputSchema?: unknown;
}

type Conversion = { readonly schema: JsonObject } | { readonly problem: string };

/** The JSON Schema target asked of every library: the draft the validator and the providers read. */
const TARGET: StandardJSONSchemaV1.Target = "draft-2020-12";

/** A conversion result per schema object: converting is costly and the surface is rebuilt every turn. */
const convertedSchemas = new WeakMap<object, Conversion>();
/** The checked model schema per tool definition, so `defineTool` and every later surface share one check. */
const checkedSchemas = new WeakMap<object, JsonObject>();
/**
 * Schemas that cannot change (deep-frozen: every conversion made here, and constants frozen by
 * their owner) and were found usable: tools defined again on the same schema object (a runtime
 * built per request) skip the document check. A schema that can still change is checked every time.
 */
const usableDocuments = new WeakSet<object>();

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  for (const entry of Object.values(value)) if (!isDeepFrozen(entry)) return false;
  return true;
}

/**
 * The JSON text of schemas found usable, for schemas that can change: a tool built anew for every
 * runtime (a factory per request) has a new schema object each time, with the same text. The
 * result only depends on the text, so a text seen before needs no second check. Bounded: the
 * oldest texts are forgotten first.
 */
const usableTexts = new Set<string>();
const USABLE_TEXTS_KEPT = 512;

function jsonText(schema: object): string | undefined {
  try {
    return JSON.stringify(schema);
  } catch {
    return undefined;
  }
}

/** `validateJsonSchemaDocument`, remembered for a schema that cannot change and for a text seen before. */
function documentProblem(schema: unknown): string | undefined {
  if (typeof schema !== "object" || schema === null) return validateJsonSchemaDocument(schema);
  if (usableDocuments.has(schema)) return undefined;
  if (isDeepFrozen(schema)) {
    const problem = validateJsonSchemaDocument(schema);
    if (problem === undefined) usableDocuments.add(schema);
    return problem;
  }
  const text = jsonText(schema);
  if (text !== undefined && usableTexts.has(text)) return undefined;
  const problem = validateJsonSchemaDocument(schema);
  if (problem === undefined && text !== undefined) {
    if (usableTexts.size >= USABLE_TEXTS_KEPT) usableTexts.delete(usableTexts.values().next().value as string);
    usableTexts.add(text);
  }
  return problem;
}

function deepFreeze<Value>(value: Value): Value {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const entry of Object.values(value)) deepFreeze(entry);
  }
  return value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeTopLevel(schema: JsonObject): string {
  if (schema.type !== undefined) return `type ${JSON.stringify(schema.type)}`;
  const keyword = ["anyOf", "oneOf", "allOf", "$ref", "enum", "const"].find((candidate) => schema[candidate] !== undefined);
  return keyword === undefined ? "a schema without a type" : `a top-level ${keyword}`;
}

/**
 * Makes a library's JSON Schema fit for a tool: a plain JSON copy (the round trip drops `undefined`
 * entries and fails on anything that is not JSON, such as a bigint default) without `$schema`, with
 * an object at the top, frozen because every turn and every tool using the same schema share it.
 */
function normalise(generate: () => unknown, origin: string, remedy = ""): Conversion {
  let converted: unknown;
  try {
    converted = JSON.parse(JSON.stringify(generate()));
  } catch (error) {
    return { problem: `its ${origin} cannot be converted to JSON Schema: ${errorMessage(error)}${remedy}` };
  }
  if (!isPlainObject(converted)) return { problem: `its ${origin} was converted to something that is not a JSON Schema object` };
  const { $schema: _dialect, ...withoutDialect } = converted;
  let result: JsonObject = withoutDialect;
  // A root registered under a name (zod's `.meta({ id })`) comes out as `{ $ref: "#/$defs/<id>", $defs }`; providers
  // need `type: "object"` at the top, so the definition is lifted (its `$defs` stay for references back to it).
  const reference = result.$ref;
  const definitions = result.$defs;
  if (typeof reference === "string" && reference.startsWith("#/$defs/") && isPlainObject(definitions)) {
    const target = definitions[reference.slice("#/$defs/".length)];
    if (isPlainObject(target)) {
      const { $ref: _reference, $defs: _definitions, ...siblings } = result;
      result = { ...target, ...siblings };
      if (JSON.stringify(result).includes('"$ref"')) result.$defs = definitions;
    }
  }
  if (result.type !== "object") {
    return {
      problem: `its input schema must describe an object (tools take a JSON object of named arguments), but it is ${describeTopLevel(result)}`,
    };
  }
  return { schema: deepFreeze(result) };
}

/**
 * A zod schema goes through zod's own converter, which is what its `~standard.jsonSchema` runs, called
 * directly so that zod mini (which has no `~standard.jsonSchema`) converts too.
 */
function convertZodSchema(schema: z.core.$ZodType): Conversion {
  // `io: "input"`: the model writes the input side (defaults make fields optional, transforms are not its concern).
  // Unrepresentable parts (dates, bigints) become `{}`: zod still validates them, the model sees no constraint.
  return normalise(() => z.toJSONSchema(schema, { target: TARGET, io: "input", unrepresentable: "any" }), "zod schema");
}

/** The input side of a Standard JSON Schema (`~standard.jsonSchema.input`, Standard Schema 1.1), when the schema has one. */
function inputJsonSchemaOf(schema: StandardSchemaV1): ((options: StandardJSONSchemaV1.Options) => unknown) | undefined {
  // Read defensively: the property comes from a third-party library and is optional in the standard.
  const standard: unknown = schema["~standard"];
  const converter: unknown = isObjectLike(standard) && "jsonSchema" in standard ? standard.jsonSchema : undefined;
  const input: unknown = isObjectLike(converter) && "input" in converter ? converter.input : undefined;
  return typeof input === "function" ? (options) => input.call(converter, options) : undefined;
}

function convertStandardSchema(schema: StandardSchemaV1): Conversion {
  const origin = `input schema (a Standard Schema from ${JSON.stringify(String(schema["~standard"].vendor))})`;
  const input = inputJsonSchemaOf(schema);
  if (input === undefined) {
    // valibot keeps JSON Schema in a separate package, so its users need the one call that adds it.
    const hint =
      schema["~standard"].vendor === "valibot"
        ? " (for valibot: wrap the schema with `toStandardJsonSchema` from `@valibot/to-json-schema`)"
        : "";
    return {
      problem:
        `its ${origin} has no JSON Schema for the model (no \`~standard.jsonSchema\`): give the tool a modelInputSchema, ` +
        `or use a schema library that implements Standard JSON Schema${hint}`,
    };
  }
  return normalise(() => input({ target: TARGET }), origin, "; give the tool a modelInputSchema instead");
}

function cachedConversion(schema: object, convert: () => Conversion): Conversion {
  let conversion = convertedSchemas.get(schema);
  if (conversion === undefined) {
    conversion = convert();
    convertedSchemas.set(schema, conversion);
  }
  return conversion;
}

/**
 * The JSON Schema the model sees for a tool: `modelInputSchema` when given; for a zod schema, zod's
 * conversion; for any other Standard Schema, its Standard JSON Schema (`~standard.jsonSchema.input`
 * with target draft 2020-12); a plain JSON Schema as it is. Converted schemas lose `$schema` and are
 * cached per schema object.
 *
 * @throws LashError `invalid_configuration` naming the tool when no JSON Schema can be produced.
 */
export function toModelInputSchema(definition: ToolSchemaSource): JsonObject {
  const fail = (problem: string): never => {
    throw new LashError("invalid_configuration", `tool \`${definition.name}\`: ${problem}`);
  };
  if (definition.modelInputSchema !== undefined) {
    return isPlainObject(definition.modelInputSchema)
      ? definition.modelInputSchema
      : fail("its modelInputSchema must be a JSON Schema object");
  }
  const schema: unknown = definition.inputSchema;
  let conversion: Conversion | undefined;
  if (isZodSchema(schema)) conversion = cachedConversion(schema, () => convertZodSchema(schema));
  else if (isStandardSchema(schema)) conversion = cachedConversion(schema, () => convertStandardSchema(schema));
  if (conversion !== undefined) return "schema" in conversion ? conversion.schema : fail(conversion.problem);
  return isPlainObject(schema) ? schema : fail("its inputSchema must be a JSON Schema object or a Standard Schema (such as a zod schema)");
}

/**
 * The model's JSON Schema for a tool, checked: converted by `toModelInputSchema`, then that schema and
 * a plain JSON `inputSchema` (which validates the arguments) must be usable JSON Schemas. `defineTool`
 * calls it so a schema that cannot work fails where the tool is defined; the tool surface calls it for
 * tools built by hand or listed by a `ToolProvider`. The result is cached per definition.
 *
 * @throws LashError `invalid_configuration` naming the tool.
 */
export function checkedModelInputSchema(definition: ToolSchemaSource): JsonObject {
  const cached = checkedSchemas.get(definition);
  if (cached !== undefined) return cached;
  const inputSchema = toModelInputSchema(definition);
  const problem =
    documentProblem(inputSchema) ?? (isStandardSchema(definition.inputSchema) ? undefined : documentProblem(definition.inputSchema));
  if (problem !== undefined) {
    throw new RuntimeError("invalid_configuration", `tool \`${definition.name}\` has an unusable input schema: ${problem}`);
  }
  checkedSchemas.set(definition, inputSchema);
  return inputSchema;
}
