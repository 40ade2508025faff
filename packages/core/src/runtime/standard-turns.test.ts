import { textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import {
  createRuntime,
  echoTool,
  llmUsage,
  messageTexts,
  RecordingActivities,
  RecordingSink,
  slowTool,
  terminalTool,
  toolCallPart,
} from "../../test/fixtures.js";
import { textInput } from "../index.js";

describe("standard turns", () => {
  it("assembles a response that only streamed (a delta and a text part)", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [
            { type: "delta", text: "What time " },
            { type: "part", part: { type: "text", text: "is it?" } },
          ],
          response: {},
        },
      ],
    });
    const events = new RecordingSink();
    const turn = await runtime.streamTurn(textInput("hello"), { events });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "What time is it?" } });
    expect(turn.assistantOutput.safeText).toBe("What time is it?");
    expect(messageTexts(runtime, "assistant")).toEqual(["What time is it?"]);
    expect(
      events
        .ofType("text_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("What time is it?");
  });

  it("recovers the streamed text when the final response is empty", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("Recovered answer.", { chunks: 3, streamOnly: true })] });
    const events = new RecordingSink();
    const turn = await runtime.streamTurn(textInput("hello"), { events });
    expect(turn.errors).toEqual([]);
    expect(turn.assistantOutput.safeText).toBe("Recovered answer.");
    expect(messageTexts(runtime, "assistant")).toEqual(["Recovered answer."]);
    expect(
      events
        .ofType("text_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("Recovered answer.");
  });

  it("cancels an in-flight tool call when the signal fires, and the tool sees the cancellation", async () => {
    const tool = slowTool(10_000);
    const { runtime, provider } = await createRuntime({
      steps: [{ response: { parts: [toolCallPart("slow-1", "slow_tool", {})], terminalReason: "tool_use", usage: llmUsage(5, 2) } }],
      tools: [tool],
    });
    const controller = new AbortController();
    void tool.started.then(() => setTimeout(() => controller.abort(), 100));
    const turn = await runtime.streamTurn(textInput("take your time"), { signal: controller.signal });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(tool.sawCancellation).toBe(true);
    expect(turn.toolCalls[0]?.output.outcome.status).toBe("cancelled");
    // Usage produced before the cancellation is kept.
    expect(turn.tokenUsage).toMatchObject({ inputTokens: 5, outputTokens: 2 });
    expect(runtime.tokenLedger()).toEqual([
      { source: "turn", model: "mock-model", usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect(provider.callCount).toBe(1);
  });

  it("finishes with the first finish control and emits the tool value after every completed call", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [
        {
          response: {
            parts: [toolCallPart("t0", "terminal_tool_0", {}), toolCallPart("t1", "terminal_tool_1", {})],
            terminalReason: "tool_use",
          },
        },
      ],
      tools: [terminalTool(0, { type: "finish", value: "first" }), terminalTool(1, { type: "finish", value: "second" })],
    });
    const activities = new RecordingActivities();
    const turn = await runtime.streamTurn(textInput("finish"), { activities });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "tool_value", toolName: "terminal_tool_0", value: "first" } });
    expect(turn.toolCalls).toHaveLength(2);
    const types = activities.types();
    const toolValueIndex = types.indexOf("tool_value");
    expect(toolValueIndex).toBeGreaterThan(-1);
    expect(types.lastIndexOf("tool_call_completed")).toBeLessThan(toolValueIndex);
    expect(provider.callCount).toBe(1);
  });

  it("stops with a tool error for a fail control and emits no terminal value", async () => {
    const failure = {
      class: "internal" as const,
      code: "terminal_control_failed",
      message: "failed",
      source: "tool" as const,
      retry: { type: "never" as const },
    };
    const { runtime } = await createRuntime({
      steps: [{ response: { parts: [toolCallPart("t0", "terminal_tool_0", {})], terminalReason: "tool_use" } }],
      tools: [terminalTool(0, { type: "fail", failure })],
    });
    const activities = new RecordingActivities();
    const turn = await runtime.streamTurn(textInput("fail"), { activities });
    expect(turn.outcome.type).toBe("stopped");
    if (turn.outcome.type !== "stopped" || turn.outcome.stop.type !== "tool_error") throw new Error("expected a tool error");
    expect(turn.outcome.stop.toolName).toBe("terminal_tool_0");
    expect(turn.outcome.stop.value).toMatchObject({ code: "terminal_control_failed", message: "failed" });
    expect(activities.ofType("tool_value")).toEqual([]);
    expect(activities.ofType("submitted_value")).toEqual([]);
  });

  it("executes a tool call that arrived only on the stream", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [{ type: "part", part: toolCallPart("tool-1", "echo_tool", { value: "sample" }) }],
          response: { terminalReason: "tool_use" },
        },
        textStep("done"),
      ],
      tools: [echoTool],
    });
    const turn = await runtime.runTurn(textInput("echo"));
    expect(turn.assistantOutput.safeText).toBe("done");
    expect(runtime.activeToolCalls()).toEqual([
      {
        callId: "tool-1",
        tool: "echo_tool",
        args: { value: "sample" },
        output: { outcome: { status: "success", payload: { payload: "raw:sample" } } },
        durationMs: expect.any(Number),
      },
    ]);
  });

  it("keeps part boundaries when the response was not streamed", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          response: {
            parts: [
              { type: "text", text: "Intro paragraph." },
              { type: "text", text: "## Heading" },
            ],
          },
        },
      ],
    });
    const events = new RecordingSink();
    const turn = await runtime.streamTurn(textInput("write"), { events });
    expect(turn.assistantOutput.safeText).toBe("Intro paragraph.\n\n## Heading");
    expect(
      events
        .ofType("text_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("Intro paragraph.\n\n## Heading");
    expect(messageTexts(runtime, "assistant")).toEqual(["Intro paragraph.\n\n## Heading"]);
  });

  it("uses the streamed usage when the final usage is missing", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [
            { type: "delta", text: "hi" },
            { type: "usage", usage: llmUsage(9, 3, 2) },
          ],
          response: { fullText: "hi" },
        },
      ],
    });
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.tokenUsage).toEqual({ inputTokens: 9, outputTokens: 3, cachedInputTokens: 2, reasoningTokens: 0 });
  });

  it("prefers the final usage over the streamed usage", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [
            { type: "delta", text: "hi" },
            { type: "usage", usage: llmUsage(9, 3, 2) },
          ],
          response: { fullText: "hi", usage: llmUsage(12, 4, 1) },
        },
      ],
    });
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.tokenUsage).toEqual({ inputTokens: 12, outputTokens: 4, cachedInputTokens: 1, reasoningTokens: 0 });
  });
});

describe("reasoning shown once", () => {
  it("does not repeat streamed reasoning when the call streamed no prose (a tool call, then the answer)", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [
            { type: "reasoning_delta", text: "Need the echo " },
            { type: "reasoning_delta", text: "tool first." },
          ],
          response: {
            parts: [{ type: "reasoning", text: "Need the echo tool first." }, toolCallPart("call-1", "echo_tool", { value: "x" })],
            terminalReason: "tool_use",
          },
        },
        textStep("done"),
      ],
      tools: [echoTool],
    });
    const activities = new RecordingActivities();
    await runtime.streamTurn(textInput("go"), { activities });
    const reasoning = activities.ofType("reasoning_delta").map((activity) => activity.text);
    expect(reasoning.join("")).toBe("Need the echo tool first.");
  });

  it("streams each delta as an activity of exactly id, correlation id, type and text, one correlation id per block", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          events: [
            { type: "reasoning_delta", text: "Think " },
            { type: "reasoning_delta", text: "twice." },
            { type: "delta", text: "Answer " },
            { type: "delta", text: "here." },
          ],
          response: { fullText: "Answer here." },
        },
      ],
    });
    const activities = new RecordingActivities();
    await runtime.streamTurn(textInput("go"), { activities });
    const deltas = [...activities.ofType("reasoning_delta"), ...activities.ofType("text_delta")];
    expect(deltas.map((activity) => JSON.stringify(Object.keys(activity)))).toEqual(
      Array.from({ length: 4 }, () => JSON.stringify(["id", "correlationId", "type", "text"])),
    );
    expect(deltas.map((activity) => [activity.type, activity.text])).toEqual([
      ["reasoning_delta", "Think "],
      ["reasoning_delta", "twice."],
      ["text_delta", "Answer "],
      ["text_delta", "here."],
    ]);
    expect(new Set(deltas.map((activity) => activity.id)).size).toBe(4);
    const [firstReasoning, secondReasoning, firstText, secondText] = deltas.map((activity) => activity.correlationId);
    expect(secondReasoning).toBe(firstReasoning);
    expect(secondText).toBe(firstText);
    expect(firstText).not.toBe(firstReasoning);
  });

  it("still shows the reasoning of a call that streamed none", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          response: {
            parts: [{ type: "reasoning", text: "Thinking quietly." }, toolCallPart("call-1", "echo_tool", { value: "x" })],
            terminalReason: "tool_use",
          },
        },
        textStep("done"),
      ],
      tools: [echoTool],
    });
    const activities = new RecordingActivities();
    await runtime.streamTurn(textInput("go"), { activities });
    expect(activities.ofType("reasoning_delta").map((activity) => activity.text)).toEqual(["Thinking quietly."]);
  });
});
