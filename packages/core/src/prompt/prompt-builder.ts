import type { PromptContribution, PromptLayer, PromptSlot } from "@lash/protocol";
import { compareCodePoints } from "@lash/protocol";

const SLOT_ORDER: readonly PromptSlot[] = ["intro", "execution", "guidance", "project_instructions", "runtime_context", "environment"];

/** The built-in opening of the default prompt. */
export const DEFAULT_PROMPT_INTRO = "You are an AI assistant running on the lash agent runtime.";

function coreGuidance(toolNames: readonly string[]): string {
  const bullets = [
    "- Be accurate: report what you did and what you found; never invent a tool result.",
    "- Keep answers concise and specific to the request.",
  ];
  if (toolNames.includes("ask")) bullets.push("- Ask the user only when you are blocked and cannot proceed on your own.");
  return bullets.join("\n");
}

/** Inputs of the system prompt. */
export interface PromptBuildInput {
  /** Layers in order: mode, execution surface, runtime core, session policy, turn context. */
  readonly layers: readonly PromptLayer[];
  readonly executionPrompt: string;
  readonly toolNames: readonly string[];
}

/** The template and contributions that result from applying the layers in order. */
export function resolvePromptLayers(layers: readonly PromptLayer[]): { template: string | undefined; contributions: PromptContribution[] } {
  let template: string | undefined;
  let contributions: PromptContribution[] = [];
  for (const layer of layers) {
    if (layer.template !== undefined) template = layer.template;
    if (layer.resetSlots.length > 0) {
      const reset = new Set(layer.resetSlots);
      contributions = contributions.filter((contribution) => !reset.has(contribution.slot));
    }
    contributions.push(...layer.contributions);
  }
  return { template, contributions: normalizeContributions(contributions) };
}

/** Trims, drops empty ones, sorts by slot, priority, title, content, and removes duplicates. */
export function normalizeContributions(contributions: readonly PromptContribution[]): PromptContribution[] {
  const seen = new Set<string>();
  const normalized: PromptContribution[] = [];
  for (const contribution of contributions) {
    const content = contribution.content.trim();
    if (content === "") continue;
    const title = contribution.title?.trim();
    const clean: PromptContribution = title
      ? { slot: contribution.slot, priority: contribution.priority, title, content }
      : { slot: contribution.slot, priority: contribution.priority, content };
    const key = JSON.stringify([clean.slot, clean.priority, clean.title ?? "", clean.content]);
    if (seen.has(key)) continue;
    seen.add(key);
    normalized.push(clean);
  }
  return normalized.sort(
    (left, right) =>
      SLOT_ORDER.indexOf(left.slot) - SLOT_ORDER.indexOf(right.slot) ||
      left.priority - right.priority ||
      compareCodePoints(left.title ?? "", right.title ?? "") ||
      compareCodePoints(left.content, right.content),
  );
}

function renderContribution(contribution: PromptContribution): string {
  return contribution.title ? `### ${contribution.title}\n\n${contribution.content}` : contribution.content;
}

function joinBlocks(blocks: readonly string[]): string {
  return blocks.filter((block) => block.trim() !== "").join("\n\n");
}

function slotBlocks(contributions: readonly PromptContribution[], slot: PromptSlot): string[] {
  return contributions.filter((contribution) => contribution.slot === slot).map(renderContribution);
}

/**
 * Renders the system prompt. The default layout has an untitled intro, then `## Execution`,
 * `## Guidance` and `## Environment` sections; empty sections are dropped. A custom template
 * replaces the layout: `{{intro}}`, `{{execution}}`, `{{guidance}}`, `{{project_instructions}}`,
 * `{{runtime_context}}` and `{{environment}}` are replaced by their content.
 */
export function buildSystemPrompt(input: PromptBuildInput): string {
  for (const built of recentPrompts) if (samePromptInput(built.input, input)) return built.prompt;
  const prompt = renderSystemPrompt(input);
  recentPrompts.unshift({ input: copiedPromptInput(input), prompt });
  if (recentPrompts.length > MAX_RECENT_PROMPTS) recentPrompts.pop();
  return prompt;
}

/**
 * The last prompts rendered, newest first, each with a copy of what it was rendered from. A
 * session's turns, and a server's sessions of one profile, render the same prompt again and again:
 * the inputs are compared by value (a contribution object changed in place is a different input)
 * and the prompt rendered once.
 */
const recentPrompts: { readonly input: PromptBuildInput; readonly prompt: string }[] = [];
const MAX_RECENT_PROMPTS = 8;

function copiedPromptInput(input: PromptBuildInput): PromptBuildInput {
  return {
    layers: input.layers.map((layer) => ({
      ...(layer.template === undefined ? {} : { template: layer.template }),
      contributions: layer.contributions.map((contribution) => ({ ...contribution })),
      resetSlots: [...layer.resetSlots],
    })),
    executionPrompt: input.executionPrompt,
    toolNames: [...input.toolNames],
  };
}

function sameStrings(left: readonly string[], right: readonly string[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

function sameContributions(left: readonly PromptContribution[], right: readonly PromptContribution[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) {
    const a = left[index];
    const b = right[index];
    if (a?.slot !== b?.slot || a?.priority !== b?.priority || a?.title !== b?.title || a?.content !== b?.content) return false;
  }
  return true;
}

function samePromptInput(left: PromptBuildInput, right: PromptBuildInput): boolean {
  if (left.executionPrompt !== right.executionPrompt || !sameStrings(left.toolNames, right.toolNames)) return false;
  if (left.layers.length !== right.layers.length) return false;
  for (let index = 0; index < left.layers.length; index += 1) {
    const a = left.layers[index];
    const b = right.layers[index];
    if (a === undefined || b === undefined || a.template !== b.template) return false;
    if (!sameStrings(a.resetSlots, b.resetSlots) || !sameContributions(a.contributions, b.contributions)) return false;
  }
  return true;
}

function renderSystemPrompt(input: PromptBuildInput): string {
  const { template, contributions } = resolvePromptLayers(input.layers);
  const sections = {
    intro: joinBlocks(slotBlocks(contributions, "intro")),
    execution: joinBlocks([input.executionPrompt, ...slotBlocks(contributions, "execution")]),
    guidance: joinBlocks([coreGuidance(input.toolNames), ...slotBlocks(contributions, "guidance")]),
    project_instructions: joinBlocks(slotBlocks(contributions, "project_instructions")),
    runtime_context: joinBlocks(slotBlocks(contributions, "runtime_context")),
    environment: joinBlocks(slotBlocks(contributions, "environment")),
  };
  if (template !== undefined) {
    const rendered = template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (match, name: string) =>
      name in sections ? sections[name as keyof typeof sections] : match,
    );
    return rendered.replace(/\n{3,}/g, "\n\n").trim();
  }
  const titled = (title: string, body: string): string => (body.trim() === "" ? "" : `## ${title}\n\n${body}`);
  return joinBlocks([
    joinBlocks([DEFAULT_PROMPT_INTRO, sections.intro]),
    titled("Execution", sections.execution),
    titled(
      "Guidance",
      joinBlocks([
        coreGuidance(input.toolNames),
        ...slotBlocks(contributions, "project_instructions"),
        ...slotBlocks(contributions, "guidance"),
      ]),
    ),
    titled("Environment", joinBlocks([sections.runtime_context, sections.environment])),
  ]);
}

/** An empty prompt layer. */
export function emptyPromptLayer(): PromptLayer {
  return { contributions: [], resetSlots: [] };
}
