import { type JsonObject, toolResult } from "@lash/protocol";
import { textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cellStep, echoTool, readFileTool, recorders, requestTexts, rlmRuntime } from "../test/rlm-fixtures.js";

describe("RLM turns", () => {
  it("runs a cell that calls a tool and submits: the value is the answer, the call is recorded", async () => {
    const readFile = readFileTool({ "notes.txt": "alpha beta gamma" });
    const { runtime, provider } = await rlmRuntime({
      steps: [
        cellStep(
          'const file = await tools.read_file({ path: "notes.txt" });\nconst words = file.content.split(" ");\nprint(words.length);',
        ),
        cellStep("submit({ count: words.length, first: words[0] });", "Now I know."),
      ],
      tools: [readFile],
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("How many words are in notes.txt?", sinks);

    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { count: 3, first: "alpha" } } });
    expect(turn.execution.hadCodeExecution).toBe(true);
    expect(readFile.calls).toEqual(["notes.txt"]);
    expect(turn.toolCalls).toHaveLength(1);
    expect(turn.toolCalls[0]).toMatchObject({ tool: "read_file", args: { path: "notes.txt" }, output: { outcome: { status: "success" } } });
    const types = activities.map((activity) => activity.type);
    expect(types.filter((type) => type === "code_block_started")).toHaveLength(2);
    const completed = activities.filter((activity) => activity.type === "code_block_completed");
    expect(completed[0]).toMatchObject({ output: "3", success: true, toolCallIds: [turn.toolCalls[0]?.callId] });
    expect(types).toContain("tool_call_started");
    expect(types).toContain("tool_call_completed");
    expect(types).toContain("submitted_value");
    // The model read the first cell's output before the second call.
    expect(requestTexts(provider.requests[1] ?? ({ messages: [] } as never)).some((text) => text.includes("[cell output]\n3"))).toBe(true);
    // Requests offer no native tools: the model reaches them from code.
    expect(provider.requests[0]?.tools).toEqual([]);
    expect(turn.assistantOutput.safeText).toContain('"count": 3');
  });

  it("keeps the global scope across cells and turns", async () => {
    const { runtime } = await rlmRuntime({
      steps: [
        cellStep("let total = 40;\nfunction add(n) { total += n; return total; }\nsubmit('stored');"),
        cellStep("add(2);\nsubmit(total);"),
      ],
    });
    expect((await runtime.runTurn("store")).outcome).toMatchObject({ finish: { value: "stored" } });
    expect((await runtime.runTurn("use")).outcome).toMatchObject({ finish: { value: 42 } });
  });

  it("feeds a cell's error back to the model, which goes on", async () => {
    const { runtime, provider } = await rlmRuntime({
      steps: [cellStep("undefinedFunction();"), cellStep("submit('recovered');")],
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("go", sinks);
    expect(turn.outcome).toMatchObject({ type: "finished", finish: { value: "recovered" } });
    const failed = activities.find((activity) => activity.type === "code_block_completed");
    expect(failed).toMatchObject({ success: false });
    expect(failed?.type === "code_block_completed" ? failed.error : "").toMatch(/ReferenceError/);
    expect(requestTexts(provider.requests[1] as never).join("\n")).toMatch(/\[cell error\]\nReferenceError/);
  });

  it("submit_required: a prose reply gets a reminder and the turn goes on", async () => {
    const { runtime, provider } = await rlmRuntime({ steps: [textStep("I think it is 4."), cellStep("submit(4);")] });
    const turn = await runtime.runTurn("2 + 2?");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: 4 } });
    expect(requestTexts(provider.requests[1] as never).join("\n")).toContain("this turn ends only with an explicit final value");
  });

  it("prose_or_submit: a reply without a cell is the answer", async () => {
    const { runtime } = await rlmRuntime({
      steps: [textStep("Hello! Nothing to compute.")],
      modeOptions: { termination: { kind: "prose_or_submit" } },
    });
    const turn = await runtime.runTurn("hi");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello! Nothing to compute." } });
    expect(turn.assistantOutput.safeText).toBe("Hello! Nothing to compute.");
    expect(turn.execution.hadCodeExecution).toBe(false);
  });

  it("per-turn mode options choose the termination", async () => {
    const { runtime } = await rlmRuntime({ steps: [textStep("Plain answer.")] });
    const turn = await runtime.runTurn({
      items: [{ type: "text", text: "hi" }],
      modeTurnOptions: { modeId: "rlm", payload: { kind: "prose_or_submit" } },
    });
    expect(turn.outcome).toMatchObject({ type: "finished", finish: { type: "assistant_message" } });
  });

  it("the last model call the turn allows gets the turn-limit prompt; then the turn stops max_turns", async () => {
    const { runtime, provider } = await rlmRuntime({
      steps: [cellStep("print(1);"), cellStep("print(2);"), cellStep("print(3);")],
      termination: { maxModelCalls: 3 },
    });
    const turn = await runtime.runTurn("loop");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(provider.callCount).toBe(3);
    expect(requestTexts(provider.requests[1] as never).join("\n")).not.toContain("Turn limit reached");
    expect(requestTexts(provider.requests[2] as never).join("\n")).toContain("Turn limit reached (3). This is your last step");
  });

  it("prose_or_submit: the turn-limit prompt asks for a prose summary, which ends the turn", async () => {
    const { runtime, provider } = await rlmRuntime({
      steps: [cellStep("print(1);"), textStep("Summary: printed 1.")],
      termination: { maxModelCalls: 2 },
      modeOptions: { termination: { kind: "prose_or_submit" } },
    });
    const turn = await runtime.runTurn("work");
    expect(requestTexts(provider.requests[1] as never).join("\n")).toContain("You MUST reply in plain prose now");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Summary: printed 1." } });
  });

  it("an empty reply is a provider error", async () => {
    const { runtime } = await rlmRuntime({ steps: [textStep("")] });
    const turn = await runtime.runTurn("hi");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors[0]).toMatchObject({ code: "empty_response" });
  });

  it("only the first cell of a reply runs; the model is told", async () => {
    const { runtime, provider } = await rlmRuntime({
      steps: [textStep("```js\nprint('first');\n```\n\n```js\nprint('second');\n```"), cellStep("submit('done');")],
    });
    await runtime.runTurn("go");
    const text = requestTexts(provider.requests[1] as never).join("\n");
    expect(text).toContain("[cell output]\nfirst");
    expect(text).not.toContain("[cell output]\nsecond");
    expect(text).toContain("1 later block(s) were ignored");
  });

  it("a tool with a finish control ends the turn with its value", async () => {
    const finishTool = {
      name: "finish_task",
      description: "Finish.",
      inputSchema: { type: "object" },
      execute: () => toolResult.success("ok", { type: "finish", value: { done: true } }),
    };
    const echo = echoTool();
    const { runtime } = await rlmRuntime({
      steps: [cellStep("await tools.echo({ value: 1 });\nawait tools.finish_task({});")],
      tools: [echo, finishTool],
    });
    const turn = await runtime.runTurn("finish");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "tool_value", toolName: "finish_task", value: { done: true } } });
    expect(turn.toolCalls.map((call) => call.tool)).toEqual(["echo", "finish_task"]);
  });

  it("validates the submitted value against the turn's output schema; the model fixes a mismatch", async () => {
    const { runtime, provider } = await rlmRuntime({
      steps: [cellStep("submit({ count: 'three' });"), cellStep("submit({ count: 3 });")],
    });
    const Count = z.object({ count: z.number() });
    const turn = await runtime.runTurn("count", { output: Count });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { count: 3 } } });
    expect(turn.output).toEqual({ count: 3 });
    // The model answers in code, so no call asks the provider for JSON output.
    expect(provider.requests.every((request) => request.outputSpec === undefined)).toBe(true);
    expect(requestTexts(provider.requests[0] as never)[0]).toContain("## Required output");
    expect(requestTexts(provider.requests[1] as never).join("\n")).toContain("didn't match the required output schema");
  });

  it("streams prose as reasoning, hides the cell's source, and ends the call at the closing fence", async () => {
    const reply = "Reading the file first.\n```js\nconst x = 6 * 7;\nsubmit(x);\n```\nThis trailing text is never streamed.";
    const { runtime } = await rlmRuntime({ steps: [textStep(reply, { chunks: 9 })] });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("compute", sinks);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: 42 } });
    const text = activities.flatMap((activity) => (activity.type === "text_delta" ? [activity.text] : [])).join("");
    expect(text).toBe("");
    const reasoning = activities.flatMap((activity) => (activity.type === "reasoning_delta" ? [activity.text] : [])).join("");
    expect(reasoning).toContain("Reading the file first.");
    expect(reasoning).not.toContain("6 * 7");
    expect(
      activities.some(
        (activity) => activity.type === "plugin_event" && activity.event.kind === "custom" && activity.event.name === "rlm_fence_start",
      ),
    ).toBe(true);
    const started = activities.find((activity) => activity.type === "code_block_started");
    expect(started?.type === "code_block_started" ? started.code : "").toBe("const x = 6 * 7;\nsubmit(x);");
  });

  it("submit_required: a prose reply at the turn limit stops max_turns without a reminder", async () => {
    const { runtime } = await rlmRuntime({ steps: [textStep("Still thinking.")], termination: { maxModelCalls: 1 } });
    const turn = await runtime.runTurn("go");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    const texts = JSON.stringify(runtime.activeMessages());
    expect(texts).not.toContain("ends only with an explicit final value");
    expect(texts).toContain("Turn limit reached (1) before a final assistant response.");
  });

  it("a cell's error at the turn limit stops max_turns", async () => {
    const { runtime } = await rlmRuntime({ steps: [cellStep("throw new Error('boom');")], termination: { maxModelCalls: 1 } });
    const turn = await runtime.runTurn("go");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
  });

  it("prose_or_submit also ends on a submitted value", async () => {
    const { runtime } = await rlmRuntime({
      steps: [cellStep("submit([1, 2]);")],
      modeOptions: { termination: { kind: "prose_or_submit" } },
    });
    expect((await runtime.runTurn("go")).outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: [1, 2] } });
  });

  it("a tool's fail control called from a cell stops the turn with its error", async () => {
    const failing = {
      name: "give_up",
      description: "Give up.",
      inputSchema: { type: "object" },
      execute: () =>
        toolResult.success(null, {
          type: "fail",
          failure: { class: "internal", code: "gave_up", message: "no", source: "tool", retry: { type: "never" } },
        }),
    };
    const { runtime } = await rlmRuntime({ steps: [cellStep("await tools.give_up({});")], tools: [failing] });
    const turn = await runtime.runTurn("go");
    expect(turn.outcome).toMatchObject({ type: "stopped", stop: { type: "tool_error", toolName: "give_up", value: { code: "gave_up" } } });
  });

  it("the termination's own schema checks the value (anyOf included)", async () => {
    const schema: JsonObject = { anyOf: [{ type: "string" }, { type: "object", properties: { n: { type: "number" } }, required: ["n"] }] };
    const { runtime, provider } = await rlmRuntime({ steps: [cellStep("submit(5);"), cellStep("submit({ n: 5 });")] });
    const turn = await runtime.runTurn({
      items: [{ type: "text", text: "go" }],
      modeTurnOptions: { modeId: "rlm", payload: { kind: "submit_required", schema } },
    });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { n: 5 } } });
    expect(requestTexts(provider.requests[1] as never).join("\n")).toContain("didn't match the required output schema");
  });

  it("rejects mode options of an unknown shape", async () => {
    const { runtime } = await rlmRuntime({ steps: [] });
    await expect(
      runtime.runTurn({ items: [{ type: "text", text: "go" }], modeTurnOptions: { modeId: "rlm", payload: { kind: "whenever" } } }),
    ).rejects.toThrow(/invalid rlm mode options/);
  });
});
