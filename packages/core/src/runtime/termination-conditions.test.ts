import type { StopCondition, TurnProgressSnapshot } from "@lash/protocol";
import { defaultTerminationPolicy, LashError, RuntimeError, terminationPolicySchema } from "@lash/protocol";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import {
  countingTool,
  countStep,
  createRuntime,
  echoTool,
  MODEL,
  messageTexts,
  RecordingActivities,
  terminationPolicy,
} from "../../test/fixtures.js";
import { type DriverAction, type ExecutionMode, LashRuntime, TurnAssembler, textInput } from "../index.js";

// Termination by stop conditions, by a missing done, and where the policy comes from; the limits
// (model calls, tool calls, tokens, wall time) are in termination.test.ts.

const policy = terminationPolicy;

describe("stopWhen", () => {
  it("stops with the condition's name after the first tool round, and the predicate sees the turn so far", async () => {
    const seen: TurnProgressSnapshot[] = [];
    const condition: StopCondition = {
      name: "one_tool_round",
      predicate: (progress) => {
        seen.push(progress);
        return progress.toolCalls >= 1;
      },
    };
    const { tool, executions } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"], usage(5, 2)), textStep("never reached")],
      tools: [tool],
      termination: policy({ stopWhen: [condition] }),
    });
    const turn = await runtime.runTurn(textInput("go"));

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "stop_condition", name: "one_tool_round" } });
    expect(provider.callCount).toBe(1);
    expect(executions).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      modelCalls: 1,
      toolCalls: 1,
      usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 },
    });
    expect(seen[0]?.toolCallRecords.map((record) => record.callId)).toEqual(["c1"]);
    // The partial work is committed.
    expect(runtime.tokenLedger()).toEqual([
      { source: "turn", model: MODEL, usage: { inputTokens: 5, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect(runtime.activeToolCalls().map((record) => record.callId)).toEqual(["c1"]);
  });

  it("OR-s several predicates: the first that holds names the stop", async () => {
    const calls: string[] = [];
    const conditions: StopCondition[] = [
      {
        name: "never",
        predicate: () => {
          calls.push("never");
          return false;
        },
      },
      {
        name: "after_two_calls",
        predicate: async (progress) => {
          calls.push("after_two_calls");
          return progress.modelCalls >= 2;
        },
      },
      {
        name: "also_after_two_calls",
        predicate: (progress) => {
          calls.push("also_after_two_calls");
          return progress.modelCalls >= 2;
        },
      },
    ];
    const { tool, executions } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), countStep(["c2"]), textStep("never reached")],
      tools: [tool],
      termination: policy({ stopWhen: conditions }),
    });
    const turn = await runtime.runTurn(textInput("go"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "stop_condition", name: "after_two_calls" } });
    expect(provider.callCount).toBe(2);
    expect(executions).toHaveLength(2);
    expect(calls.filter((name) => name === "never")).toHaveLength(2);
  });

  it("lets a turn finish when no predicate holds", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), textStep("finished normally")],
      tools: [tool],
      termination: policy({ stopWhen: [{ name: "never", predicate: () => false }] }),
    });
    const turn = await runtime.runTurn(textInput("go"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "finished normally" } });
    expect(provider.callCount).toBe(2);
  });

  it("ends the turn as runtime_error with an issue naming a condition that throws", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), textStep("never reached")],
      tools: [tool],
      termination: policy({
        stopWhen: [
          {
            name: "exploding_condition",
            predicate: () => {
              throw new Error("predicate blew up");
            },
          },
        ],
      }),
    });
    const turn = await runtime.runTurn(textInput("go"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
    expect(provider.callCount).toBe(1);
    const issue = turn.errors.find((candidate) => candidate.message.includes("exploding_condition"));
    expect(issue).toBeDefined();
    expect(issue?.message).toContain("predicate blew up");
  });

  it("announces no model request that a stop condition prevented", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), textStep("never reached")],
      tools: [tool],
      termination: policy({ stopWhen: [{ name: "stop_now", predicate: () => true }] }),
    });
    const activities = new RecordingActivities();
    const turn = await runtime.streamTurn(textInput("go"), { activities });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "stop_condition", name: "stop_now" } });
    expect(provider.callCount).toBe(1);
    // Like maxModelCalls and maxTotalTokens, a stop condition stops the turn before the request is announced.
    expect(activities.ofType("model_request_started")).toHaveLength(provider.callCount);
  });
});

describe("treatMissingDoneAsFailure", () => {
  it("defaults to true, also when parsed from {}", () => {
    expect(terminationPolicySchema.parse({})).toEqual({ treatMissingDoneAsFailure: true });
    expect(defaultTerminationPolicy().treatMissingDoneAsFailure).toBe(true);
    expect(terminationPolicySchema.parse({ treatMissingDoneAsFailure: false }).treatMissingDoneAsFailure).toBe(false);
  });

  it.each([
    { treatMissingDoneAsFailure: true, expected: { type: "stopped", stop: { type: "runtime_error" } } },
    { treatMissingDoneAsFailure: false, expected: { type: "finished", finish: { type: "assistant_message", text: "partial" } } },
  ] as const)(
    "an event stream without done assembles as $expected.type when the flag is $treatMissingDoneAsFailure",
    async ({ treatMissingDoneAsFailure, expected }) => {
      const assembler = new TurnAssembler({ captureTextDeltas: true });
      assembler.push({ type: "text_delta", text: "partial" });
      assembler.pushTurnActivity({ id: "a1", correlationId: "prose-1", type: "text_delta", text: "partial" });
      const runtime = await LashRuntime.builder()
        .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
        .withProvider(new ScriptedProvider([]))
        .build();
      const state = runtime.exportState();
      const turn = assembler.finish({ state, interrupted: false, treatMissingDoneAsFailure });
      expect(turn.outcome).toEqual(expected);
    },
  );

  it("applies to a turn whose execution mode stalls without a terminal event", async () => {
    const stallingMode: ExecutionMode = {
      id: "stalling",
      buildPreamble: () => ({ executionPrompt: "", promptContributions: [], useTools: false, syncExecutionSurface: false }),
      createDriver: () => ({
        prepareIteration: () => [{ type: "start_llm" }],
        // An action the machine does not act on leaves it waiting forever: no outcome, no `done`.
        handleLlmSuccess: () => [{ type: "wait_for_nothing" } as unknown as DriverAction],
        handleToolResults: () => [{ type: "start_llm" }],
      }),
    };
    const provider = new ScriptedProvider([textStep("stalled"), textStep("stalled again")], { defaultModel: MODEL });
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 200_000, executionMode: "stalling" })
      .withMode(stallingMode)
      .withProvider(provider)
      .build();
    const failing = await runtime.runTurn(textInput("one"));
    expect(failing.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
    const lenient = await runtime.runTurn({ ...textInput("two"), turnContext: { termination: { treatMissingDoneAsFailure: false } } });
    expect(lenient.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "stalled again" } });
  });
});

describe("termination policy sources", () => {
  it("limits given per turn override the runtime's, for that turn only", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), countStep(["c2"]), textStep("second turn answer")],
      tools: [tool],
      termination: policy({ maxModelCalls: 5 }),
    });
    const limited = await runtime.runTurn({ ...textInput("one call only"), turnContext: { termination: { maxModelCalls: 1 } } });
    expect(limited.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(provider.callCount).toBe(1);
    expect(messageTexts(runtime, "system")).toContain("Turn limit reached (1) before a final assistant response.");

    const next = await runtime.runTurn(textInput("now with the runtime's limit"));
    expect(next.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "second turn answer" } });
    expect(provider.callCount).toBe(3);
  });

  it("merges per-turn limits over the runtime's: limits the turn does not set still apply", async () => {
    const { tool, executions } = countingTool();
    const { runtime } = await createRuntime({
      steps: [countStep(["c1", "c2"]), textStep("never reached")],
      tools: [tool],
      termination: policy({ maxToolCalls: 1 }),
    });
    const turn = await runtime.runTurn({ ...textInput("go"), turnContext: { termination: { maxModelCalls: 3 } } });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
    expect(executions).toHaveLength(1);
  });

  it("keeps the runtime's limit when the turn's override leaves it undefined", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [countStep(["c1"]), countStep(["c2"]), textStep("never reached")],
      tools: [tool],
      termination: policy({ maxModelCalls: 1 }),
    });
    const hostLimit: number | undefined = undefined;
    const turn = await runtime.runTurn({
      ...textInput("go"),
      turnContext: { termination: { maxModelCalls: hostLimit, maxToolCalls: 10 } },
    });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(provider.callCount).toBe(1);
  });

  it("takes stop conditions from the turn context", async () => {
    const { tool } = countingTool();
    const { runtime, provider } = await createRuntime({ steps: [countStep(["c1"]), textStep("never reached")], tools: [tool] });
    const turn = await runtime.runTurn({
      ...textInput("go"),
      turnContext: { termination: { stopWhen: [{ name: "per_turn", predicate: (progress) => progress.toolCalls > 0 }] } },
    });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "stop_condition", name: "per_turn" } });
    expect(provider.callCount).toBe(1);
  });

  it("rejects an invalid termination policy in the builder with invalid_configuration", () => {
    const builder = LashRuntime.builder().withPolicy({ model: MODEL, maxContextTokens: 1_000 });
    let thrown: unknown;
    try {
      builder.withTermination(policy({ maxModelCalls: 0 }));
    } catch (error) {
      thrown = error;
    }
    expect(LashError.isInstance(thrown)).toBe(true);
    expect((thrown as LashError).code).toBe("invalid_configuration");
    expect((thrown as LashError).message).toContain("maxModelCalls");
  });

  it.each([{ maxToolCalls: -1 }, { maxTotalTokens: 1.5 }, { maxWallTimeMs: 0 }])("rejects the builder limit %o", (limits) => {
    expect(() => LashRuntime.builder().withTermination(policy(limits))).toThrow(expect.objectContaining({ code: "invalid_configuration" }));
  });

  it("rejects an invalid per-turn limit without running the turn", async () => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("unused")] });
    const rejected = await runtime.runTurn({ ...textInput("go"), turnContext: { termination: { maxModelCalls: 0 } } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(RuntimeError.isInstance(rejected)).toBe(true);
    expect((rejected as RuntimeError).code).toBe("invalid_argument");
    expect(provider.callCount).toBe(0);
    expect(runtime.exportState().turnIndex).toBe(0);
  });

  it("limits that are exactly met, not exceeded, leave the outcome alone", async () => {
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "v" } }]), textStep("ok")],
      tools: [echoTool],
      termination: policy({ maxModelCalls: 2, maxToolCalls: 1, maxTotalTokens: 1_000 }),
    });
    const turn = await runtime.runTurn(textInput("echo"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "ok" } });
  });
});
