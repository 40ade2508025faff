import type { PromptContribution } from "../session.js";

/**
 * A per-turn, mode-owned payload (`TurnInput.modeExtension`). The session's execution mode validates
 * it at turn start (a rejection throws `mode_turn_extension`); its prompt contributions join the
 * execution surface's prompt; tools can read it from their context. `kind` identifies the payload
 * type so a mode can recognise its own extensions.
 */
export interface ModeTurnExtension {
  /** The payload's type, as the mode that owns it names it. */
  readonly kind: string;
  /** Prompt pieces this turn adds; called once at turn start. Absent = none. */
  promptContributions?(): readonly PromptContribution[];
}

/** A per-session, mode-owned payload applied with `runtime.applyModeSessionExtension()`. */
export interface ModeSessionExtension {
  /** The payload's type, as the mode that owns it names it. */
  readonly kind: string;
}
