import type { JsonValue } from "@lash/protocol";
import { z } from "zod";

/** The `kind` that marks an execution state as this mode's saved sandbox. */
export const SANDBOX_STATE_KIND = "lash.rlm.sandbox";

const bindingSchema = z.object({
  name: z.string(),
  kind: z.enum(["let", "const", "var"]),
  /** The value as JSON text; absent when the binding holds `undefined`. */
  json: z.string().optional(),
  undefined: z.literal(true).optional(),
});

const lostSchema = z.object({ name: z.string(), reason: z.string() });

/**
 * The saved sandbox: the global bindings whose values survive a JSON round trip, and the ones that
 * did not (functions, class instances, Maps, cycles, ...), which a restored sandbox no longer has.
 * `stateId` changes with every save, so a live sandbox knows whether the session's state is still
 * the one it produced.
 */
export const sandboxStateSchema = z.object({
  kind: z.literal(SANDBOX_STATE_KIND),
  version: z.literal(1),
  stateId: z.string(),
  bindings: z.array(bindingSchema),
  lost: z.array(lostSchema),
});
export type SandboxState = z.infer<typeof sandboxStateSchema>;
export type SavedBinding = z.infer<typeof bindingSchema>;
export type LostBinding = z.infer<typeof lostSchema>;

/** What the snapshot helper inside the sandbox returns (before the host adds the envelope). */
export const snapshotReplySchema = z.object({ bindings: z.array(bindingSchema), lost: z.array(lostSchema) });

/** The session's execution state as a sandbox state, or undefined when it is none (or not this mode's). */
export function readSandboxState(value: JsonValue | undefined): SandboxState | undefined {
  if (value === undefined) return undefined;
  const parsed = sandboxStateSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The state as a JSON value for the session's checkpoint. */
export function sandboxStateValue(state: SandboxState): JsonValue {
  return {
    kind: state.kind,
    version: state.version,
    stateId: state.stateId,
    bindings: state.bindings.map((binding) => ({ ...binding })),
    lost: state.lost.map((entry) => ({ ...entry })),
  };
}

/** The script that re-creates one saved binding in a fresh sandbox. */
export function restoreScript(binding: SavedBinding): string {
  const value = binding.json === undefined ? "undefined" : `JSON.parse(${JSON.stringify(binding.json)})`;
  return `${binding.kind} ${binding.name} = ${value};`;
}

/** The note a model reads when its sandbox was rebuilt from saved state and some values are gone. */
export function restoreNote(restored: readonly SavedBinding[], lost: readonly LostBinding[]): string | undefined {
  if (lost.length === 0) return undefined;
  const gone = lost.map((entry) => `${entry.name} (${entry.reason})`).join(", ");
  const kept = restored.length === 0 ? "none" : restored.map((binding) => binding.name).join(", ");
  return `[sandbox restored from saved state: ${kept} restored; not saved and undefined now: ${gone}. Define them again if you need them.]`;
}
