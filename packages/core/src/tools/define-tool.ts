import type {
  JsonSchemaObject,
  JsonValue,
  ToolContext,
  ToolDefinition,
  ToolExecuteResult,
  ToolExecutionMode,
  ToolRetryPolicy,
} from "@lash/protocol";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { checkDefinedToolOutputLimit, type ToolOutputLimit } from "../context/tool-output-limits.js";
import { checkedModelInputSchema } from "./model-input-schema.js";

/** What `execute` receives: a Standard Schema's output type, or the JSON arguments for a plain JSON Schema. */
export type ToolInputOf<Schema> = Schema extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<Schema> : JsonValue;

/**
 * Defines a tool with typed input. `inputSchema` is any Standard Schema (https://standardschema.dev)
 * that also implements Standard JSON Schema (`~standard.jsonSchema`): zod 4, arktype 2.2, valibot
 * through `toStandardJsonSchema` from `@valibot/to-json-schema`, and others. The model sees the
 * schema's JSON Schema, the schema itself validates the arguments, and `execute` receives its output
 * (defaults applied, values coerced or transformed). A Standard Schema without JSON Schema needs
 * `modelInputSchema`, the JSON Schema to show the model. `inputSchema` may also be a plain JSON
 * Schema object: the runtime validates the arguments against it and `execute` receives them as sent.
 *
 * The schema is converted and checked here, so a schema that cannot work fails where the tool is
 * defined (the result is cached: the runtime does not convert it again).
 *
 * `needsApproval` (a boolean, or a function of the validated input) makes every call, or the calls
 * it picks, wait for a decision before running; `describeApproval` gives the line the decider sees.
 *
 * @throws LashError `invalid_configuration` naming the tool when no usable JSON Schema can be made.
 *
 * @example
 * const add = defineTool({
 *   name: "add",
 *   description: "Add two numbers",
 *   inputSchema: z.object({ a: z.number(), b: z.number() }),
 *   execute: ({ a, b }) => a + b,
 * });
 */
export function defineTool<Schema extends StandardSchemaV1 | JsonSchemaObject>(definition: {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Schema;
  readonly modelInputSchema?: JsonSchemaObject;
  readonly executionMode?: ToolExecutionMode;
  readonly retryPolicy?: ToolRetryPolicy;
  /** Whether a call must be approved before it runs; a function sees the validated input. */
  readonly needsApproval?: boolean | ((input: ToolInputOf<Schema>, context: ToolContext) => boolean | Promise<boolean>);
  /** The line a person sees when asked to approve a call. */
  readonly describeApproval?: (input: ToolInputOf<Schema>, context: ToolContext) => string | Promise<string>;
  readonly execute: (input: ToolInputOf<Schema>, context: ToolContext) => ToolExecuteResult | Promise<ToolExecuteResult>;
  /**
   * The most of one result the model sees (`{ maxBytes?, maxLines? }`), over the runtime's tool-output
   * budget; `false` exempts the tool (it bounds its output itself). A runtime's per-tool entry wins.
   */
  readonly outputBudget?: ToolOutputLimit | false;
}): ToolDefinition<ToolInputOf<Schema>> {
  checkedModelInputSchema(definition);
  if (definition.outputBudget !== undefined) checkDefinedToolOutputLimit(definition.outputBudget, definition.name);
  return definition as ToolDefinition<ToolInputOf<Schema>>;
}
