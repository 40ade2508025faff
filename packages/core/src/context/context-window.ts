import type { SessionPolicy } from "@lash/protocol";
import { knownContextWindow } from "../runtime/model-context-windows.js";

/**
 * The context window a model call is fitted to. The session's `maxContextTokens` was set for the
 * session's model; a turn that runs another model (a turn-context override) gets the smaller of
 * that and the other model's known window, so a switch to a smaller model never sends a prompt
 * sized for the bigger one.
 */
export function callContextWindow(policy: SessionPolicy, model: string): number {
  if (model === policy.model) return policy.maxContextTokens;
  const known = knownContextWindow(model);
  return known === undefined ? policy.maxContextTokens : Math.min(policy.maxContextTokens, known);
}

/**
 * The session's window after its model changed to `model` (and the update named no window of its
 * own): a model with a smaller known window brings it, so the next turn's prompt fits it; a bigger
 * or unknown one keeps the current window, which the host may have set on purpose.
 */
export function windowAfterModelChange(current: number, model: string): number {
  const known = knownContextWindow(model);
  return known === undefined ? current : Math.min(current, known);
}
