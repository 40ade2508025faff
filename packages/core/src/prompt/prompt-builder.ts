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
