import type { JsonValue, LlmRequest, ModelProvider, ProviderRetryPolicy, ToolDefinition, TurnActivity } from "@lash/protocol";
import { DEFAULT_PROVIDER_RETRY_POLICY, MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { errorStep, ScriptedProvider, textStep, toolCallStep, usage } from "@lash/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRuntime, MODEL, messageTexts, RecordingActivities, RecordingSink, slowTool } from "../../test/fixtures.js";
import { InMemorySessionStore, LashRuntime, textInput } from "../index.js";

afterEach(() => {
  vi.useRealTimers();
});

/** An activity sink that records, and resolves `seen` on the first activity `matches` accepts. */
function watchingActivities(matches: (activity: TurnActivity) => boolean): { sink: RecordingActivities; seen: Promise<TurnActivity> } {
  let resolveSeen: (activity: TurnActivity) => void = () => {};
  const seen = new Promise<TurnActivity>((resolve) => (resolveSeen = resolve));
  const sink = new RecordingActivities();
  const emit = sink.emit.bind(sink);
  sink.emit = (activity) => {
    emit(activity);
    if (matches(activity)) resolveSeen(activity);
  };
  return { sink, seen };
}

/** A tool whose calls block until the turn aborts them; `allStarted` resolves once `expected` calls run. */
function blockingTool(expected: number): {
  tool: ToolDefinition<JsonValue>;
  signals: Map<string, AbortSignal>;
  allStarted: Promise<void>;
} {
  const signals = new Map<string, AbortSignal>();
  let resolveAll: () => void = () => {};
  const allStarted = new Promise<void>((resolve) => (resolveAll = resolve));
  const tool: ToolDefinition<JsonValue> = {
    name: "blocking_tool",
    description: "Blocks until aborted.",
    inputSchema: { type: "object" },
    execute: (_input, context) =>
      new Promise<JsonValue>((_resolve, reject) => {
        signals.set(context.callId ?? `anonymous-${signals.size}`, context.signal);
        context.signal.addEventListener("abort", () => reject(new Error("stopped by the abort")), { once: true });
        if (signals.size === expected) resolveAll();
      }),
  };
  return { tool, signals, allStarted };
}

describe("cancellation before the turn", () => {
  it("makes no model call, ends cancelled and keeps the user message", async () => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("never said")] });
    const controller = new AbortController();
    controller.abort();
    const turn = await runtime.streamTurn(textInput("hello"), { signal: controller.signal });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(provider.callCount).toBe(0);
    expect(messageTexts(runtime, "user")).toEqual(["hello"]);
    expect(messageTexts(runtime, "assistant")).toEqual([]);
    expect(turn.assistantOutput.safeText).toBe("");
  });

  it("commits the user message of a turn cancelled before it started", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({ steps: [textStep("never said")], store });
    const controller = new AbortController();
    controller.abort();
    await runtime.streamTurn(textInput("hello"), { signal: controller.signal });
    const reloaded = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withStore(store)
      .build();
    expect(messageTexts(reloaded, "user")).toEqual(["hello"]);
  });
});

describe("cancellation during streaming", () => {
  it("keeps the partial prose as the answer and in the state, records the issue and keeps the streamed usage", async () => {
    vi.useFakeTimers();
    const store = new InMemorySessionStore();
    const { runtime, provider } = await createRuntime({
      store,
      steps: [
        {
          events: [
            { type: "delta", text: "Partial " },
            { type: "delta", text: "answer" },
            { type: "usage", usage: usage(7, 3) },
            { type: "sleep", ms: 60_000 },
            { type: "delta", text: " that never arrives" },
          ],
          response: { fullText: "Partial answer that never arrives", usage: usage(7, 9) },
        },
      ],
    });
    const controller = new AbortController();
    const { sink, seen } = watchingActivities((activity) => activity.type === "text_delta" && activity.text === "answer");
    const events = new RecordingSink();
    const turnPromise = runtime.streamTurn(textInput("tell me"), { signal: controller.signal, activities: sink, events });
    await seen;
    // Let the provider reach its pause (well short of its end).
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    const turn = await turnPromise;

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.safeText).toBe("Partial answer");
    expect(messageTexts(runtime, "assistant")).toEqual(["Partial answer"]);
    expect(turn.errors).toContainEqual(expect.objectContaining({ kind: "llm_provider", code: "cancelled" }));
    const streamed = { inputTokens: 7, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 };
    expect(turn.tokenUsage).toEqual(streamed);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: streamed }]);
    expect(provider.callCount).toBe(1);
    expect(
      events
        .ofType("text_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("Partial answer");

    // What was produced before the abort is committed, not lost.
    const reloaded = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withStore(store)
      .build();
    expect(messageTexts(reloaded, "assistant")).toEqual(["Partial answer"]);
    expect(reloaded.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: streamed }]);
    // ...and the store says the turn was cancelled: the last node of the active path records the stop.
    const stored = await store.loadSession({ type: "active_path" });
    const last = stored?.graph.nodes.find((node) => node.nodeId === stored.graph.leafNodeId);
    expect(last?.payload).toEqual({ kind: "turn_stopped", turnId: expect.any(String), turnIndex: 1, stop: { type: "cancelled" } });
  });

  it("works the same when the provider streams through doStream", async () => {
    vi.useFakeTimers();
    const { runtime } = await createRuntime({
      providerOptions: { mode: "stream" },
      steps: [
        {
          events: [
            { type: "delta", text: "Half" },
            { type: "usage", usage: usage(4, 1) },
            { type: "sleep", ms: 60_000 },
            { type: "delta", text: " more" },
          ],
          response: { fullText: "Half more" },
        },
      ],
    });
    const controller = new AbortController();
    const { sink, seen } = watchingActivities((activity) => activity.type === "text_delta");
    const turnPromise = runtime.streamTurn(textInput("tell me"), { signal: controller.signal, activities: sink });
    await seen;
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.safeText).toBe("Half");
    expect(turn.tokenUsage).toMatchObject({ inputTokens: 4, outputTokens: 1 });
  });
});

describe("cancellation reaching tools", () => {
  it("aborts the tool's context.signal and ends the turn cancelled", async () => {
    const tool = slowTool(10_000);
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "slow-1", name: "slow_tool", args: {} }], { usage: usage(5, 2) }), textStep("never reached")],
      tools: [tool],
    });
    const controller = new AbortController();
    const turnPromise = runtime.streamTurn(textInput("slow"), { signal: controller.signal });
    await tool.started;
    controller.abort();
    const turn = await turnPromise;
    expect(tool.sawCancellation).toBe(true);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(provider.callCount).toBe(1);
  });

  it("gives every in-flight call a cancelled result and still emits tool_call_completed for each", async () => {
    const { tool, signals, allStarted } = blockingTool(2);
    const { runtime, provider } = await createRuntime({
      steps: [
        toolCallStep(
          [
            { callId: "b1", name: "blocking_tool", args: {} },
            { callId: "b2", name: "blocking_tool", args: {} },
          ],
          { usage: usage(6, 2) },
        ),
        textStep("never reached"),
      ],
      tools: [tool],
    });
    const controller = new AbortController();
    const activities = new RecordingActivities();
    const events = new RecordingSink();
    const turnPromise = runtime.streamTurn(textInput("block"), { signal: controller.signal, activities, events });
    await allStarted;
    controller.abort();
    const turn = await turnPromise;

    expect([...signals.values()].map((signal) => signal.aborted)).toEqual([true, true]);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.toolCalls.map((record) => [record.callId, record.output.outcome.status])).toEqual([
      ["b1", "cancelled"],
      ["b2", "cancelled"],
    ]);
    const completed = activities.ofType("tool_call_completed");
    expect(completed.map((activity) => activity.callId).sort()).toEqual(["b1", "b2"]);
    for (const activity of completed) {
      expect(activity.output.outcome.status).toBe("cancelled");
      expect(activity.correlationId).toBe(`tool:${activity.callId}`);
    }
    expect(events.ofType("tool_call_completed").map((event) => event.callId)).toEqual(["b1", "b2"]);
    expect(provider.callCount).toBe(1);
    expect(turn.tokenUsage).toMatchObject({ inputTokens: 6, outputTokens: 2 });
    // The model would see a result for each call.
    const results = runtime
      .activeMessages()
      .flatMap((message) => message.parts)
      .filter((part) => part.kind === "tool_result");
    expect(results.map((part) => ("content" in part ? part.content : ""))).toEqual([
      "[Tool execution cancelled]\ntool call cancelled",
      "[Tool execution cancelled]\ntool call cancelled",
    ]);
  });

  it("keeps the results of calls that finished before the abort; serial calls not yet started never run", async () => {
    const { tool, allStarted } = blockingTool(1);
    const ran: string[] = [];
    const quick: ToolDefinition<JsonValue> = {
      name: "quick_tool",
      description: "Answers at once.",
      inputSchema: { type: "object" },
      execute: (_input, context) => {
        ran.push(context.callId ?? "");
        return "quick result";
      },
    };
    const serial: ToolDefinition<JsonValue> = {
      name: "serial_tool",
      description: "Runs after the parallel calls.",
      inputSchema: { type: "object" },
      executionMode: "serial",
      execute: (_input, context) => {
        ran.push(context.callId ?? "");
        return "serial result";
      },
    };
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([
          { callId: "q1", name: "quick_tool", args: {} },
          { callId: "b1", name: "blocking_tool", args: {} },
          { callId: "s1", name: "serial_tool", args: {} },
        ]),
        textStep("never reached"),
      ],
      tools: [tool, quick, serial],
    });
    const controller = new AbortController();
    const { sink, seen } = watchingActivities((activity) => activity.type === "tool_call_completed" && activity.callId === "q1");
    const turnPromise = runtime.streamTurn(textInput("mixed"), { signal: controller.signal, activities: sink });
    await allStarted;
    await seen;
    controller.abort();
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.toolCalls.map((record) => [record.callId, record.output.outcome.status])).toEqual([
      ["q1", "success"],
      ["b1", "cancelled"],
      ["s1", "cancelled"],
    ]);
    expect(ran).toEqual(["q1"]);
  });

  it("does not wait for a tool that ignores its signal", async () => {
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const stubborn: ToolDefinition<JsonValue> = {
      name: "stubborn_tool",
      description: "Never finishes and ignores aborts.",
      inputSchema: { type: "object" },
      execute: () => {
        started();
        return new Promise<JsonValue>(() => {});
      },
    };
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "s1", name: "stubborn_tool", args: {} }]), textStep("never reached")],
      tools: [stubborn],
    });
    const controller = new AbortController();
    const turnPromise = runtime.streamTurn(textInput("go"), { signal: controller.signal });
    await running;
    controller.abort();
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(["cancelled"]);
  });
});

describe("after a cancelled turn", () => {
  it("the next turn runs normally on a valid history that includes the cancelled work", async () => {
    const { tool, allStarted } = blockingTool(1);
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "b1", name: "blocking_tool", args: {} }], { text: "Starting." }), textStep("Fresh answer.")],
      tools: [tool],
    });
    const controller = new AbortController();
    const turnPromise = runtime.streamTurn(textInput("first"), { signal: controller.signal });
    await allStarted;
    controller.abort();
    expect((await turnPromise).outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });

    const next = await runtime.runTurn(textInput("second"));
    expect(next.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Fresh answer." } });
    const request = provider.requests[1];
    const blocks = (request?.messages ?? []).flatMap((message) => message.blocks);
    expect(blocks).toContainEqual(expect.objectContaining({ type: "tool_call", callId: "b1" }));
    expect(blocks).toContainEqual(
      expect.objectContaining({ type: "tool_result", callId: "b1", content: "[Tool execution cancelled]\ntool call cancelled" }),
    );
    const lastUser = request?.messages.filter((message) => message.role === "user").at(-1);
    expect(lastUser?.blocks).toEqual([{ type: "text", text: "second" }]);
  });

  it("the next turn's model sees the partial answer of a turn cancelled mid-stream", async () => {
    vi.useFakeTimers();
    const { runtime, provider } = await createRuntime({
      steps: [
        {
          events: [
            { type: "delta", text: "Half an answer" },
            { type: "sleep", ms: 60_000 },
          ],
          response: { fullText: "Half an answer, then more" },
        },
        textStep("Second answer."),
      ],
    });
    const controller = new AbortController();
    const { sink, seen } = watchingActivities((activity) => activity.type === "text_delta");
    const turnPromise = runtime.streamTurn(textInput("first"), { signal: controller.signal, activities: sink });
    await seen;
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort();
    await turnPromise;
    await runtime.runTurn(textInput("second"));
    const roles = (provider.requests[1]?.messages ?? [])
      .filter((message) => message.role !== "system")
      .map((message) => [message.role, message.blocks]);
    expect(roles).toEqual([
      ["user", [{ type: "text", text: "first" }]],
      ["assistant", [{ type: "text", text: "Half an answer" }]],
      ["user", [{ type: "text", text: "second" }]],
    ]);
  });
});

describe("cancellation during a provider retry wait", () => {
  it("ends the turn cancelled and makes no further provider call", async () => {
    vi.useFakeTimers();
    const retryPolicy: ProviderRetryPolicy = { ...DEFAULT_PROVIDER_RETRY_POLICY, baseDelayMs: 2_000, jitterMs: 0 };
    const { runtime, provider } = await createRuntime({
      retryPolicy,
      steps: [errorStep({ message: "service overloaded", status: 503 }), textStep("after the retry")],
    });
    const controller = new AbortController();
    const { sink, seen } = watchingActivities((activity) => activity.type === "retry_status");
    const turnPromise = runtime.streamTurn(textInput("hello"), { signal: controller.signal, activities: sink });
    await seen;
    // Part of the 2 s wait passes: the runtime is waiting, not calling.
    await vi.advanceTimersByTimeAsync(500);
    expect(provider.callCount).toBe(1);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(30_000);
    const turn = await turnPromise;

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(provider.callCount).toBe(1);
    expect(provider.remainingSteps).toBe(1);
    expect(sink.ofType("retry_status")).toHaveLength(1);
    expect(sink.ofType("retry_status")[0]).toMatchObject({ attempt: 1, waitSeconds: 2 });
  });
});

describe("a provider that ignores its signal", () => {
  it("does not hold the turn: the abort ends it cancelled", async () => {
    let called: (request: LlmRequest) => void = () => {};
    const calledOnce = new Promise<LlmRequest>((resolve) => (called = resolve));
    const hanging: ModelProvider = {
      specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
      providerId: "hanging",
      defaultModel: MODEL,
      doComplete: (request) => {
        called(request);
        return new Promise(() => {});
      },
    };
    const runtime = await LashRuntime.builder().withPolicy({ model: MODEL, maxContextTokens: 200_000 }).withProvider(hanging).build();
    const controller = new AbortController();
    const turnPromise = runtime.streamTurn(textInput("hello?"), { signal: controller.signal });
    await calledOnce;
    controller.abort();
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(messageTexts(runtime, "user")).toEqual(["hello?"]);
  });

  it("does not hold the turn when the provider's stream never yields", async () => {
    let called: () => void = () => {};
    const calledOnce = new Promise<void>((resolve) => (called = resolve));
    const hanging: ModelProvider = {
      specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
      providerId: "hanging-stream",
      defaultModel: MODEL,
      doStream: () => ({
        [Symbol.asyncIterator]: () => ({
          next: () => {
            called();
            return new Promise(() => {});
          },
        }),
      }),
    };
    const runtime = await LashRuntime.builder().withPolicy({ model: MODEL, maxContextTokens: 200_000 }).withProvider(hanging).build();
    const controller = new AbortController();
    const turnPromise = runtime.streamTurn(textInput("hello?"), { signal: controller.signal });
    await calledOnce;
    controller.abort();
    const turn = await turnPromise;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
  });
});
