import { LashError } from "@lash/protocol";

/** Limits and defaults of the subagent tools. */
export interface SubagentOptions {
  /**
   * How deep subagents may nest: a root session's children are at depth 1, their children at 2.
   * Default 3. `spawn_agent` beyond it fails with a `subagent_depth_exceeded` tool error.
   */
  readonly maxDepth?: number;
  /**
   * How many subagents one session may have live at once. Default 8. `spawn_agent` beyond it fails
   * with a `subagent_fan_out_exceeded` tool error (await or cancel one first).
   */
  readonly maxLiveChildren?: number;
  /** The model children use when `spawn_agent` names none (default: the parent session's model). */
  readonly defaultModel?: string;
  /** How much of a child's answer goes into its task's `result.summary` (the full answer is in `result.value`). Default 200. */
  readonly summaryLength?: number;
}

/** `SubagentOptions` with every default applied. */
export interface ResolvedSubagentOptions {
  readonly maxDepth: number;
  readonly maxLiveChildren: number;
  readonly defaultModel: string | undefined;
  readonly summaryLength: number;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) {
    throw new LashError("invalid_configuration", `subagent option \`${name}\` must be a positive integer, got ${String(value)}`);
  }
  return resolved;
}

/** Applies the defaults and checks the limits (`invalid_configuration` for a bad one). */
export function resolveSubagentOptions(options: SubagentOptions = {}): ResolvedSubagentOptions {
  if (options.defaultModel !== undefined && (typeof options.defaultModel !== "string" || options.defaultModel === "")) {
    throw new LashError("invalid_configuration", "subagent option `defaultModel` must be a non-empty string");
  }
  return {
    maxDepth: positiveInteger(options.maxDepth, 3, "maxDepth"),
    maxLiveChildren: positiveInteger(options.maxLiveChildren, 8, "maxLiveChildren"),
    defaultModel: options.defaultModel,
    summaryLength: positiveInteger(options.summaryLength, 200, "summaryLength"),
  };
}
