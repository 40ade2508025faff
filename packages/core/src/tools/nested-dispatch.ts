import type { JsonValue, ToolCallOutput, ToolContext } from "@lash/protocol";

/** One call inside a batch. */
export interface NestedToolCall {
  readonly toolName: string;
  readonly args: JsonValue;
}

export interface NestedToolResult {
  readonly output: ToolCallOutput;
  readonly durationMs: number;
}

/**
 * Runs calls through the same dispatch path as top-level calls (plugin hooks, validation, retries,
 * parallel-then-serial scheduling) but without tool events of their own.
 */
export type NestedToolDispatcher = (calls: readonly NestedToolCall[], signal: AbortSignal) => Promise<NestedToolResult[]>;

const nestedDispatchKey = Symbol.for("lash.nested-tool-dispatch");

/** A tool context that can dispatch nested calls (given only to the mode's own tools). */
export type NativeToolContext = ToolContext & { readonly [nestedDispatchKey]?: NestedToolDispatcher };

export function withNestedDispatch(context: ToolContext, dispatcher: NestedToolDispatcher): NativeToolContext {
  return { ...context, [nestedDispatchKey]: dispatcher };
}

export function nestedDispatcherOf(context: ToolContext): NestedToolDispatcher | undefined {
  return (context as NativeToolContext)[nestedDispatchKey];
}
