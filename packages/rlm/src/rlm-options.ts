import type { JsonObject, ModeTurnOptions } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { z } from "zod";
import type { SandboxLimits } from "./sandbox/quickjs-sandbox.js";

/** The id of the mode (`SessionPolicy.executionMode`). */
export const RLM_MODE_ID = "rlm";

/**
 * How an RLM turn may end. `submit_required` (the default): only `submit(value)` from a cell ends
 * it, and a prose-only reply gets a reminder; `schema` (a JSON Schema) checks the value when the
 * turn asks for no structured output of its own. `prose_or_submit`: a reply without a cell is
 * the answer, and `submit` works too.
 */
export type RlmTermination = { readonly kind: "submit_required"; readonly schema?: JsonObject } | { readonly kind: "prose_or_submit" };

const terminationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("submit_required"), schema: z.record(z.string(), z.unknown()).optional() }),
  z.object({ kind: z.literal("prose_or_submit") }),
]);

/** The mode options of a turn (`TurnInput.modeTurnOptions` or the session's) for this mode. */
export function rlmTurnOptions(termination: RlmTermination): ModeTurnOptions {
  return { modeId: RLM_MODE_ID, payload: { ...termination } as ModeTurnOptions["payload"] };
}

/** The termination a turn's mode options name; the mode's default when they are absent or another mode's. */
export function decodeTermination(options: ModeTurnOptions | undefined, fallback: RlmTermination): RlmTermination {
  if (options === undefined || options.modeId !== RLM_MODE_ID) return fallback;
  const payload = options.payload;
  if (typeof payload === "object" && payload !== null && !Array.isArray(payload) && Object.keys(payload).length === 0) return fallback;
  const parsed = terminationSchema.safeParse(payload);
  if (!parsed.success) {
    throw new LashError("invalid_argument", `invalid rlm mode options: ${parsed.error.issues[0]?.message ?? "unknown shape"}`);
  }
  const value = parsed.data;
  return value.kind === "submit_required" && value.schema !== undefined
    ? { kind: "submit_required", schema: value.schema as JsonObject }
    : { kind: value.kind };
}

/** Options of `createRlmMode`. */
export interface RlmModeOptions {
  /** Fence tags that mark a code cell (default `["js", "javascript"]`). */
  readonly languageTags?: readonly string[];
  /** How turns end when their options say nothing (default `{ kind: "submit_required" }`). */
  readonly termination?: RlmTermination;
  /** Per-cell limits (defaults: 5 s of execution, 64 MiB heap, 256 KiB stack, 20,000 characters printed, 1,000 tool calls, 1 MiB state). */
  readonly limits?: Partial<SandboxLimits>;
  /** How many session sandboxes stay alive at once; the least recently used is closed first (default 16). */
  readonly maxLiveSandboxes?: number;
  /**
   * Show streamed prose as reasoning and hide the cell's source while it streams (default true).
   * The answer of the turn is the submitted value, or the prose of a reply without a cell.
   */
  readonly maskStream?: boolean;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 5_000,
  memoryBytes: 64 * 1024 * 1024,
  maxStackBytes: 256 * 1024,
  maxOutputCharacters: 20_000,
  maxToolCallsPerCell: 1_000,
  maxStateBytes: 1024 * 1024,
};

/** The limits with the caller's overrides, checked (each must be a positive integer). */
export function resolveLimits(overrides: Partial<SandboxLimits> | undefined): SandboxLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new LashError("invalid_configuration", `rlm limit \`${name}\` must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}
