import type { OutputLimits } from "./output-bounds.js";
import { DEFAULT_OUTPUT_LIMITS } from "./output-bounds.js";
import type { ConfiningPathGuard, PathGuardOptions } from "./path-guard.js";

/** The names of the built-in tools. */
export type WorkspaceToolName = "read_file" | "list_directory" | "search_files" | "write_file" | "patch_file" | "run_shell";

/** Every built-in tool, in the order they are offered. */
export const WORKSPACE_TOOL_NAMES: readonly WorkspaceToolName[] = [
  "read_file",
  "list_directory",
  "search_files",
  "write_file",
  "patch_file",
  "run_shell",
];

/** Options of `createWorkspaceTools`. */
export interface WorkspaceToolsOptions extends PathGuardOptions {
  /** Bounds on each tool's output; missing fields keep `DEFAULT_OUTPUT_LIMITS`. */
  readonly limits?: Partial<OutputLimits>;
  /** How long a shell command may run before it is killed. Default 120 000 ms. */
  readonly shellTimeoutMs?: number;
  /**
   * How long `search_files` may spend matching a regular expression against one file before it
   * gives up with `search_timeout`. Default 10 000 ms.
   */
  readonly searchTimeoutMs?: number;
  /** Only these tools (default: all of `WORKSPACE_TOOL_NAMES`). */
  readonly tools?: readonly WorkspaceToolName[];
}

/** What each tool gets: the guard and the limits. */
export interface WorkspaceToolContext {
  readonly guard: ConfiningPathGuard;
  readonly limits: OutputLimits;
  readonly shellTimeoutMs: number;
  readonly searchTimeoutMs: number;
}

/** The context of one tool set. */
export function createWorkspaceToolContext(guard: ConfiningPathGuard, options: WorkspaceToolsOptions): WorkspaceToolContext {
  const limits: OutputLimits = { ...DEFAULT_OUTPUT_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`limits.${name} must be a positive integer, got ${String(value)}`);
  }
  const shellTimeoutMs = options.shellTimeoutMs ?? 120_000;
  const searchTimeoutMs = options.searchTimeoutMs ?? 10_000;
  if (!Number.isInteger(searchTimeoutMs) || searchTimeoutMs < 1)
    throw new TypeError(`searchTimeoutMs must be a positive integer, got ${String(searchTimeoutMs)}`);
  return {
    guard,
    limits,
    shellTimeoutMs,
    searchTimeoutMs,
  };
}
