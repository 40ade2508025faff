import type { JsonObject, StandardSchemaV1, ToolDefinition } from "@lash/protocol";
import type { z } from "zod";
import { formatJsonPath } from "./json-path.js";
import { validateJsonSchema } from "./json-schema-validator.js";

/** The result of validating a tool call's arguments: the value `execute` receives, or a message for the model. */
export type ToolInputValidation = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** True for anything that can carry properties. */
export function isObjectLike(value: unknown): value is object {
  // Some libraries (arktype) make their schemas callable, so functions count too.
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** True for an object that is not an array: the shape of a JSON Schema object. */
export function isPlainObject(value: unknown): value is JsonObject {
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
 * Validates a call's arguments with the tool's input schema: a Standard Schema (zod, valibot, arktype,
 * ...) through its own `~standard.validate` (`execute` receives the schema's output: defaults applied,
 * values coerced or transformed), a JSON Schema through `validateJsonSchema` (`execute` receives the
 * arguments as they are). A synchronous validator is answered without a promise, since this runs for
 * every tool call. A validator that throws or rejects becomes a failure message; it never propagates.
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
