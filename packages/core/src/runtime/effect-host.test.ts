import type { SessionEvent } from "@lash/protocol";
import { errorStep, ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL, messageTexts } from "../../test/fixtures.js";
import { JournalingEffectHost, RecordingEffectHost } from "../../test/runtime-scenario-helpers.js";
import {
  createStandardProtocolDriver,
  LashRuntime,
  type LlmCallResult,
  type RuntimeEffectHost,
  type TurnEffect,
  TurnMachine,
  textInput,
} from "../index.js";

function runtimeWith(
  effectHost: RuntimeEffectHost,
  provider: ScriptedProvider,
  options: { readonly tools?: boolean } = {},
): Promise<LashRuntime> {
  let builder = LashRuntime.builder()
    .withSessionId("root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withEffectHost(effectHost);
  if (options.tools) builder = builder.withTools([echoTool]);
  return builder.build();
}

function scripted(steps: ConstructorParameters<typeof ScriptedProvider>[0]): ScriptedProvider {
  return new ScriptedProvider(steps, { providerId: "mock", defaultModel: MODEL });
}

describe("effect host: every effect of a turn crosses the host once", () => {
  it("standard_turn_llm_and_checkpoint_effects_cross_host_once", async () => {
    const host = new RecordingEffectHost();
    const runtime = await runtimeWith(host, scripted([textStep("plain answer")]));

    const turn = await runtime.runTurn({ ...textInput("hello"), traceTurnId: "turn-abc" });

    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "plain answer" } });
    expect(host.invocations.map((invocation) => invocation.kind)).toEqual(["llm_call", "checkpoint"]);
    expect(host.ofKind("llm_call")).toHaveLength(1);
    expect(host.ofKind("checkpoint")).toHaveLength(1);
    for (const invocation of host.invocations) {
      expect(invocation.idempotencyKey.startsWith("root:")).toBe(true);
      expect(invocation.idempotencyKey).toContain(":turn-abc:");
      expect(invocation).toMatchObject({ sessionId: "root", turnId: "turn-abc", turnIndex: 1 });
    }
    // `{sessionId}:{turnId}:{turnIndex}:{modeIteration}:{kind}:{effectId}`
    expect(host.invocations.map((invocation) => invocation.idempotencyKey)).toEqual([
      "root:turn-abc:1:0:llm_call:1",
      "root:turn-abc:1:0:checkpoint:2",
    ]);
  });

  it("a turn with stop conditions asks the host before every model call after the first (limit_check)", async () => {
    const host = new RecordingEffectHost();
    const provider = scripted([toolCallStep([{ callId: "c1", name: "echo_tool", args: { value: "x" } }]), textStep("done")]);
    const runtime = await runtimeWith(host, provider, { tools: true });
    const seen: number[] = [];

    const turn = await runtime.runTurn({
      ...textInput("hello"),
      turnContext: {
        termination: {
          stopWhen: [
            {
              name: "never",
              predicate: (state) => {
                seen.push(state.modelCalls);
                return false;
              },
            },
          ],
        },
      },
    });

    expect(turn.outcome.type).toBe("finished");
    expect(host.invocations.map((invocation) => invocation.kind)).toEqual([
      "llm_call",
      "tool_batch",
      "checkpoint",
      "limit_check",
      "llm_call",
      "checkpoint",
    ]);
    expect(host.ofKind("limit_check")[0]?.result).toEqual({});
    expect(seen).toEqual([1]);
  });

  it("idempotency keys carry the generated turn id when the host gives none", async () => {
    const host = new RecordingEffectHost();
    const runtime = await runtimeWith(host, scripted([textStep("plain answer")]));

    await runtime.runTurn(textInput("hello"));

    const turnIds = new Set(host.invocations.map((invocation) => invocation.turnId));
    expect(turnIds.size).toBe(1);
    const [turnId] = [...turnIds];
    expect(turnId).toMatch(/\S/);
    for (const invocation of host.invocations) expect(invocation.idempotencyKey.startsWith(`root:${turnId}:1:`)).toBe(true);
  });

  it("tool_batch_effect_crosses_host_once_and_runs_local_tools", async () => {
    const host = new RecordingEffectHost();
    const runtime = await runtimeWith(
      host,
      scripted([toolCallStep([{ callId: "echo-1", name: "echo_tool", args: { value: "sample" } }]), textStep("echoed")]),
      {
        tools: true,
      },
    );

    const turn = await runtime.runTurn({ ...textInput("echo"), traceTurnId: "turn-tools" });

    expect(turn.assistantOutput.safeText).toBe("echoed");
    const batches = host.ofKind("tool_batch");
    expect(batches).toHaveLength(1);
    expect(batches[0]?.idempotencyKey).toMatch(/^root:turn-tools:1:0:tool_batch:\d+$/);
    expect(host.ofKind("llm_call")).toHaveLength(2);
    const echo = runtime.activeToolCalls().find((record) => record.tool === "echo_tool");
    expect(echo).toMatchObject({ callId: "echo-1", output: { outcome: { status: "success", payload: { payload: "raw:sample" } } } });
    expect(turn.toolCalls).toHaveLength(1);
    expect(turn.toolCalls[0]?.output.outcome.status).toBe("success");
    // Effect ids grow with every effect of the turn.
    const ids = host.invocations.map((invocation) => invocation.effectId);
    expect([...ids].sort((left, right) => left - right)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("machine snapshots given to the host are JSON-serializable", async () => {
    const host = new RecordingEffectHost();
    const runtime = await runtimeWith(
      host,
      scripted([toolCallStep([{ callId: "echo-1", name: "echo_tool", args: { value: "sample" } }]), textStep("echoed")]),
      {
        tools: true,
      },
    );

    await runtime.runTurn(textInput("echo"));

    expect(host.invocations.length).toBeGreaterThanOrEqual(4);
    for (const invocation of host.invocations) {
      const roundTripped: unknown = JSON.parse(JSON.stringify(invocation.snapshot));
      expect(roundTripped).toEqual(invocation.snapshot);
      // The results a durable host would journal are plain data too.
      expect(JSON.parse(JSON.stringify(invocation.result))).toEqual(invocation.result);
    }
    const llmSnapshot = host.ofKind("llm_call")[0]?.snapshot;
    expect(llmSnapshot?.outstanding).toMatchObject({ type: "llm_call", id: host.ofKind("llm_call")[0]?.effectId });
  });

  it("a journaling host replays recorded results for the same turn id without calling the provider", async () => {
    const host = new JournalingEffectHost();
    const first = await runtimeWith(host, scripted([textStep("Recorded answer.")]));
    const firstTurn = await first.runTurn({ ...textInput("hello"), traceTurnId: "durable-turn" });
    expect(firstTurn.assistantOutput.safeText).toBe("Recorded answer.");
    expect(host.executed).toEqual(["root:durable-turn:1:0:llm_call:1", "root:durable-turn:1:0:checkpoint:2"]);

    // A second process resumes the same turn: this provider would fail if it were called.
    const failing = scripted([errorStep({ status: 400, message: "the replayed turn must not call the model" })]);
    const second = await runtimeWith(host, failing);
    const replayed = await second.runTurn({ ...textInput("hello"), traceTurnId: "durable-turn" });

    expect(failing.callCount).toBe(0);
    expect(host.replayed).toEqual(["root:durable-turn:1:0:llm_call:1", "root:durable-turn:1:0:checkpoint:2"]);
    expect(replayed.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Recorded answer." } });
    expect(replayed.assistantOutput.safeText).toBe("Recorded answer.");
    expect(replayed.errors).toEqual([]);
    expect(messageTexts(second, "assistant")).toEqual(["Recorded answer."]);
  });

  it("a machine restored from a host snapshot redelivers the outstanding effect once and finishes from journaled results", async () => {
    const host = new RecordingEffectHost();
    const runtime = await runtimeWith(host, scripted([textStep("plain answer")]));
    await runtime.runTurn({ ...textInput("hello"), traceTurnId: "turn-restore" });
    const llm = host.ofKind("llm_call")[0];
    if (!llm) throw new Error("no llm_call invocation recorded");
    const snapshot = JSON.parse(JSON.stringify(llm.snapshot)) as typeof llm.snapshot;

    const machine = new TurnMachine(
      {
        sessionId: "root",
        model: MODEL,
        modelVariant: undefined,
        useTools: true,
        syncExecutionSurface: false,
        maxModelCalls: undefined,
        maxToolCalls: undefined,
        maxTotalTokens: undefined,
      },
      createStandardProtocolDriver(),
      { snapshot },
    );

    const redelivered = machine.pollEffect();
    expect(redelivered).toMatchObject({ type: "llm_call", id: llm.effectId });
    machine.handleLlmComplete(llm.effectId, llm.result as LlmCallResult);
    // A second delivery of the same result is ignored.
    machine.handleLlmComplete(llm.effectId, llm.result as LlmCallResult);
    const effects: TurnEffect[] = [];
    for (let effect = machine.pollEffect(); effect; effect = machine.pollEffect()) {
      effects.push(effect);
      if (effect.type === "checkpoint") machine.handleCheckpoint(effect.id, { ok: true, committed: [], transient: [] });
    }
    const events: SessionEvent[] = effects.flatMap((effect) => (effect.type === "emit" ? [effect.event] : []));
    expect(effects.filter((effect) => effect.type === "checkpoint")).toHaveLength(1);
    expect(events.filter((event) => event.type === "turn_outcome")).toEqual([
      { type: "turn_outcome", outcome: { type: "finished", finish: { type: "assistant_message", text: "plain answer" } } },
    ]);
    expect(effects.at(-1)?.type).toBe("done");
    expect(machine.finished).toBe(true);
  });
});
