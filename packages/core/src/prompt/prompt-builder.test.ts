import type { PromptContribution, PromptLayer, PromptSlot } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { buildSystemPrompt, DEFAULT_PROMPT_INTRO, normalizeContributions, resolvePromptLayers } from "./prompt-builder.js";

const ASK_BULLET = "Ask the user only when";

function layer(options: { template?: string; contributions?: PromptContribution[]; resetSlots?: PromptSlot[] } = {}): PromptLayer {
  const result: PromptLayer = { contributions: options.contributions ?? [], resetSlots: options.resetSlots ?? [] };
  if (options.template !== undefined) result.template = options.template;
  return result;
}

function contribution(slot: PromptSlot, content: string, extra: { priority?: number; title?: string } = {}): PromptContribution {
  const result: PromptContribution = { slot, priority: extra.priority ?? 0, content };
  if (extra.title !== undefined) result.title = extra.title;
  return result;
}

function build(layers: PromptLayer[], options: { executionPrompt?: string; toolNames?: string[] } = {}): string {
  return buildSystemPrompt({ layers, executionPrompt: options.executionPrompt ?? "Run tools.", toolNames: options.toolNames ?? [] });
}

/** The `## Title` sections of a prompt, in order (the untitled intro is ""). */
function sections(prompt: string): { title: string; body: string }[] {
  const parts = prompt.split(/^## /m);
  const [intro, ...rest] = parts;
  return [
    { title: "", body: (intro ?? "").trim() },
    ...rest.map((section) => {
      const [title, ...body] = section.split("\n");
      return { title: title ?? "", body: body.join("\n").trim() };
    }),
  ];
}

describe("resolvePromptLayers", () => {
  it("a later layer's template wins, and a layer without one keeps the earlier", () => {
    expect(resolvePromptLayers([layer({ template: "A" }), layer({ template: "B" })]).template).toBe("B");
    expect(resolvePromptLayers([layer({ template: "A" }), layer()]).template).toBe("A");
    expect(resolvePromptLayers([layer(), layer()]).template).toBeUndefined();
  });

  it("resetSlots drops the earlier layers' contributions to that slot only", () => {
    const { contributions } = resolvePromptLayers([
      layer({ contributions: [contribution("guidance", "old guidance"), contribution("environment", "old env")] }),
      layer({ contributions: [contribution("guidance", "middle guidance")] }),
      layer({ resetSlots: ["guidance"], contributions: [contribution("guidance", "new guidance")] }),
      layer({ contributions: [contribution("guidance", "later guidance")] }),
    ]);
    expect(contributions.map((entry) => entry.content)).toEqual(["later guidance", "new guidance", "old env"]);
  });

  it("a reset keeps the resetting layer's own contributions to the slot", () => {
    const { contributions } = resolvePromptLayers([
      layer({ contributions: [contribution("intro", "old")] }),
      layer({ resetSlots: ["intro"], contributions: [contribution("intro", "replacement")] }),
    ]);
    expect(contributions).toEqual([contribution("intro", "replacement")]);
  });
});

describe("normalizeContributions", () => {
  it("trims content and titles and drops empty contributions", () => {
    expect(
      normalizeContributions([
        contribution("intro", "  padded  \n"),
        contribution("intro", "   \n\t"),
        contribution("guidance", " body ", { title: "  Title  " }),
        contribution("guidance", "untitled", { title: "   " }),
      ]),
    ).toEqual([
      contribution("intro", "padded"),
      contribution("guidance", "untitled"),
      contribution("guidance", "body", { title: "Title" }),
    ]);
  });

  it("sorts by slot order, then priority, then title, then content", () => {
    const sorted = normalizeContributions([
      contribution("environment", "env"),
      contribution("guidance", "b", { priority: 1 }),
      contribution("guidance", "z", { priority: 0, title: "B" }),
      contribution("guidance", "y", { priority: 0, title: "A" }),
      contribution("guidance", "d", { priority: 0 }),
      contribution("guidance", "c", { priority: 0 }),
      contribution("intro", "intro", { priority: 5 }),
      contribution("runtime_context", "ctx"),
      contribution("project_instructions", "proj"),
      contribution("execution", "exec", { priority: -1 }),
      contribution("guidance", "negative", { priority: -3 }),
    ]);
    expect(sorted.map((entry) => `${entry.slot}:${entry.priority}:${entry.title ?? ""}:${entry.content}`)).toEqual([
      "intro:5::intro",
      "execution:-1::exec",
      "guidance:-3::negative",
      "guidance:0::c",
      "guidance:0::d",
      "guidance:0:A:y",
      "guidance:0:B:z",
      "guidance:1::b",
      "project_instructions:0::proj",
      "runtime_context:0::ctx",
      "environment:0::env",
    ]);
  });

  it("orders titles and contents by code point, not by locale, so every machine renders the same prompt", () => {
    const sorted = normalizeContributions([
      contribution("guidance", "b"),
      contribution("guidance", "B"),
      contribution("guidance", "a"),
      contribution("guidance", "A"),
      contribution("environment", "x", { title: "beta" }),
      contribution("environment", "x", { title: "Zeta" }),
    ]);
    expect(sorted.map((entry) => entry.title ?? entry.content)).toEqual(["A", "B", "a", "b", "Zeta", "beta"]);
  });

  it("removes duplicates (after trimming)", () => {
    expect(
      normalizeContributions([
        contribution("guidance", "same"),
        contribution("guidance", "  same "),
        contribution("guidance", "same", { priority: 1 }),
        contribution("environment", "same"),
      ]),
    ).toEqual([contribution("guidance", "same"), contribution("guidance", "same", { priority: 1 }), contribution("environment", "same")]);
  });
});

describe("buildSystemPrompt: default template", () => {
  it("renders the intro, then Execution, Guidance and Environment sections, joined by blank lines", () => {
    const prompt = build(
      [
        layer({
          contributions: [
            contribution("intro", "Project: demo."),
            contribution("execution", "Execution note."),
            contribution("guidance", "Prefer short answers."),
            contribution("project_instructions", "Use tabs."),
            contribution("runtime_context", "Today is Monday."),
            contribution("environment", "OS: linux."),
          ],
        }),
      ],
      { executionPrompt: "Use tools directly." },
    );
    const parsed = sections(prompt);
    expect(parsed.map((section) => section.title)).toEqual(["", "Execution", "Guidance", "Environment"]);
    expect(parsed[0]?.body).toBe(`${DEFAULT_PROMPT_INTRO}\n\nProject: demo.`);
    expect(parsed[1]?.body).toBe("Use tools directly.\n\nExecution note.");
    expect(prompt).toContain("\n\n## Execution\n\nUse tools directly.");
    // Core guidance first, then project instructions, then the guidance slot.
    const guidance = parsed[2]?.body ?? "";
    expect(guidance.indexOf("- ")).toBe(0);
    expect(guidance.indexOf("Use tabs.")).toBeGreaterThan(0);
    expect(guidance.indexOf("Use tabs.")).toBeLessThan(guidance.indexOf("Prefer short answers."));
    expect(parsed[3]?.body).toBe("Today is Monday.\n\nOS: linux.");
    expect(prompt).not.toMatch(/\n{3,}/);
    expect(prompt).toBe(prompt.trim());
  });

  it("starts with the built-in intro", () => {
    expect(build([layer()]).startsWith(DEFAULT_PROMPT_INTRO)).toBe(true);
  });

  it("drops empty sections", () => {
    const prompt = build([layer()], { executionPrompt: "" });
    expect(sections(prompt).map((section) => section.title)).toEqual(["", "Guidance"]);
    expect(prompt).not.toContain("## Execution");
    expect(prompt).not.toContain("## Environment");
  });

  it("renders a titled contribution as `### Title` and a blank line before its body", () => {
    const prompt = build([layer({ contributions: [contribution("environment", "Node 20", { title: "Runtime" })] })]);
    expect(prompt).toContain("## Environment\n\n### Runtime\n\nNode 20");
  });

  it("adds the ask guidance bullet only when an `ask` tool exists", () => {
    expect(build([layer()], { toolNames: ["read_file"] })).not.toContain(ASK_BULLET);
    expect(build([layer()], { toolNames: ["read_file", "ask"] })).toContain(ASK_BULLET);
    expect(build([layer()], { toolNames: ["ask_user"] })).not.toContain(ASK_BULLET);
  });

  it("renders the same prompt for the same input (no randomness, stable order)", () => {
    const layers = [layer({ contributions: [contribution("guidance", "b"), contribution("guidance", "a")] })];
    const reversed = [layer({ contributions: [contribution("guidance", "a"), contribution("guidance", "b")] })];
    expect(build(layers)).toBe(build(reversed));
  });

  it("a reset slot in a later layer removes the earlier text from the prompt", () => {
    const prompt = build([
      layer({ contributions: [contribution("environment", "stale environment")] }),
      layer({ resetSlots: ["environment"], contributions: [contribution("environment", "fresh environment")] }),
    ]);
    expect(prompt).toContain("fresh environment");
    expect(prompt).not.toContain("stale environment");
  });
});

describe("buildSystemPrompt: custom templates", () => {
  it("replaces placeholders with the sections", () => {
    const prompt = build(
      [
        layer({
          template: "INTRO={{intro}}\nEXEC={{execution}}\nPROJ={{ project_instructions }}\nCTX={{runtime_context}}\nENV={{environment}}",
          contributions: [
            contribution("intro", "hello"),
            contribution("project_instructions", "tabs"),
            contribution("runtime_context", "monday"),
            contribution("environment", "linux"),
          ],
        }),
      ],
      { executionPrompt: "exec prompt" },
    );
    expect(prompt).toBe("INTRO=hello\nEXEC=exec prompt\nPROJ=tabs\nCTX=monday\nENV=linux");
  });

  it("fills {{guidance}} with the core guidance and the guidance slot", () => {
    const prompt = build([layer({ template: "{{guidance}}", contributions: [contribution("guidance", "Be nice.")] })], {
      toolNames: ["ask"],
    });
    expect(prompt.startsWith("- ")).toBe(true);
    expect(prompt).toContain(ASK_BULLET);
    expect(prompt.endsWith("Be nice.")).toBe(true);
  });

  it("keeps unknown placeholders, and collapses the blank lines empty sections leave", () => {
    const prompt = build([layer({ template: "Top\n\n{{environment}}\n\n\n{{unknown}}\n" })]);
    expect(prompt).toBe("Top\n\n{{unknown}}");
  });

  it("uses the last layer's template over earlier ones", () => {
    expect(
      build([layer({ template: "first" }), layer(), layer({ template: "second {{intro}}", contributions: [contribution("intro", "x")] })]),
    ).toBe("second x");
  });
});

describe("buildSystemPrompt on inputs it rendered before", () => {
  it("renders what the inputs say now: a contribution changed in place, a layer, a tool or a template changes the prompt", () => {
    const note = contribution("guidance", "Use the metric system.");
    const layers = [layer({ contributions: [note] })];
    const first = build(layers);
    expect(first).toContain("Use the metric system.");
    expect(build([layer({ contributions: [contribution("guidance", "Use the metric system.")] })])).toBe(first);

    // The same objects, changed in place: a value comparison, not an identity one.
    note.content = "Use imperial units.";
    const changed = build(layers);
    expect(changed).toContain("Use imperial units.");
    expect(changed).not.toContain("metric");
    note.title = "Units";
    expect(build(layers)).toContain("### Units\n\nUse imperial units.");
    note.priority = 5;
    layers[0]?.contributions.push(contribution("guidance", "Round to two places.", { priority: 1 }));
    expect(build(layers).indexOf("Round to two places.")).toBeLessThan(build(layers).indexOf("Use imperial units."));

    expect(build(layers, { toolNames: ["ask"] })).toContain(ASK_BULLET);
    expect(build(layers)).not.toContain(ASK_BULLET);
    expect(build([...layers, layer({ resetSlots: ["guidance"] })])).not.toContain("imperial");
    expect(build([...layers, layer({ template: "Only {{guidance}}" })])).toMatch(/^Only /);
    expect(build(layers, { executionPrompt: "Run nothing." })).toContain("Run nothing.");
    // Nothing of the inputs is kept by reference: the prompt rendered first is still what they said then.
    expect(first).toContain("Use the metric system.");
  });
});
