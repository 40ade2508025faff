import type {
  JsonSchemaObject,
  JsonValue,
  StandardSchemaV1,
  ToolContext,
  ToolDefinition,
  ToolExecuteResult,
  ToolExecutionMode,
  ToolRetryPolicy,
} from "@lash/protocol";

type InferOutput<Schema> = Schema extends StandardSchemaV1<unknown, infer Output> ? Output : JsonValue;

/**
 * Defines a tool with typed input: pass a zod (or any Standard Schema) object schema and `execute`
 * receives the parsed value; pass a JSON Schema object and it receives the JSON arguments.
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
  readonly execute: (input: InferOutput<Schema>, context: ToolContext) => ToolExecuteResult | Promise<ToolExecuteResult>;
}): ToolDefinition<InferOutput<Schema>> {
  return definition as ToolDefinition<InferOutput<Schema>>;
}
