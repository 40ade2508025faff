import type { JsonObject, StandardSchemaV1, ToolDefinition } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { z } from "zod";
import { validateJsonSchema } from "./json-schema-validator.js";

/** The result of validating a tool's arguments. */
export type ToolInputValidation = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (typeof value !== "object" || value === null || !("~standard" in value)) return false;
  const standard = (value as { "~standard": unknown })["~standard"];
  return typeof standard === "object" && standard !== null && typeof (standard as { validate?: unknown }).validate === "function";
}

export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

const modelSchemaCache = new WeakMap<object, JsonObject>();

/**
 * The JSON Schema the model sees for a tool: `modelInputSchema` when given, a zod schema converted
 * with `z.toJSONSchema`, or a plain JSON Schema as is. Other Standard Schemas need
 * `modelInputSchema` (there is no general way to turn them into JSON Schema).
 */
export function toModelInputSchema(definition: Pick<ToolDefinition<unknown>, "name" | "inputSchema" | "modelInputSchema">): JsonObject {
  if (definition.modelInputSchema) return definition.modelInputSchema;
  const schema = definition.inputSchema;
  if (!isStandardSchema(schema)) return schema as JsonObject;
  const cached = modelSchemaCache.get(schema);
  if (cached) return cached;
  if (!isZodSchema(schema)) {
    throw new LashError("invalid_configuration", `tool \`${definition.name}\` uses a non-zod Standard Schema: give it a modelInputSchema (JSON Schema) for the model`);
  }
  let converted: JsonObject;
  try {
    converted = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as JsonObject;
  } catch (error) {
    throw new LashError("invalid_configuration", `tool \`${definition.name}\`: its zod schema cannot be converted to JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (converted["type"] !== "object") {
    throw new LashError("invalid_configuration", `tool \`${definition.name}\`: the input schema must describe an object (tools take named arguments)`);
  }
  const { $schema: _ignored, ...withoutDialect } = converted;
  modelSchemaCache.set(schema, withoutDialect);
  return withoutDialect;
}

function renderIssuePath(path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string {
  let rendered = "$";
  for (const segment of path ?? []) {
    const key = typeof segment === "object" ? segment.key : segment;
    rendered += typeof key === "number" ? `[${key}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(String(key))}]`;
  }
  return rendered;
}

function fromStandardResult(result: Awaited<ReturnType<StandardSchemaV1["~standard"]["validate"]>>): ToolInputValidation {
  if (!result.issues) return { ok: true, value: result.value };
  const issue = result.issues[0];
  return { ok: false, message: `${renderIssuePath(issue?.path)}: ${issue?.message ?? "invalid arguments"}` };
}

function failureOf(error: unknown): ToolInputValidation {
  return { ok: false, message: `argument validation failed: ${error instanceof Error ? error.message : String(error)}` };
}

/**
 * Validates a call's arguments with the tool's schema. Synchronous validators answer without a
 * promise (this runs for every tool call). A validator that throws is reported, never propagated.
 */
export function validateToolInput(definition: Pick<ToolDefinition<unknown>, "inputSchema">, args: unknown): ToolInputValidation | Promise<ToolInputValidation> {
  const schema = definition.inputSchema;
  if (isStandardSchema(schema)) {
    try {
      const result = schema["~standard"].validate(args);
      if (result instanceof Promise) return result.then(fromStandardResult, failureOf);
      return fromStandardResult(result);
    } catch (error) {
      return failureOf(error);
    }
  }
  const result = validateJsonSchema(schema as JsonObject, args);
  return result.valid ? { ok: true, value: args } : { ok: false, message: result.message };
}
