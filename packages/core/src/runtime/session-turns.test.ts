import type { JsonValue, PluginMessage, ToolDefinition } from "@lash/protocol";
import { errorStep, ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRuntime, MODEL, messageTexts, RecordingActivities, RecordingSink } from "../../test/fixtures.js";
import {
  graphMessages,
  persistedState,
  RecordingEffectHost,
  RecordingStoreFactory,
  requestTexts,
  textOf,
  userMessage,
} from "../../test/runtime-scenario-helpers.js";
import {
  finalTurn,
  handoffCount,
  InMemoryAttachmentStore,
  InMemorySessionStore,
  type LashPlugin,
  LashRuntime,
  type PluginLifecycleEvent,
  RuntimeError,
  textInput,
  toolResult,
} from "../index.js";

const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);

afterEach(() => {
  vi.useRealTimers();
});

describe("session turns", () => {
  it("session_config_change_hook_receives_context_window_updates: one notification with the old and new config", async () => {
    const lifecycle: PluginLifecycleEvent[] = [];
    const plugin: LashPlugin = { id: "config-observer", onLifecycleEvent: (event) => void lifecycle.push(event) };
    const { runtime } = await createRuntime({ steps: [], plugins: [plugin] });
    const alternative = new ScriptedProvider([textStep("from alt")], { providerId: "alt", defaultModel: "alt-default" });

    await runtime.updateSessionConfig({ provider: alternative, model: "alt-model", modelVariant: null, maxContextTokens: 123_456 });

    const changes = lifecycle.filter((event) => event.type === "session_config_changed");
    expect(changes).toHaveLength(1);
    const change = changes[0];
    if (change?.type !== "session_config_changed") throw new Error("expected a session_config_changed event");
    expect(change.previous.providerId).toBe("mock");
    expect(change.current.providerId).toBe("alt");
    expect(change.current.model).toBe("alt-model");
    expect(change.current.modelVariant).toBeUndefined();
    expect(change.previous.maxContextTokens).toBe(200_000);
    expect(change.current.maxContextTokens).toBe(123_456);
    expect(runtime.policy.maxContextTokens).toBe(123_456);
    expect(runtime.provider).toBe(alternative);

    // The next turn runs on the new provider and model, and does not notify again.
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.assistantOutput.safeText).toBe("from alt");
    expect(alternative.requests[0]?.model).toBe("alt-model");
    expect(turn.state.policy).toMatchObject({ providerId: "alt", model: "alt-model", maxContextTokens: 123_456 });
    expect(lifecycle.filter((event) => event.type === "session_config_changed")).toHaveLength(1);
  });

  it("plugin_before_turn_can_abort_and_inject_messages: plugin_abort, one plugin issue, nothing committed", async () => {
    const store = new InMemorySessionStore();
    const plugin: LashPlugin = {
      id: "policy",
      beforeTurn: () => [
        { type: "enqueue_messages", messages: [{ role: "system", content: "plugin preface" }] },
        { type: "abort_turn", code: "blocked", message: "blocked by policy" },
      ],
    };
    const { runtime, provider } = await createRuntime({ steps: [textStep("never sent")], plugins: [plugin], store });
    const events = new RecordingSink();

    const turn = await runtime.streamTurn(textInput("hello"), { events });

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "plugin_abort" } });
    // decisions.md 7: the abort's issue is recorded once.
    expect(turn.errors).toEqual([{ kind: "plugin", code: "blocked", message: "blocked by policy" }]);
    const returned = graphMessages(turn.state.sessionGraph.nodes);
    expect(returned.some((message) => message.role === "system" && textOf(message) === "plugin preface")).toBe(true);
    expect(returned.map(textOf)).toContain("hello");
    expect(provider.callCount).toBe(0);
    // The runtime itself is untouched and nothing reached the store.
    expect(turn.state.turnIndex).toBe(0);
    expect(runtime.exportState().turnIndex).toBe(0);
    expect(runtime.activeMessages()).toEqual([]);
    expect(store.commitCount).toBe(0);
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(events.ofType("turn_outcome").map((event) => event.outcome)).toEqual([{ type: "stopped", stop: { type: "plugin_abort" } }]);
  });

  it("normal_turn_stores_effective_user_text_in_state: the user text is stored verbatim", async () => {
    const text = "/yolopush\n\n<skill>\nbody\n</skill>";
    const { runtime } = await createRuntime({ steps: [textStep("Pushed.")] });

    const turn = await runtime.runTurn(textInput(text));

    const user = graphMessages(turn.state.sessionGraph.nodes).find((message) => message.role === "user");
    expect(user?.parts[0]).toMatchObject({ kind: "text", content: text });
    expect(runtime.activeMessages()[0]?.parts[0]).toMatchObject({ kind: "text", content: text });
  });

  it("retryable_llm_failures_exhaust_and_fail_turn: four retryable failures use every attempt and stop the turn", async () => {
    const failure = { status: 500, code: "http_500", message: "provider unavailable" };
    const { runtime, provider } = await createRuntime({
      steps: [errorStep(failure), errorStep(failure), errorStep(failure), errorStep(failure)],
    });

    const turn = await runtime.runTurn(textInput("hello"));

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.callCount).toBe(4);
    const issue = turn.errors.find((candidate) => candidate.kind === "llm_provider");
    expect(issue).toBeDefined();
    expect(issue?.message).toContain("provider unavailable");
    expect(issue?.code).toBe("http_500");
  });

  it("retryable_llm_failures_exhaust_and_fail_turn (default retry policy): waits 2 s, 4 s and 8 s with a retry_status before each wait", async () => {
    vi.useFakeTimers();
    const failure = { status: 500, code: "http_500", message: "provider unavailable" };
    const provider = new ScriptedProvider([errorStep(failure), errorStep(failure), errorStep(failure), errorStep(failure)], {
      providerId: "mock",
      defaultModel: MODEL,
    });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .build();
    const activities = new RecordingActivities();

    const pending = runtime.streamTurn(textInput("hello"), { activities });
    // Each retry waits on the (fake) clock: the next attempt starts only when its delay has passed.
    await vi.advanceTimersByTimeAsync(0);
    expect(provider.callCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(provider.callCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(provider.callCount).toBe(2);
    await vi.runAllTimersAsync();
    const turn = await pending;

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.callCount).toBe(4);
    expect(
      activities
        .ofType("retry_status")
        .map(({ waitSeconds, attempt, maxAttempts, reason }) => ({ waitSeconds, attempt, maxAttempts, reason })),
    ).toEqual([
      { waitSeconds: 2, attempt: 1, maxAttempts: 4, reason: "provider unavailable" },
      { waitSeconds: 4, attempt: 2, maxAttempts: 4, reason: "provider unavailable" },
      { waitSeconds: 8, attempt: 3, maxAttempts: 4, reason: "provider unavailable" },
    ]);
    expect(turn.errors.some((issue) => issue.kind === "llm_provider" && issue.message.includes("provider unavailable"))).toBe(true);
  });

  it("bridge_checkpoint_injection_continues_standard_turn: injected input reaches the model but is not persisted", async () => {
    const store = new InMemorySessionStore();
    const { runtime, provider } = await createRuntime({ steps: [textStep("First answer."), textStep("Second answer.")], store });
    runtime.turnInputInjectionBridge.enqueue({ message: { role: "user", content: "one more thing" } });

    const turn = await runtime.runTurn(textInput("hello"));

    expect(provider.callCount).toBe(2);
    expect(requestTexts(provider.requests[1], "user")).toContain("one more thing");
    // decisions.md 7: the standard mode appended its answer, so the continued call sees it.
    expect(requestTexts(provider.requests[1], "assistant")).toEqual(["First answer."]);
    expect(turn.assistantOutput.safeText).toBe("Second answer.");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Second answer." } });
    const stateMessages = graphMessages(turn.state.sessionGraph.nodes);
    expect(stateMessages.some((message) => message.role === "assistant" && textOf(message) === "Second answer.")).toBe(true);
    expect(stateMessages.some((message) => message.role === "user" && textOf(message) === "one more thing")).toBe(false);
    expect(messageTexts(runtime, "user")).toEqual(["hello"]);
    expect(messageTexts(runtime, "assistant")).toContain("Second answer.");
    expect(runtime.turnInputInjectionBridge.size).toBe(0);
    const stored = await store.loadSession({ type: "full_graph" });
    expect(graphMessages(stored?.graph.nodes ?? []).some((message) => textOf(message) === "one more thing")).toBe(false);
    expect(
      graphMessages(stored?.graph.nodes ?? [])
        .filter((message) => message.role === "user")
        .map(textOf),
    ).toEqual(["hello"]);
  });

  it("bridge_checkpoint_injection_preserves_images: a committed image message keeps its attachment", async () => {
    const attachments = new InMemoryAttachmentStore();
    const attachment = await attachments.put(PNG_BYTES, { mediaType: "image/png", label: "screenshot" });
    const provider = new ScriptedProvider([textStep("First answer."), textStep("I see the image.")], {
      providerId: "mock",
      defaultModel: MODEL,
    });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withAttachmentStore(attachments)
      .build();
    const injected: PluginMessage = {
      role: "user",
      content: "see image",
      parts: [
        { kind: "image", id: "injected.p0", attachment },
        { kind: "text", id: "injected.p1", content: "see image" },
      ],
    };
    runtime.turnInjectionBridge.enqueue(injected);

    const turn = await runtime.runTurn(textInput("hello"));

    expect(turn.assistantOutput.safeText).toBe("I see the image.");
    expect(provider.callCount).toBe(2);
    const withImage = graphMessages(turn.state.sessionGraph.nodes).find(
      (message) => message.role === "user" && message.parts.some((part) => part.kind === "image"),
    );
    expect(withImage).toBeDefined();
    const imagePart = withImage?.parts.find((part) => part.kind === "image");
    expect(imagePart).toMatchObject({ kind: "image", attachment });
    expect(withImage?.parts.some((part) => part.kind === "text" && part.content === "see image")).toBe(true);
    // The image is persisted and was sent to the model with its bytes.
    expect(
      runtime
        .activeMessages()
        .some((message) => message.parts.some((part) => part.kind === "image" && part.attachment.id === attachment.id)),
    ).toBe(true);
    const second = provider.requests[1];
    expect(second?.messages.some((message) => message.blocks.some((block) => block.type === "image"))).toBe(true);
    expect(second?.attachments.map((entry) => [...entry.data])).toEqual([[...PNG_BYTES]]);
  });

  it("checkpoint_hook_can_inject_messages: a before_completion hook message continues the turn and is kept", async () => {
    let injected = false;
    const plugin: LashPlugin = {
      id: "checkpoint-injector",
      atCheckpoint: (request) => {
        if (request.kind !== "before_completion" || injected) return undefined;
        injected = true;
        return [{ type: "enqueue_messages", messages: [{ role: "system", content: "checkpoint injected" }] }];
      },
    };
    const { runtime, provider } = await createRuntime({
      steps: [textStep("First answer."), textStep("Second answer.")],
      plugins: [plugin],
    });

    const turn = await runtime.runTurn(textInput("hello"));

    expect(provider.callCount).toBe(2);
    expect(requestTexts(provider.requests[1], "system").some((text) => text.includes("checkpoint injected"))).toBe(true);
    expect(turn.assistantOutput.safeText).toBe("Second answer.");
    const stateMessages = graphMessages(turn.state.sessionGraph.nodes);
    expect(stateMessages.some((message) => message.role === "system" && textOf(message) === "checkpoint injected")).toBe(true);
    expect(messageTexts(runtime, "system")).toEqual(["checkpoint injected"]);
    expect(requestTexts(provider.requests[1], "assistant")).toEqual(["First answer."]);
    expect(messageTexts(runtime, "assistant")).toEqual(["First answer.", "Second answer."]);
  });

  it("turn_injection_bridge_accepts_active_turn_input_without_persisting_duplicate_user_message", async () => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("First answer."), textStep("Answer with follow up.")] });
    const events = new RecordingSink();
    const activities = new RecordingActivities();
    runtime.turnInputInjectionBridge.enqueue({ id: "follow-up-id", message: { role: "user", content: "follow up" } });

    await runtime.streamTurn(textInput("hello"), { events, activities });

    expect(provider.callCount).toBe(2);
    const accepted = events.ofType("queued_input_accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.inputs).toEqual([{ id: "follow-up-id", message: { role: "user", content: "follow up" } }]);
    expect(activities.ofType("queued_input_accepted").map((activity) => activity.inputs)).toEqual([
      [{ id: "follow-up-id", message: { role: "user", content: "follow up" } }],
    ]);
    const users = messageTexts(runtime, "user");
    expect(users.filter((text) => text === "follow up")).toHaveLength(0);
    expect(users).toContain("hello");
  });

  it("checkpoint hook abort_turn ends the turn as plugin_abort with its issue recorded once (decisions.md 7)", async () => {
    const plugin: LashPlugin = {
      id: "checkpoint-guard",
      atCheckpoint: () => [{ type: "abort_turn", code: "checkpoint_blocked", message: "blocked at checkpoint" }],
    };
    const { runtime, provider } = await createRuntime({ steps: [textStep("First answer."), textStep("never sent")], plugins: [plugin] });

    const turn = await runtime.runTurn(textInput("hello"));

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "plugin_abort" } });
    expect(turn.errors.filter((issue) => issue.kind === "plugin")).toEqual([
      { kind: "plugin", code: "checkpoint_blocked", message: "blocked at checkpoint" },
    ]);
    expect(turn.errors).toHaveLength(1);
    expect(provider.callCount).toBe(1);
  });

  it("external_invoke_can_create_session_from_current_snapshot: the child starts with the parent's messages plus the seed", async () => {
    const parentMessage = userMessage("m-parent", "parent question");
    const provider = new ScriptedProvider([], { providerId: "mock", defaultModel: MODEL });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withInitialState(persistedState({ messages: [parentMessage] }))
      .build();

    const sessionId = await runtime.sessions.createSession({
      sessionId: "branched",
      relation: { type: "child", parentSessionId: "root" },
      start: "current_session",
      initialMessages: [userMessage("m-seed", "branch seed")],
    });

    expect(sessionId).toBe("branched");
    const child = runtime.sessions.child("branched");
    expect(child).toBeDefined();
    const childMessages = child?.graph.activeMessages() ?? [];
    expect(childMessages).toHaveLength(2);
    expect(childMessages.map(textOf)).toEqual(["parent question", "branch seed"]);
    expect(child?.sessionId).toBe("branched");
    // The parent is unchanged.
    expect(runtime.activeMessages().map(textOf)).toEqual(["parent question"]);
  });

  it("session_manager_can_stream_and_await_child_session_turns", async () => {
    // The child shares the parent's provider, so its model calls come from this one script.
    const { runtime, provider } = await createRuntime({
      steps: [textStep("child answer", { chunks: 2, usage: { inputTokens: 5, outputTokens: 2 } })],
    });
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });
    const events = new RecordingSink();

    const handle = runtime.sessions.startTurn("child", textInput("child task"), { events });
    expect(handle.sessionId).toBe("child");
    const turn = await runtime.sessions.awaitTurn("child");

    const types = events.events.map((event) => event.type);
    expect(types).toContain("text_delta");
    expect(types).toContain("usage");
    expect(types.at(-1)).toBe("done");
    expect(
      events
        .ofType("text_delta")
        .map((event) => event.text)
        .join(""),
    ).toBe("child answer");
    expect(turn.state.sessionId).toBe("child");
    expect(turn.state.policy.model).toBe("mock-model");
    expect(turn.assistantOutput.safeText).toBe("child answer");
    expect(provider.requests[0]?.model).toBe("mock-model");
    expect(provider.requests[0]?.sessionId).toBe("child");
    expect(await handle.result).toBe(turn);
    // The parent session did not run a turn.
    expect(runtime.exportState().turnIndex).toBe(0);
    expect(runtime.activeMessages()).toEqual([]);
  });

  it("session_manager_persists_child_sessions_in_separate_store: the factory's store holds the copied history and turn index", async () => {
    const factory = new RecordingStoreFactory();
    const provider = new ScriptedProvider([], { providerId: "mock", defaultModel: MODEL });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withSessionStoreFactory(factory)
      .withInitialState(persistedState({ turnIndex: 3, messages: [userMessage("m-parent", "parent message")] }))
      .build();

    await runtime.sessions.createSession({
      sessionId: "child",
      relation: { type: "child", parentSessionId: "root" },
      start: "current_session",
    });

    expect(factory.requests).toHaveLength(1);
    expect(factory.requests[0]).toMatchObject({
      sessionId: "child",
      parentSessionId: "root",
      relation: { type: "child", parentSessionId: "root" },
    });
    const read = await factory.stores.get("child")?.loadSession({ type: "full_graph" });
    expect(read?.sessionId).toBe("child");
    expect(graphMessages(read?.graph.nodes ?? []).map(textOf)).toEqual(["parent message"]);
    expect(read?.checkpoint).toBeDefined();
    expect(read?.checkpoint?.turnState.turnIndex).toBe(3);
  });

  it("a managed child's turns commit to the child's own store", async () => {
    const factory = new RecordingStoreFactory();
    const provider = new ScriptedProvider([textStep("child answer")], { providerId: "mock", defaultModel: MODEL });
    const parentStore = new InMemorySessionStore();
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withSessionStoreFactory(factory)
      .withStore(parentStore)
      .build();
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });

    const turn = await runtime.sessions.runTurn("child", textInput("child task"));

    expect(turn.state.sessionId).toBe("child");
    const childRead = await factory.stores.get("child")?.loadSession({ type: "full_graph" });
    expect(graphMessages(childRead?.graph.nodes ?? []).map(textOf)).toEqual(["child task", "child answer"]);
    expect(childRead?.checkpoint?.turnState.turnIndex).toBe(1);
    expect(parentStore.commitCount).toBe(0);
  });

  it("child_relation_does_not_replace_active_session: a parent turn still runs on root", async () => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("root answer")] });
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });

    const turn = await runtime.runTurn(textInput("hello"));

    expect(turn.state.sessionId).toBe("root");
    expect(turn.state.turnIndex).toBe(1);
    expect(turn.assistantOutput.safeText).toBe("root answer");
    expect(provider.requests[0]?.sessionId).toBe("root");
    expect(runtime.sessionId).toBe("root");
    expect(messageTexts(runtime, "assistant")).toEqual(["root answer"]);
    expect(runtime.sessions.child("child")?.graph.activeMessages()).toEqual([]);
  });

  it("handoff_relation_routes_original_session_to_successor: the parent's next turn runs on the successor", async () => {
    const provider = new ScriptedProvider([textStep("successor response"), textStep("still the successor")], {
      providerId: "mock",
      defaultModel: MODEL,
    });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withInitialState(persistedState({ turnIndex: 31 }))
      .build();
    await runtime.sessions.createSession({
      sessionId: "handoff-child",
      relation: { type: "handoff", parentSessionId: "root", reason: "context budget", metadata: {} },
    });

    const turn = await runtime.runTurn(textInput("keep going"));

    expect(turn.state.sessionId).toBe("handoff-child");
    expect(turn.state.turnIndex).toBe(32);
    expect(runtime.exportState().turnIndex).toBe(32);
    expect(runtime.sessionId).toBe("root");
    expect(turn.assistantOutput.safeText).toBe("successor response");
    expect(provider.requests[0]?.sessionId).toBe("handoff-child");
    // The turn's messages live in the successor, not in the original session.
    expect(runtime.activeMessages()).toEqual([]);
    expect(runtime.sessions.child("handoff-child")?.graph.activeMessages().map(textOf)).toEqual(["keep going", "successor response"]);

    // Routing is sticky: the next turn goes to the successor again.
    const next = await runtime.runTurn(textInput("and more"));
    expect(next.state.sessionId).toBe("handoff-child");
    expect(next.state.turnIndex).toBe(33);
    expect(runtime.exportState().turnIndex).toBe(33);
    expect(next.assistantOutput.safeText).toBe("still the successor");
  });

  it("session_manager_rejects_duplicate_child_session_ids", async () => {
    const { runtime } = await createRuntime({ steps: [] });
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });

    await expect(
      runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } }),
    ).rejects.toThrow(/already exists/);
    expect(runtime.sessions.sessionIds).toEqual(["child"]);
  });

  it("runtime_can_activate_managed_child_session: the runtime becomes the child and keeps its seed", async () => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("child answer")] });
    await runtime.sessions.createSession({
      sessionId: "child",
      relation: { type: "child", parentSessionId: "root" },
      firstTurnInput: { content: "seed input" },
    });
    const oldManager = runtime.sessions;

    runtime.activateManagedSession("child");

    expect(runtime.sessionId).toBe("child");
    expect(runtime.takeFirstTurnInput("child")).toEqual({ content: "seed input" });
    expect(() => oldManager.startTurn("child", textInput("hello"))).toThrow();
    expect(oldManager.sessionIds).not.toContain("child");

    // The runtime now runs the child's turns.
    const turn = await runtime.runTurn(textInput("hello child"));
    expect(turn.state.sessionId).toBe("child");
    expect(provider.requests[0]?.sessionId).toBe("child");
    expect(runtime.activeMessages().map(textOf)).toEqual(["hello child", "child answer"]);
  });
});

/** A tool that creates a handoff successor (with or without a seed) and hands the turn off to it. */
function handoffTool(options: { readonly successorId: string; readonly seed?: string }): ToolDefinition<JsonValue> {
  return {
    name: "handoff_tool",
    description: "Continues the conversation in a fresh session.",
    inputSchema: { type: "object" },
    execute: async (_input, context) => {
      const sessionId = await context.sessions.createSession({
        sessionId: options.successorId,
        relation: { type: "handoff", parentSessionId: context.sessionId, reason: "fresh context", metadata: {} },
        ...(options.seed === undefined ? {} : { firstTurnInput: { content: options.seed } }),
      });
      return toolResult.handoff(sessionId);
    },
  };
}

/** A root session whose first model call hands off to "successor" (seeded), which then answers. */
async function handoffRuntime(): Promise<{ provider: ScriptedProvider; effects: RecordingEffectHost; runtime: LashRuntime }> {
  const provider = new ScriptedProvider(
    [toolCallStep([{ callId: "handoff-1", name: "handoff_tool", args: {} }]), textStep("successor answer")],
    { providerId: "mock", defaultModel: MODEL },
  );
  const effects = new RecordingEffectHost();
  const runtime = await LashRuntime.builder()
    .withSessionId("root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withTools([handoffTool({ successorId: "successor", seed: "continue here" })])
    .withEffectHost(effects)
    .build();
  return { provider, effects, runtime };
}

describe("streamTurnFollowingHandoffs", () => {
  it("follows a tool handoff into the successor's seeded first turn, reusing the trace turn id", async () => {
    const { provider, effects, runtime } = await handoffRuntime();

    const followed = await runtime.streamTurnFollowingHandoffs(textInput("start"));

    expect(followed.turns).toHaveLength(2);
    expect(handoffCount(followed)).toBe(1);
    expect(followed.turns[0]?.outcome).toEqual({ type: "handoff", sessionId: "successor" });
    expect(followed.turns[0]?.state.sessionId).toBe("root");
    const last = finalTurn(followed);
    expect(last?.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "successor answer" } });
    expect(last?.assistantOutput.safeText).toBe("successor answer");
    expect(last?.state.sessionId).toBe("successor");
    // The successor's first turn ran with its seed.
    expect(provider.callCount).toBe(2);
    expect(provider.requests[1]?.sessionId).toBe("successor");
    expect(requestTexts(provider.requests[1], "user")).toEqual(["continue here"]);
    // One logical host turn: every hop carries the same trace turn id.
    const turnIds = new Set(effects.invocations.map((invocation) => invocation.turnId));
    expect(turnIds.size).toBe(1);
    expect(effects.invocations.some((invocation) => invocation.sessionId === "root")).toBe(true);
    expect(effects.invocations.some((invocation) => invocation.sessionId === "successor")).toBe(true);
    // The successor continued the parent's turn counter.
    expect(last?.state.turnIndex).toBe(2);
    expect(runtime.exportState().turnIndex).toBe(2);
    // The seed was consumed.
    expect(runtime.takeFirstTurnInput("successor")).toBeUndefined();
  });

  it("keeps a trace turn id given by the host for every hop", async () => {
    const { effects, runtime } = await handoffRuntime();

    await runtime.streamTurnFollowingHandoffs({ ...textInput("start"), traceTurnId: "host-turn-7" });

    expect(new Set(effects.invocations.map((invocation) => invocation.turnId))).toEqual(new Set(["host-turn-7"]));
  });

  it("throws handoff_missing_first_turn when the successor has no seed", async () => {
    const provider = new ScriptedProvider([toolCallStep([{ callId: "handoff-1", name: "handoff_tool", args: {} }])], {
      providerId: "mock",
      defaultModel: MODEL,
    });
    const runtime = await LashRuntime.builder()
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withTools([handoffTool({ successorId: "seedless" })])
      .build();

    const error: unknown = await runtime.streamTurnFollowingHandoffs(textInput("start")).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(RuntimeError.isInstance(error)).toBe(true);
    expect((error as RuntimeError).code).toBe("handoff_missing_first_turn");
    expect(provider.callCount).toBe(1);
  });
});
