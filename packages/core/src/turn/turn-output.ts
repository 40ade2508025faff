import type { JsonObject, LlmOutputSpec, Message, StandardSchemaV1 } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { freshMessageId, partId } from "../session/ids.js";
import { excessiveNestingProblem } from "../tools/json-depth.js";
import { toModelInputSchema } from "../tools/model-input-schema.js";
import { validateToolInput } from "../tools/tool-input-schema.js";

/** A schema for a turn's structured output: zod, or any Standard Schema that gives its JSON Schema. */
export type OutputSchema<Output = unknown> = StandardSchemaV1<unknown, Output>;

/** The `output` option of a turn: a schema, or a schema with its settings. */
export type TurnOutputOption<Output = unknown> =
  | OutputSchema<Output>
  | {
      readonly schema: OutputSchema<Output>;
      /** The schema's name for the provider (default `"output"`). */
      readonly name?: string;
      /**
       * Ask the provider to enforce the schema exactly (OpenAI's strict mode), which some schemas
       * cannot meet (every property required, no additional properties). Default `false`: the
       * provider steers the model with the schema and lash validates the answer either way.
       */
      readonly strict?: boolean;
      /** How many times an answer the schema refuses is sent back to the model to fix (default 1). */
      readonly repairAttempts?: number;
    };

/** The output a turn asks for, resolved once per turn. */
export interface TurnOutputRequest {
  readonly schema: OutputSchema;
  /** What every model call of the turn sends as its structured-output parameter. */
  readonly spec: LlmOutputSpec;
  readonly repairAttempts: number;
}

export type OutputCheck = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

const DEFAULT_REPAIR_ATTEMPTS = 1;

function isSchema(option: TurnOutputOption): option is OutputSchema {
  return typeof option === "object" && option !== null && "~standard" in option;
}

/**
 * Resolves a turn's `output` option: its JSON Schema (zod's conversion, or the schema's Standard JSON
 * Schema), its name and repair budget. A schema that gives no JSON object schema, or a bad setting, is
 * an `invalid_configuration` error before the turn starts.
 */
export function resolveTurnOutput(option: TurnOutputOption): TurnOutputRequest {
  const settings = isSchema(option) ? { schema: option } : option;
  const name = settings.name ?? "output";
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new LashError("invalid_configuration", `output schema name \`${name}\` is invalid: use 1-64 letters, digits, \`_\` or \`-\``);
  }
  const repairAttempts = settings.repairAttempts ?? DEFAULT_REPAIR_ATTEMPTS;
  if (!Number.isInteger(repairAttempts) || repairAttempts < 0) {
    throw new LashError("invalid_configuration", `output repairAttempts must be a non-negative integer, got ${String(repairAttempts)}`);
  }
  let jsonSchema: JsonObject;
  try {
    jsonSchema = toModelInputSchema({ name, inputSchema: settings.schema });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^tool `[^`]*`: /, "") : String(error);
    throw new LashError("invalid_configuration", `the turn's output schema: ${message}`, { cause: error });
  }
  return {
    schema: settings.schema,
    spec: { type: "json_schema", name, schema: jsonSchema, strict: settings.strict ?? false },
    repairAttempts,
  };
}

/** The text of the answer's prose parts (what the model wrote as its final answer). */
export function answerText(message: Message | undefined): string {
  if (message === undefined || message.role !== "assistant") return "";
  return message.parts.flatMap((part) => (part.kind === "prose" ? [part.content] : [])).join("");
}

/**
 * Parses a final answer as JSON and validates it with the output schema. Providers may wrap JSON in a
 * Markdown fence despite the structured-output parameter; a lone fenced block is unwrapped.
 */
export async function checkOutput(request: TurnOutputRequest, text: string): Promise<OutputCheck> {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  const source = fenced?.[1] ?? text;
  const nesting = excessiveNestingProblem(source);
  if (nesting !== undefined) return { ok: false, problem: `the answer is refused: ${nesting}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    return { ok: false, problem: `the answer is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const result = await validateToolInput({ inputSchema: request.schema }, parsed);
  return result.ok ? { ok: true, value: result.value } : { ok: false, problem: result.message };
}

/** The message that sends an answer the schema refused back to the model. */
export function repairMessage(problem: string): Message {
  const id = freshMessageId();
  const content = `Your answer does not match the required output schema: ${problem}. Answer again with only the JSON value, matching the schema.`;
  return { id, role: "user", parts: [{ kind: "text", id: partId(id, 0), content }] };
}
