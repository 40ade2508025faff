import { LashError } from "@lash/protocol";

/**
 * Which graph nodes a runtime keeps in memory:
 * - `keep_all` (default): every node (interactive branching UIs);
 * - `active_path_only`: only the active path; off-path nodes stay in the store, readable with
 *   `runtime.getHistoricNode`. Requires a store, and never deletes off-path nodes from it.
 */
export type Residency = "keep_all" | "active_path_only";

const RESIDENCIES: readonly Residency[] = ["keep_all", "active_path_only"];

/** Checks a residency given by untyped host code. */
export function validateResidency(residency: Residency): Residency {
  if (!RESIDENCIES.includes(residency)) {
    throw new LashError(
      "invalid_configuration",
      `unknown residency \`${String(residency)}\` (expected ${RESIDENCIES.map((value) => `\`${value}\``).join(" or ")})`,
    );
  }
  return residency;
}
