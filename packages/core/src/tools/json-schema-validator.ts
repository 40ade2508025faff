import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import type { JsonObject } from "@lash/protocol";
import { formatJsonPath, pointerToSegments } from "./json-path.js";
import { firstJsonSchemaFailure } from "./json-schema-errors.js";

/** The result of validating a value against a JSON Schema. */
export type JsonSchemaValidationResult =
  | { readonly valid: true }
  | { readonly valid: false; readonly path: string; readonly reason: string; readonly message: string };

/**
 * One validator per schema object: building one walks the whole schema to index its `$ref` targets,
 * and validation runs for every tool call.
 */
const validators = new WeakMap<JsonObject, Validator>();

function validatorFor(schema: JsonObject): Validator {
  let validator = validators.get(schema);
  if (validator === undefined) {
    // The validator marks the schema objects it indexes (non-enumerable properties): that would change the
    // caller's schema, or fail on a frozen one, so it gets a private copy.
    const copy = JSON.parse(JSON.stringify(schema)) as Schema;
    validator = new Validator(copy, "2020-12", true);
    validators.set(schema, validator);
  }
  return validator;
}

function failure(path: string, reason: string): JsonSchemaValidationResult {
  return { valid: false, path, reason, message: `${path}: ${reason}` };
}

/**
 * Validates a value against a JSON Schema with @cfworker/json-schema (draft 2020-12; draft-07
 * schemas validate the same way except for `$ref` siblings, which 2020-12 applies). Every assertion
 * keyword is checked, `format` included; `$ref`s resolve inside the schema (`#/$defs/...`, `#`,
 * `$id`s and `$anchor`s). The first failure in document order wins, and its message is
 * `"<path>: <reason>"` with a path such as `$.items[2].name` and the validator's own reason. A
 * schema the validator cannot apply (an unresolved `$ref`, a pattern that does not compile) or a
 * value it cannot take (not JSON, or nested deeper than the stack) is a failure at `$`, never an
 * exception and never a pass.
 */
export function validateJsonSchema(schema: JsonObject, value: unknown): JsonSchemaValidationResult {
  let units: readonly OutputUnit[];
  try {
    const result = validatorFor(schema).validate(value);
    if (result.valid) return { valid: true };
    units = result.errors;
  } catch (error) {
    // An unresolved `$ref` error goes on with the validator's internal base URI and, on later lines, every schema
    // it knows: only the first sentence means something to the reader.
    const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.split("  Absolute URI")[0];
    return failure("$", `the schema could not be applied: ${detail}`);
  }
  const describePath = (instanceLocation: string): string => formatJsonPath(pointerToSegments(instanceLocation, value));
  const chosen = firstJsonSchemaFailure(units, describePath);
  return failure(describePath(chosen.instanceLocation), chosen.reason);
}
