import type { ToolDefinition } from "@lash/protocol";
import { LashError } from "@lash/protocol";

/** How much of one tool result the model sees; past either limit the result is cut to an excerpt. */
export interface ToolOutputLimit {
  /** Bytes of UTF-8 (default 50,000; for windows under 100,000 tokens, half the window in tokens). */
  readonly maxBytes?: number;
  /** Lines (default 2,000). */
  readonly maxLines?: number;
}

/** The tool-output budget of a runtime (`withToolOutputBudget`). */
export interface ToolOutputBudgetOptions extends ToolOutputLimit {
  /** Limits of single tools by name (over the defaults and `defineTool`'s `outputBudget`); `false` exempts a tool. */
  readonly tools?: Readonly<Record<string, ToolOutputLimit | false>>;
}

/** The default byte limit: 50,000 bytes. */
export const DEFAULT_TOOL_OUTPUT_BYTES = 50_000;
/** The default line limit: 2,000 lines. */
export const DEFAULT_TOOL_OUTPUT_LINES = 2_000;

function checkLimit(where: string, limit: ToolOutputLimit | false): ToolOutputLimit | false {
  if (limit === false) return false;
  if (typeof limit !== "object" || limit === null) throw new LashError("invalid_configuration", `${where} must be an object or false`);
  for (const key of ["maxBytes", "maxLines"] as const) {
    const value = limit[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new LashError("invalid_configuration", `${where}.${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return limit;
}

/** Checks the output limit `defineTool` was given (a bad one fails where the tool is defined). */
export function checkDefinedToolOutputLimit(limit: ToolOutputLimit | false, toolName: string): void {
  checkLimit(`the outputBudget of tool \`${toolName}\``, limit);
}

/**
 * The limit a tool carries from `defineTool({ outputBudget })`, if any. It is a field of the
 * definition object (so a copy made with `{ ...tool }` keeps it), which the protocol's
 * `ToolDefinition` type does not declare.
 */
export function definedToolOutputLimit(definition: ToolDefinition<unknown> | undefined): ToolOutputLimit | false | undefined {
  const limit: unknown = (definition as { readonly outputBudget?: unknown } | undefined)?.outputBudget;
  if (limit === false) return false;
  if (typeof limit !== "object" || limit === null) return undefined;
  // A definition written by hand was never checked: only sound figures count.
  const sound = (value: unknown): number | undefined =>
    Number.isSafeInteger(value) && (value as number) >= 1 ? (value as number) : undefined;
  const maxBytes = sound((limit as ToolOutputLimit).maxBytes);
  const maxLines = sound((limit as ToolOutputLimit).maxLines);
  return { ...(maxBytes === undefined ? {} : { maxBytes }), ...(maxLines === undefined ? {} : { maxLines }) };
}

/** Checks the budget a host gives `withToolOutputBudget`. */
export function checkToolOutputBudget(budget: ToolOutputBudgetOptions | false): ToolOutputBudgetOptions | false {
  if (budget === false) return false;
  checkLimit("withToolOutputBudget", budget);
  for (const [name, limit] of Object.entries(budget.tools ?? {})) checkLimit(`withToolOutputBudget tools.${name}`, limit);
  return budget;
}

/** The limits in force for one tool, or `undefined` when the tool is exempt. */
export interface ResolvedToolOutputLimit {
  readonly maxBytes: number;
  readonly maxLines: number;
}

/**
 * The limits of `toolName`: the runtime's per-tool entry, else the tool's own (`defineTool`), else
 * the runtime's defaults; a figure left out comes from the level below. The byte default is
 * 50,000, or half the context window in tokens when that is less (about an eighth of the window).
 */
export function resolveToolOutputLimit(
  budget: ToolOutputBudgetOptions,
  toolName: string,
  definition: ToolDefinition<unknown> | undefined,
  maxContextTokens: number,
): ResolvedToolOutputLimit | undefined {
  const configured = budget.tools?.[toolName];
  const defined = definedToolOutputLimit(definition);
  if (configured === false || (configured === undefined && defined === false)) return undefined;
  const own = configured ?? (defined === false ? undefined : defined);
  return {
    maxBytes: own?.maxBytes ?? budget.maxBytes ?? Math.max(1_000, Math.min(DEFAULT_TOOL_OUTPUT_BYTES, Math.floor(maxContextTokens / 2))),
    maxLines: own?.maxLines ?? budget.maxLines ?? DEFAULT_TOOL_OUTPUT_LINES,
  };
}
