import type { z } from "zod";
import type { ModelProvider } from "./ports/model-provider.js";
import type { ModeTurnExtension } from "./ports/modes.js";
import type { PromptLayer } from "./session.js";
import type { TerminationPolicy } from "./termination.js";
import type { turnInputSchema } from "./turn.js";

/**
 * Per-turn host overrides. They apply to this turn's copy of the policy only and are never persisted.
 */
export interface TurnContext {
  /** Values for plugins, keyed by plugin id. */
  readonly pluginInputs?: ReadonlyMap<string, unknown>;
  /** Run this turn on another provider (with its default model unless `model` is set too). */
  readonly provider?: ModelProvider;
  /** Run this turn on another model; `variant: null` clears the session's variant. */
  readonly model?: { readonly model: string; readonly variant?: string | null };
  /** The last prompt layer applied to this turn. */
  readonly prompt?: PromptLayer;
  /** Limits for this turn, merged over the runtime's termination policy. */
  readonly termination?: Partial<TerminationPolicy>;
}

/**
 * Host-provided input of one turn: the serializable part (`items`, `imageBlobs`, `modeTurnOptions`,
 * `traceTurnId`) plus the in-process extras (`modeExtension`, `turnContext`).
 */
export type TurnInput = z.infer<typeof turnInputSchema> & {
  readonly modeExtension?: ModeTurnExtension;
  readonly turnContext?: TurnContext;
};
