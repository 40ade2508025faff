import type { ModelProvider, TurnActivity } from "@lash/protocol";
import { LashError, MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep, textStep, toolCallStep, usage } from "@lash/testkit";
import { lastValueFrom, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool, MODEL, messageTexts, RecordingActivities, RecordingSink } from "../../test/fixtures.js";
import { InMemorySessionStore, LashRuntime, RuntimeHandle, textInput } from "../index.js";
import { observeTurn } from "../rxjs/index.js";

/** What a call threw or rejected with (`undefined` when it succeeded). */
async function failureOf(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectLashError(error: unknown, code: string, message?: RegExp): void {
  expect(LashError.isInstance(error), `expected a LashError, got ${String(error)}`).toBe(true);
  expect((error as LashError).code).toBe(code);
  if (message) expect((error as LashError).message).toMatch(message);
}

const provider = (): ScriptedProvider => new ScriptedProvider([textStep("hi")], { defaultModel: MODEL });

describe("builder validation", () => {
  it("defaults maxContextTokens to the model's known window, else to 128,000", async () => {
    const build = (model: string) => LashRuntime.builder().withModel(model).withProvider(provider()).build();
    expect((await build("gpt-5-mini-2025-08-07")).policy.maxContextTokens).toBe(400_000);
    expect((await build("openai/gpt-4.1-nano")).policy.maxContextTokens).toBe(1_047_576);
    expect((await build("claude-sonnet-4-5")).policy.maxContextTokens).toBe(200_000);
    expect((await build("my-local-model")).policy.maxContextTokens).toBe(128_000);
    const explicit = await LashRuntime.builder().withPolicy({ model: "gpt-5", maxContextTokens: 32_000 }).withProvider(provider()).build();
    expect(explicit.policy.maxContextTokens).toBe(32_000);
  });

  it.each([0, -5, 1.5])("rejects maxContextTokens %s", async (maxContextTokens) => {
    const error = await failureOf(() =>
      LashRuntime.builder().withPolicy({ model: MODEL, maxContextTokens }).withProvider(provider()).build(),
    );
    expectLashError(error, "invalid_configuration", /maxContextTokens/);
  });

  it("rejects a provider with another specificationVersion", async () => {
    const foreign = {
      specificationVersion: "lash.provider.v0",
      providerId: "old",
      defaultModel: MODEL,
      doComplete: async () => ({}),
    } as unknown as ModelProvider;
    const error = await failureOf(() => LashRuntime.builder().withPolicy({ maxContextTokens: 1_000 }).withProvider(foreign).build());
    expectLashError(error, "unsupported_provider_version");
  });

  it("rejects a provider with neither doComplete nor doStream", async () => {
    const empty: ModelProvider = { specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION, providerId: "empty", defaultModel: MODEL };
    const error = await failureOf(() => LashRuntime.builder().withPolicy({ maxContextTokens: 1_000 }).withProvider(empty).build());
    expectLashError(error, "invalid_configuration", /doComplete|doStream/);
  });

  it("rejects a session with no model when the provider has no default either", async () => {
    const nameless: ModelProvider = {
      specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
      providerId: "nameless",
      doComplete: async () => ({ fullText: "", parts: [], usage: usage(0, 0), terminalReason: "stop" }),
    };
    const error = await failureOf(() => LashRuntime.builder().withPolicy({ maxContextTokens: 1_000 }).withProvider(nameless).build());
    expectLashError(error, "invalid_configuration", /model/);
  });

  it("uses the provider's default model when the policy names none", async () => {
    const runtime = await LashRuntime.builder()
      .withPolicy({ maxContextTokens: 1_000 })
      .withProvider(new ScriptedProvider([], { defaultModel: "their-default" }))
      .build();
    expect(runtime.policy.model).toBe("their-default");
  });

  it("rejects an execution mode that is not registered", async () => {
    const error = await failureOf(() =>
      LashRuntime.builder()
        .withPolicy({ model: MODEL, maxContextTokens: 1_000, executionMode: "no_such_mode" })
        .withProvider(provider())
        .build(),
    );
    expectLashError(error, "invalid_configuration", /no_such_mode/);
  });

  it("refuses at build() two tools that share a name, before any model call", async () => {
    const scripted = new ScriptedProvider([textStep("never")], { defaultModel: MODEL });
    const error = await failureOf(() =>
      LashRuntime.builder()
        .withProvider(scripted)
        .withTools([echoTool, { ...echoTool, description: "Another echo." }])
        .build(),
    );
    expectLashError(error, "invalid_configuration", /echo_tool/);
    expect(scripted.callCount).toBe(0);
  });

  it("makes a turn reject when a tool takes the name of the mode's own batch tool", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("never")], tools: [{ ...echoTool, name: "batch" }] });
    expectLashError(await failureOf(() => runtime.runTurn(textInput("hello"))), "invalid_configuration", /batch/);
  });

  it("refuses at build() a store bound to another session", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({ store, sessionId: "other", steps: [textStep("hi")] });
    await runtime.runTurn(textInput("claim the store"));
    const error = await failureOf(() =>
      LashRuntime.builder()
        .withSessionId("root")
        .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
        .withProvider(provider())
        .withStore(store)
        .build(),
    );
    expectLashError(error, "invalid_configuration", /bound to session `other`/);
  });

  it("loads the session from its own store", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({ store, steps: [textStep("remembered")] });
    await runtime.runTurn(textInput("remember this"));
    const reopened = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withStore(store)
      .build();
    expect(messageTexts(reopened, "user")).toEqual(["remember this"]);
    expect(messageTexts(reopened, "assistant")).toEqual(["remembered"]);
    expect(reopened.exportState().turnIndex).toBe(1);
  });

  it("refuses at build() a runtime with no provider, instead of failing its first turn", async () => {
    const error = await failureOf(() => LashRuntime.builder().withModel(MODEL).build());
    expectLashError(error, "invalid_configuration", /withProvider/);
  });

  it("takes the session id from a bound store, and refuses at build() one that disagrees with it", async () => {
    const store = new InMemorySessionStore({ sessionId: "from-the-store" });
    const runtime = await LashRuntime.builder().withProvider(provider()).withStore(store).build();
    expect(runtime.sessionId).toBe("from-the-store");
    const error = await failureOf(() => LashRuntime.builder().withSessionId("other").withProvider(provider()).withStore(store).build());
    expectLashError(error, "invalid_configuration", /from-the-store/);
    // An unbound store takes the builder's id with its first commit.
    const unbound = await LashRuntime.builder()
      .withSessionId("chosen")
      .withProvider(provider())
      .withStore(new InMemorySessionStore())
      .build();
    expect(unbound.sessionId).toBe("chosen");
  });

  it("refuses at build() tools with duplicate or invalid names", async () => {
    const duplicate = await failureOf(() =>
      LashRuntime.builder().withProvider(provider()).withTools([echoTool]).withTools([echoTool]).build(),
    );
    expectLashError(duplicate, "invalid_configuration", /echo_tool/);
    const badName = await failureOf(() =>
      LashRuntime.builder()
        .withProvider(provider())
        .withTools([{ ...echoTool, name: "no spaces allowed" }])
        .build(),
    );
    expectLashError(badName, "invalid_configuration", /no spaces allowed/);
  });
});

describe("ScriptedProvider modes", () => {
  const script = (): ScriptedStep[] => [
    toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "x" } }], { text: "Checking.", usage: usage(10, 4) }),
    textStep("It says raw:x.", { chunks: 3, usage: usage(12, 5) }),
  ];

  /** Activities without their fresh ids (correlation ids become first-seen ordinals). */
  function comparable(activities: readonly TurnActivity[]): unknown[] {
    const ordinals = new Map<string, string>();
    return activities.map(({ id: _id, correlationId, ...rest }) => {
      if (!ordinals.has(correlationId))
        ordinals.set(correlationId, correlationId.startsWith("tool:") ? correlationId : `c${ordinals.size}`);
      const event = { ...rest, correlationId: ordinals.get(correlationId) } as Record<string, unknown>;
      if ("durationMs" in event) event.durationMs = "any";
      return event;
    });
  }

  it("behaves the same in stream mode (doStream) as in complete mode (doComplete)", async () => {
    const results = [];
    for (const mode of ["complete", "stream"] as const) {
      const { runtime, provider: scripted } = await createRuntime({ steps: script(), tools: [echoTool], providerOptions: { mode } });
      expect(typeof (mode === "stream" ? scripted.doStream : scripted.doComplete)).toBe("function");
      const activities = new RecordingActivities();
      const events = new RecordingSink();
      const turn = await runtime.streamTurn(textInput("echo x"), { activities, events });
      results.push({
        turn,
        activities: comparable(activities.activities),
        events: events.events.map((event) => event.type),
        callCount: scripted.callCount,
        messages: messageTexts(runtime, "assistant"),
      });
    }
    const [complete, stream] = results;
    expect(stream?.turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "It says raw:x." } });
    expect(stream?.turn.outcome).toEqual(complete?.turn.outcome);
    expect(stream?.turn.tokenUsage).toEqual(complete?.turn.tokenUsage);
    expect(stream?.turn.toolCalls.map(({ durationMs: _duration, ...record }) => record)).toEqual(
      complete?.turn.toolCalls.map(({ durationMs: _duration, ...record }) => record),
    );
    expect(stream?.activities).toEqual(complete?.activities);
    expect(stream?.events).toEqual(complete?.events);
    expect(stream?.messages).toEqual(complete?.messages);
    expect(stream?.callCount).toBe(2);
  });
});

describe("observeTurn", () => {
  const script = (): ScriptedStep[] => [
    toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "y" } }], { text: "Looking.", usage: usage(3, 1) }),
    textStep("Found raw:y.", { chunks: 2, usage: usage(4, 2) }),
  ];

  it("streams what a TurnActivitySink would get, replays it to late subscribers and resolves the turn", async () => {
    const reference = await createRuntime({ steps: script(), tools: [echoTool] });
    const sink = new RecordingActivities();
    const expected = await reference.runtime.streamTurn(textInput("find y"), { activities: sink });

    const { runtime } = await createRuntime({ steps: script(), tools: [echoTool] });
    const observed = observeTurn(runtime, textInput("find y"));
    const early = lastValueFrom(observed.activities$.pipe(toArray()));
    const turn = await observed.result;
    const collected = await early;
    const late = await lastValueFrom(observed.activities$.pipe(toArray()));

    const strip = (activities: readonly TurnActivity[]): string[] => activities.map((activity) => activity.type);
    expect(strip(collected)).toEqual(strip(sink.activities));
    expect(collected.length).toBeGreaterThan(0);
    expect(late).toEqual(collected);
    expect(turn.outcome).toEqual(expected.outcome);
    expect(turn.assistantOutput.safeText).toBe("Found raw:y.");
    expect(turn.state.turnIndex).toBe(1);
    expect(collected.filter((activity) => activity.type === "tool_call_completed").map((activity) => activity.correlationId)).toEqual([
      "tool:e1",
    ]);
  });

  it("passes the session events to an event sink as well", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("hi")] });
    const events = new RecordingSink();
    const observed = observeTurn(runtime, textInput("hello"), { events });
    await observed.result;
    expect(events.ofType("done")).toHaveLength(1);
  });

  it("errors the observable with the turn's error", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("hi")] });
    const failure = new Error("event sink failed");
    const observed = observeTurn(runtime, textInput("hello"), {
      events: {
        emit: (event) => {
          if (event.type === "model_request_started") throw failure;
        },
      },
    });
    await expect(lastValueFrom(observed.activities$.pipe(toArray()))).rejects.toBe(failure);
    await expect(observed.result).rejects.toBe(failure);
  });

  it("honours the cancellation signal", async () => {
    const { runtime, provider: scripted } = await createRuntime({ steps: [textStep("never")] });
    const controller = new AbortController();
    controller.abort();
    const observed = observeTurn(runtime, textInput("hello"), { signal: controller.signal });
    const turn = await observed.result;
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(scripted.callCount).toBe(0);
  });
});

describe("RuntimeHandle", () => {
  it("serializes writers: a second withRuntime waits for the first to finish", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("one"), textStep("two")] });
    const handle = new RuntimeHandle(runtime);
    const log: string[] = [];
    let release: () => void = () => {};
    const firstHolds = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));

    const first = handle.withRuntime(async (held) => {
      log.push("first start");
      entered();
      await firstHolds;
      const turn = await held.runTurn(textInput("first"));
      log.push("first end");
      return turn.assistantOutput.safeText;
    });
    const second = handle.withRuntime(async (held) => {
      log.push("second start");
      const turn = await held.runTurn(textInput("second"));
      log.push("second end");
      return turn.assistantOutput.safeText;
    });
    await firstEntered;
    for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).toEqual(["first start"]);
    release();
    expect(await Promise.all([first, second])).toEqual(["one", "two"]);
    expect(log).toEqual(["first start", "first end", "second start", "second end"]);
  });

  it("keeps serving writers after one fails", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("after the failure")] });
    const handle = new RuntimeHandle(runtime);
    const failure = new Error("writer failed");
    const failed = handle.withRuntime(() => {
      throw failure;
    });
    const next = handle.withRuntime(async (held) => (await held.runTurn(textInput("go on"))).assistantOutput.safeText);
    await expect(failed).rejects.toBe(failure);
    expect(await next).toBe("after the failure");
  });

  it("publishes an observation of the state after each writer", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("observed answer", { usage: usage(6, 2) })] });
    const handle = new RuntimeHandle(runtime);
    const before = handle.observe();
    expect(before.state.turnIndex).toBe(0);
    expect(before.sessionId).toBe("root");

    await handle.withRuntime((held) => held.runTurn(textInput("observe me")));
    const after = handle.observe();
    expect(after.state.turnIndex).toBe(1);
    expect(after.tokenLedger).toEqual([
      { source: "turn", model: MODEL, usage: { inputTokens: 6, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect(after.persistedState.turnIndex).toBe(1);
    expect(Object.isFrozen(after)).toBe(true);
    // The earlier observation is a snapshot: it did not change.
    expect(before.state.turnIndex).toBe(0);
  });

  it("hands back the runtime on release, and refuses writers afterwards", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("hi")] });
    const handle = new RuntimeHandle(runtime);
    expect(handle.release()).toBe(runtime);
    expectLashError(await failureOf(() => handle.withRuntime((held) => held.sessionId)), "invalid_argument");
    expectLashError(await failureOf(() => handle.release()), "invalid_argument");
  });

  it("refuses to release while a writer holds the runtime", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("hi")] });
    const handle = new RuntimeHandle(runtime);
    let release: () => void = () => {};
    const holding = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const writer = handle.withRuntime(async () => {
      entered();
      await holding;
    });
    await inside;
    expectLashError(await failureOf(() => handle.release()), "turn_in_progress");
    release();
    await writer;
    expect(handle.release()).toBe(runtime);
  });
});
