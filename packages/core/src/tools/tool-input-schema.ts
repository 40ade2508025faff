import type { JsonObject, StandardSchemaV1, ToolDefinition } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { z } from "zod";
import { formatJsonPath, validateJsonSchema } from "./json-schema-validator.js";

/** The result of validating a tool call's arguments: the value `execute` receives, or a message for the model. */
export type ToolInputValidation = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

type ToolSchemaSource = Pick<ToolDefinition<unknown>, "name" | "inputSchema" | "modelInputSchema">;

function isObjectLike(value: unknown): value is object {
  // Some libraries (arktype) make their schemas callable, so functions count too.
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for a Standard Schema v1 (https://standardschema.dev): zod 4, valibot, arktype and others. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (!isObjectLike(value) || !("~standard" in value)) return false;
  const standard: unknown = value["~standard"];
  return (
    isObjectLike(standard) &&
    "version" in standard &&
    standard.version === 1 &&
    "validate" in standard &&
    typeof standard.validate === "function"
  );
}

/** True for a zod 4 schema (classic or mini): they carry their internals under `_zod`. */
export function isZodSchema(value: unknown): value is z.core.$ZodType {
  return isObjectLike(value) && "_zod" in value && isObjectLike(value._zod);
}

/** A conversion result per zod schema object: converting is costly and the surface is rebuilt every turn. */
const convertedSchemas = new WeakMap<object, { readonly schema: JsonObject } | { readonly problem: string }>();

function deepFreeze<Value>(value: Value): Value {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const entry of Object.values(value)) deepFreeze(entry);
  }
  return value;
}

function describeTopLevel(schema: JsonObject): string {
  if (schema.type !== undefined) return `type ${JSON.stringify(schema.type)}`;
  const keyword = ["anyOf", "oneOf", "allOf", "$ref", "enum", "const"].find((candidate) => schema[candidate] !== undefined);
  return keyword === undefined ? "a schema without a type" : `a top-level ${keyword}`;
}

/**
 * Converts a zod schema into the JSON Schema the model sees. The result is a plain JSON copy, frozen
 * because it is shared by every turn and every tool that uses the same zod schema.
 */
function convertZodSchema(schema: z.core.$ZodType): { readonly schema: JsonObject } | { readonly problem: string } {
  let converted: JsonObject;
  try {
    // `io: "input"`: the model writes the input side (defaults make fields optional, transforms are not its concern).
    // Unrepresentable parts (dates, bigints) become `{}`: zod still validates them, the model sees no constraint.
    const generated = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
    // The JSON round trip drops `undefined` entries and fails on anything that is not JSON (a bigint default).
    converted = JSON.parse(JSON.stringify(generated)) as JsonObject;
  } catch (error) {
    return { problem: `its zod schema cannot be converted to JSON Schema: ${error instanceof Error ? error.message : String(error)}` };
  }
  const { $schema: _dialect, ...withoutDialect } = converted;
  let result: JsonObject = withoutDialect;
  // A root schema registered with `.meta({ id })` comes out as `{ $ref: "#/$defs/<id>", $defs }`; providers need
  // `type: "object"` at the top, so the definition is lifted (its `$defs` stay for references back to it).
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
 * The JSON Schema the model sees for a tool: `modelInputSchema` when given, a zod schema converted
 * with `z.toJSONSchema` (without `$schema`), or a plain JSON Schema as is. Other Standard Schemas
 * need `modelInputSchema`: there is no general way to turn them into JSON Schema.
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
  if (isZodSchema(schema)) {
    let converted = convertedSchemas.get(schema);
    if (converted === undefined) {
      converted = convertZodSchema(schema);
      convertedSchemas.set(schema, converted);
    }
    return "schema" in converted ? converted.schema : fail(converted.problem);
  }
  if (isStandardSchema(schema)) {
    const vendor = schema["~standard"].vendor;
    return fail(
      `its input schema (a Standard Schema from ${JSON.stringify(vendor)}) cannot be converted to JSON Schema: give the tool a modelInputSchema`,
    );
  }
  return isPlainObject(schema) ? schema : fail("its inputSchema must be a JSON Schema object or a Standard Schema (such as a zod schema)");
}

/** Turns a Standard Schema result into a validation: the parsed value, or the first issue as `"<path>: <message>"`. */
function fromStandardResult(result: unknown): ToolInputValidation {
  // Results come from third-party code: read them defensively rather than trusting the declared type.
  if (!isObjectLike(result)) return { ok: false, message: "$: the argument validator returned no result" };
  if (!("issues" in result) || result.issues === undefined) return { ok: true, value: "value" in result ? result.value : undefined };
  const issue: unknown = Array.isArray(result.issues) ? result.issues[0] : undefined;
  const segments: unknown = isObjectLike(issue) && "path" in issue ? issue.path : undefined;
  const path: PropertyKey[] = [];
  for (const segment of Array.isArray(segments) ? segments : []) {
    // A segment is a property key or a `{ key }` object (the Standard Schema PathSegment).
    const key: unknown = isObjectLike(segment) && "key" in segment ? segment.key : segment;
    if (typeof key === "string" || typeof key === "number" || typeof key === "symbol") path.push(key);
  }
  const message =
    isObjectLike(issue) && "message" in issue && typeof issue.message === "string" && issue.message !== ""
      ? issue.message
      : "invalid value";
  return { ok: false, message: `${formatJsonPath(path)}: ${message}` };
}

function validatorThrew(error: unknown): ToolInputValidation {
  return { ok: false, message: `$: the argument validator failed: ${error instanceof Error ? error.message : String(error)}` };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return isObjectLike(value) && "then" in value && typeof value.then === "function";
}

/**
 * Validates a call's arguments with the tool's input schema: a Standard Schema (zod included) through
 * its `~standard.validate` (`execute` receives the parsed value), a JSON Schema through
 * `validateJsonSchema` (`execute` receives the arguments as they are). A synchronous validator is
 * answered without a promise, since this runs for every tool call. A validator that throws or rejects
 * becomes a failure message; it never propagates.
 */
export function validateToolInput(
  definition: Pick<ToolDefinition<unknown>, "inputSchema">,
  args: unknown,
): ToolInputValidation | Promise<ToolInputValidation> {
  const schema: unknown = definition.inputSchema;
  try {
    if (isStandardSchema(schema)) {
      const result: unknown = schema["~standard"].validate(args);
      if (isThenable(result)) return Promise.resolve(result).then(fromStandardResult, validatorThrew);
      return fromStandardResult(result);
    }
    if (!isPlainObject(schema)) return { ok: false, message: "$: the tool's input schema is not a JSON Schema object" };
    const result = validateJsonSchema(schema, args);
    return result.valid ? { ok: true, value: args } : { ok: false, message: result.message };
  } catch (error) {
    return validatorThrew(error);
  }
}
