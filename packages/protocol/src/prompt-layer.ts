import { z } from "zod";

// Its own module so that the suspended-turn record (which keeps a turn's prompt layer) and the
// session schemas (which keep the suspended turn) do not import each other.

/**
 * Sections of the system prompt, in render order. Contributions are sorted by slot, then priority.
 */
export const promptSlotSchema = z.enum(["intro", "execution", "guidance", "project_instructions", "runtime_context", "environment"]);
export type PromptSlot = z.infer<typeof promptSlotSchema>;

/** A piece of system prompt. A titled contribution renders as `### {title}\n\n{content}`. */
export const promptContributionSchema = z.object({
  /** The section it renders in. */
  slot: promptSlotSchema,
  /** Order within the slot: lower renders first (default 0; ties sort by title, then content). */
  priority: z.number().int().default(0),
  /** A heading; absent renders the content alone. */
  title: z.string().optional(),
  /** The text. */
  content: z.string(),
});
export type PromptContribution = z.infer<typeof promptContributionSchema>;

/**
 * One layer of prompt configuration. Layers apply in order (mode, execution surface, runtime core,
 * session policy, turn context); a later `template` wins, and a slot listed in `resetSlots` drops the
 * contributions earlier layers made to it.
 */
export const promptLayerSchema = z.object({
  /** A layout for the whole prompt, with `{{slot}}` placeholders; absent keeps the earlier layers' (or the default layout). */
  template: z.string().optional(),
  /** This layer's pieces. */
  contributions: z.array(promptContributionSchema).default([]),
  /** Slots whose earlier contributions this layer drops. */
  resetSlots: z.array(promptSlotSchema).default([]),
});
export type PromptLayer = z.infer<typeof promptLayerSchema>;
