import type { Message } from "@lash/protocol";
import { errorStep, textStep, toolCallStep, usage } from "@lash/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  countingTool,
  countStep,
  createRuntime,
  MODEL,
  messageTexts,
  RecordingActivities,
  slowTool,
  terminationPolicy,
} from "../../test/fixtures.js";
import { textInput } from "../index.js";

/** Every tool call part in the messages has a tool result part after it. */
function unansweredToolCalls(messages: readonly Message[]): string[] {
  const open: string[] = [];
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.kind === "tool_call") open.push(part.callId);
      if (part.kind === "tool_result") {
        const index = open.indexOf(part.callId);
        if (index >= 0) open.splice(index, 1);
      }
    }
  }
  return open;
}

function toolResultContents(messages: readonly Message[]): Map<string, string> {
  const contents = new Map<string, string>();
  for (const message of messages) {
    for (const part of message.parts) if (part.kind === "tool_result") contents.set(part.callId, part.content);
  }
  return contents;
}

const policy = terminationPolicy;

afterEach(() => {
  vi.useRealTimers();
});

describe("maxModelCalls", () => {
  it.each([1, 2, 3])("allows exactly %i model call(s), runs the last call's tools, then stops with max_turns", async (limit) => {
    const { tool, executions } = countingTool();
    const steps = [...Array.from({ length: limit }, (_, index) => countStep([`call-${index + 1}`])), textStep("never reached")];
    const { runtime, provider } = await createRuntime({ steps, tools: [tool], termination: policy({ maxModelCalls: limit }) });

    const turn = await runtime.runTurn(textInput("loop"));

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(provider.callCount).toBe(limit);
    expect(provider.remainingSteps).toBe(1);
    expect(executions).toHaveLength(limit);
    expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(Array.from({ length: limit }, () => "success"));
    expect(messageTexts(runtime, "system")).toContain(`Turn limit reached (${limit}) before a final assistant response.`);
    expect(turn.state.turnIndex).toBe(1);
    expect(unansweredToolCalls(runtime.activeMessages())).toEqual([]);
  });

  it("does not stop a turn that answers within the limit", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["call-1"]), textStep("done")],
      tools: [tool],
      termination: policy({ maxModelCalls: 2 }),
    });
    const turn = await runtime.runTurn(textInput("loop"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "done" } });
    expect(provider.callCount).toBe(2);
    expect(messageTexts(runtime, "system").some((text) => text.includes("Turn limit reached"))).toBe(false);
  });
});

describe("maxToolCalls", () => {
  const cases: readonly {
    readonly name: string;
    readonly limit: number;
    readonly rounds: readonly (readonly string[])[];
    readonly executed: readonly string[];
    readonly statuses: readonly string[];
    readonly modelCalls: number;
  }[] = [
    {
      name: "one batch larger than the budget",
      limit: 2,
      rounds: [["c1", "c2", "c3"]],
      executed: ["c1", "c2"],
      statuses: ["success", "success", "cancelled"],
      modelCalls: 1,
    },
    {
      name: "a budget used up over two rounds",
      limit: 3,
      rounds: [
        ["c1", "c2"],
        ["c3", "c4", "c5"],
      ],
      executed: ["c1", "c2", "c3"],
      statuses: ["success", "success", "success", "cancelled", "cancelled"],
      modelCalls: 2,
    },
    {
      name: "a round that starts with the budget already spent",
      limit: 2,
      rounds: [["c1", "c2"], ["c3"]],
      executed: ["c1", "c2"],
      statuses: ["success", "success", "cancelled"],
      modelCalls: 2,
    },
  ];

  it.each(cases)(
    "$name: runs only calls within the budget and stops budget_exhausted tool_calls",
    async ({ limit, rounds, executed, statuses, modelCalls }) => {
      const { tool, executions } = countingTool();
      const { runtime, provider } = await createRuntime({
        steps: [...rounds.map((ids) => countStep(ids)), textStep("never reached")],
        tools: [tool],
        termination: policy({ maxToolCalls: limit }),
      });

      const turn = await runtime.runTurn(textInput("many tools"));

      expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
      expect(executions).toEqual(executed.map((id) => ({ id })));
      expect(provider.callCount).toBe(modelCalls);
      expect(turn.toolCalls.map((record) => record.callId)).toEqual(rounds.flat());
      expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(statuses);
      for (const record of turn.toolCalls.filter((candidate) => candidate.output.outcome.status === "cancelled")) {
        expect(record.durationMs).toBe(0);
        const outcome = record.output.outcome;
        if (outcome.status !== "cancelled") throw new Error("expected a cancelled call");
        expect(outcome.payload.message).toContain(`maxToolCalls = ${limit}`);
      }
      // The history stays valid: every call has a result, the skipped ones tell the model why.
      const messages = runtime.activeMessages();
      expect(unansweredToolCalls(messages)).toEqual([]);
      const contents = toolResultContents(messages);
      for (const id of rounds.flat().filter((candidate) => !executed.includes(candidate))) {
        expect(contents.get(id)).toMatch(/^\[Tool execution cancelled\]\n.*maxToolCalls = \d+/);
      }
    },
  );

  it("records the calls past the budget in the session's tool call records too", async () => {
    const { tool } = countingTool();
    const { runtime } = await createRuntime({
      steps: [countStep(["c1", "c2", "c3"])],
      tools: [tool],
      termination: policy({ maxToolCalls: 2 }),
    });
    const turn = await runtime.runTurn(textInput("many tools"));
    expect(turn.toolCalls.map((record) => [record.callId, record.output.outcome.status])).toEqual([
      ["c1", "success"],
      ["c2", "success"],
      ["c3", "cancelled"],
    ]);
    expect(runtime.activeToolCalls().map((record) => [record.callId, record.output.outcome.status])).toEqual([
      ["c1", "success"],
      ["c2", "success"],
      ["c3", "cancelled"],
    ]);
  });

  it("counts the calls a batch runs against the budget", async () => {
    const { tool, executions } = countingTool();
    const nested = ["n1", "n2", "n3", "n4"].map((id) => ({ tool: "count_tool", parameters: { id } }));
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "batch-1", name: "batch", args: { tool_calls: nested } }]), textStep("batched")],
      tools: [tool],
      termination: policy({ maxToolCalls: 2 }),
    });
    const turn = await runtime.runTurn(textInput("batch them"));
    // However the calls are grouped, no more than maxToolCalls tools run: the batch is one call,
    // its first nested call the second; the rest get the budget message and the turn stops.
    expect(executions.length).toBeLessThanOrEqual(2);
    expect(executions).toHaveLength(1);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
    const batchOutput = turn.toolCalls[0]?.output.outcome;
    expect(batchOutput?.status).toBe("success");
    const results = (batchOutput!.payload as { results: { success: boolean; error?: string }[] }).results;
    expect(results.map((result) => result.success)).toEqual([true, false, false, false]);
    expect(results[1]?.error).toMatch(/maxToolCalls/);
  });

  it("does not stop a turn that used exactly its budget and then answered", async () => {
    const { tool, executions } = countingTool();
    const { runtime } = await createRuntime({
      steps: [countStep(["c1", "c2"]), textStep("all done")],
      tools: [tool],
      termination: policy({ maxToolCalls: 2 }),
    });
    const turn = await runtime.runTurn(textInput("two tools"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "all done" } });
    expect(executions).toHaveLength(2);
  });
});

describe("maxTotalTokens", () => {
  const cases = [
    {
      name: "input + output + reasoning over the budget stops before the second call",
      // 30 + 10 + 15 = 55 ≥ 50 only because reasoning counts.
      first: usage(30, 10, 500, 15),
      calls: 1,
      outcome: { type: "stopped", stop: { type: "budget_exhausted", budget: "tokens" } },
    },
    {
      name: "cached input does not count against the budget",
      first: usage(20, 10, 1_000, 0),
      calls: 2,
      outcome: { type: "finished", finish: { type: "assistant_message", text: "answer" } },
    },
  ] as const;

  it.each(cases)("$name", async ({ first, calls, outcome }) => {
    const { tool, executions } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"], first), textStep("answer", { usage: usage(1, 1) })],
      tools: [tool],
      termination: policy({ maxTotalTokens: 50 }),
    });
    const turn = await runtime.runTurn(textInput("spend tokens"));
    expect(turn.outcome).toEqual(outcome);
    expect(provider.callCount).toBe(calls);
    // The first call's tools ran either way.
    expect(executions).toHaveLength(1);
  });

  it("commits the usage of the call that exhausted the budget", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"], usage(45, 15)), textStep("never reached")],
      tools: [tool],
      termination: policy({ maxTotalTokens: 50 }),
    });
    const turn = await runtime.runTurn(textInput("spend tokens"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tokens" } });
    expect(provider.callCount).toBe(1);
    const spent = { inputTokens: 45, outputTokens: 15, cachedInputTokens: 0, reasoningTokens: 0 };
    expect(turn.tokenUsage).toEqual(spent);
    expect(turn.state.tokenUsage).toEqual(spent);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: spent }]);
    expect(unansweredToolCalls(runtime.activeMessages())).toEqual([]);
  });

  it("checks the cumulative usage of the turn, not the last call's", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      // 30 + 30 = 60 ≥ 50: the third call never happens, although no single call reached the budget.
      steps: [countStep(["c1"], usage(20, 10)), countStep(["c2"], usage(20, 10)), textStep("never reached")],
      tools: [tool],
      termination: policy({ maxTotalTokens: 50 }),
    });
    const turn = await runtime.runTurn(textInput("spend tokens"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tokens" } });
    expect(provider.callCount).toBe(2);
    expect(turn.tokenUsage).toEqual({ inputTokens: 40, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 });
  });
});

describe("maxWallTimeMs", () => {
  it("ends a turn whose provider call outlives the budget as budget_exhausted wall_time, keeping the usage", async () => {
    vi.useFakeTimers();
    const { runtime, provider } = await createRuntime({
      steps: [
        {
          events: [
            { type: "delta", text: "Working on it" },
            { type: "usage", usage: usage(11, 4) },
            { type: "sleep", ms: 60_000 },
            { type: "delta", text: " (never)" },
          ],
          response: { fullText: "Working on it (never)", usage: usage(11, 9) },
        },
      ],
      termination: policy({ maxWallTimeMs: 5_000 }),
    });
    let streaming: () => void = () => {};
    const started = new Promise<void>((resolve) => (streaming = resolve));
    const activities = new RecordingActivities();
    const turnPromise = runtime.streamTurn(textInput("slow"), {
      activities: {
        emit: (activity) => {
          activities.emit(activity);
          if (activity.type === "text_delta") streaming();
        },
      },
    });
    await started;
    await vi.advanceTimersByTimeAsync(5_000);
    const turn = await turnPromise;

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } });
    expect(provider.callCount).toBe(1);
    const streamed = { inputTokens: 11, outputTokens: 4, cachedInputTokens: 0, reasoningTokens: 0 };
    expect(turn.tokenUsage).toEqual(streamed);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: streamed }]);
    expect(turn.assistantOutput.safeText).toBe("Working on it");
    expect(messageTexts(runtime, "assistant")).toEqual(["Working on it"]);
    expect(messageTexts(runtime, "user")).toEqual(["slow"]);
  });

  it("ends a turn whose tool outlives the budget as budget_exhausted wall_time; the tool sees the abort", async () => {
    vi.useFakeTimers();
    const tool = slowTool(60_000);
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "slow-1", name: "slow_tool", args: {} }], { usage: usage(8, 2) }), textStep("never reached")],
      tools: [tool],
      termination: policy({ maxWallTimeMs: 5_000 }),
    });
    const turnPromise = runtime.runTurn(textInput("slow tool"));
    await tool.started;
    await vi.advanceTimersByTimeAsync(5_000);
    const turn = await turnPromise;

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } });
    expect(tool.sawCancellation).toBe(true);
    expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(["cancelled"]);
    expect(provider.callCount).toBe(1);
    const spent = { inputTokens: 8, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 };
    expect(turn.tokenUsage).toEqual(spent);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: spent }]);
    expect(unansweredToolCalls(runtime.activeMessages())).toEqual([]);
  });

  it("ends a turn waiting to retry the provider as budget_exhausted wall_time, with no further call", async () => {
    vi.useFakeTimers();
    const { runtime, provider } = await createRuntime({
      steps: [errorStep({ message: "service overloaded", status: 503 }), textStep("never reached")],
      retryPolicy: { enabled: true, maxAttempts: 4, baseDelayMs: 2_000, maxDelayMs: 10_000, jitterMs: 0, retryAfterCapMs: 60_000 },
      termination: policy({ maxWallTimeMs: 1_000 }),
    });
    let retrying: () => void = () => {};
    const waiting = new Promise<void>((resolve) => (retrying = resolve));
    const turnPromise = runtime.streamTurn(textInput("hello"), {
      activities: {
        emit: (activity) => {
          if (activity.type === "retry_status") retrying();
        },
      },
    });
    await waiting;
    await vi.advanceTimersByTimeAsync(1_000);
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } });
    expect(provider.callCount).toBe(1);
  });

  it("does not fire for a turn that ends in time", async () => {
    vi.useFakeTimers();
    const { runtime } = await createRuntime({ steps: [textStep("quick")], termination: policy({ maxWallTimeMs: 5_000 }) });
    const turn = await runtime.runTurn(textInput("fast"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "quick" } });
    // The budget's timer does not outlive the turn.
    expect(vi.getTimerCount()).toBe(0);
  });
});
