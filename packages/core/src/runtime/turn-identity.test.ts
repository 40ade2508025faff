import { getEventListeners } from "node:events";
import type { LlmRequest, LlmResponse, ModelProvider, ProviderCallOptions, TurnActivity } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool, MODEL } from "../../test/fixtures.js";
import { InMemorySessionDatabase } from "../index.js";
import { LashRuntime } from "./lash-runtime.js";

async function collect(items: AsyncIterable<TurnActivity>): Promise<TurnActivity[]> {
  const collected: TurnActivity[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

describe("activity ids", () => {
  it("are unique across every turn of a session, and every reader of a turn sees the same ids", async () => {
    const round = () => [
      toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "y" } }], { text: "Looking.", usage: usage(10, 2) }),
      textStep("Found it here.", { chunks: 3, usage: usage(20, 4) }),
    ];
    const { runtime } = await createRuntime({ steps: [...round(), ...round()], tools: [echoTool] });
    const ids: string[] = [];
    for (const prompt of ["first", "second"]) {
      const turn = runtime.streamTurn(prompt);
      const [first, second] = await Promise.all([collect(turn), collect(turn)]);
      expect(second.map((activity) => activity.id)).toEqual(first.map((activity) => activity.id));
      ids.push(...first.map((activity) => activity.id));
    }
    expect(ids.length).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** A provider that streams two deltas per call and notes the signal and its abort listeners. */
class SignalProbe implements ModelProvider {
  readonly specificationVersion = MODEL_PROVIDER_SPECIFICATION_VERSION;
  readonly providerId = "probe";
  readonly defaultModel = MODEL;
  readonly signals: AbortSignal[] = [];
  readonly listenerCounts: number[] = [];
  #calls = 0;

  async doComplete(_request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse> {
    this.#calls += 1;
    this.signals.push(options.signal);
    this.listenerCounts.push(getEventListeners(options.signal, "abort").length);
    for (const text of ["a", "b"]) await options.emit({ type: "delta", text });
    const callsTool = this.#calls % 2 === 1;
    return {
      fullText: "ab",
      parts: callsTool
        ? [
            { type: "text", text: "ab" },
            { type: "tool_call", callId: `c${this.#calls}`, toolName: "echo_tool", inputJson: '{"value":"x"}' },
          ]
        : [{ type: "text", text: "ab" }],
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: callsTool ? "tool_use" : "stop",
    };
  }
}

describe("the turn's abort signal", () => {
  it("is one signal per turn, seen by every model call and tool, with no abort listener added per call", async () => {
    const probe = new SignalProbe();
    const toolSignals: AbortSignal[] = [];
    const tool = {
      ...echoTool,
      execute: (input: { value: string }, context: { signal: AbortSignal }) => {
        toolSignals.push(context.signal);
        return { payload: input.value };
      },
    };
    const database = new InMemorySessionDatabase();
    const runtime = await LashRuntime.builder()
      .withSessionId("s1")
      .withProvider(probe)
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withTools([tool])
      .withStore(database.openSession("s1"))
      .build();
    const host = new AbortController();
    for (const prompt of ["first", "second"]) {
      const turn = await runtime.runTurn(prompt, { signal: host.signal });
      expect(turn.outcome.type).toBe("finished");
    }
    expect(probe.signals).toHaveLength(4);
    const [first, second, third, fourth] = probe.signals;
    expect(second).toBe(first);
    expect(fourth).toBe(third);
    expect(third).not.toBe(first);
    expect(toolSignals).toEqual([first, third]);
    expect(new Set(probe.listenerCounts)).toEqual(new Set([0]));
    // The host's signal keeps one listener per running turn, none once the turns are over.
    expect(getEventListeners(host.signal, "abort")).toHaveLength(0);
  });

  it("a streamed turn leaves no listener on the host's signal, and its cancel still cancels, even before the turn starts", async () => {
    const host = new AbortController();
    const { runtime } = await createRuntime({ steps: [textStep("done", { usage: usage(1, 1) })] });
    const finished = runtime.streamTurn("hello", { signal: host.signal });
    expect((await finished).outcome.type).toBe("finished");
    expect(getEventListeners(host.signal, "abort")).toHaveLength(0);

    const cancelled = runtime.streamTurn("again", { signal: host.signal });
    cancelled.cancel("not now");
    expect((await cancelled).outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(getEventListeners(host.signal, "abort")).toHaveLength(0);
  });
});
