import type { JsonValue, ToolDefinition, ToolProvider } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool, RecordingActivities, RecordingSink } from "../../test/fixtures.js";
import { BATCH_TOOL_NAME, createToolProvider, InMemorySessionStore, type LashPlugin, READ_TOOL_OUTPUT_NAME, textInput } from "../index.js";

/** A tool that creates a child session with usage source `subagent` and runs one turn on it. */
function spawnSubagentTool(
  options: { readonly childId: string; readonly turns?: number } = { childId: "subagent-child" },
): ToolDefinition<JsonValue> {
  return {
    name: "spawn_subagent",
    description: "Runs a subagent.",
    inputSchema: { type: "object" },
    execute: async (_input, context) => {
      const sessionId = await context.sessions.createSession({
        sessionId: options.childId,
        relation: {
          type: "child",
          parentSessionId: context.sessionId,
          ...(context.callId === undefined ? {} : { originatingToolCallId: context.callId }),
        },
        usageSource: "subagent",
      });
      const answers: string[] = [];
      for (let index = 0; index < (options.turns ?? 1); index += 1) {
        const turn = await context.sessions.runTurn(sessionId, textInput(`sub task ${index + 1}`));
        answers.push(turn.assistantOutput.safeText);
      }
      return { answers };
    },
  };
}

const CHILD_USAGE = { inputTokens: 7, outputTokens: 2, cachedInputTokens: 4, reasoningTokens: 1 };

describe("child sessions", () => {
  it("parent_turn_receives_live_child_token_usage_events", async () => {
    // One script for parent and child (they share the provider): parent call, child call, parent call.
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([{ callId: "spawn-1", name: "spawn_subagent", args: {} }], { usage: { inputTokens: 10, outputTokens: 3 } }),
        textStep("child result", { usage: CHILD_USAGE }),
        textStep("parent done", { usage: { inputTokens: 20, outputTokens: 5 } }),
      ],
      tools: [spawnSubagentTool()],
    });
    const events = new RecordingSink();
    const activities = new RecordingActivities();

    const turn = await runtime.streamTurn(textInput("delegate"), { events, activities });

    expect(turn.assistantOutput.safeText).toBe("parent done");
    expect(turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: { answers: ["child result"] } } });
    const childEvents = events.ofType("child_usage");
    expect(childEvents).toHaveLength(1);
    expect(childEvents[0]).toMatchObject({ sessionId: "subagent-child", source: "subagent", model: "mock-model", usage: CHILD_USAGE });
    expect(childEvents[0]?.cumulative.cachedInputTokens).toBe(4);
    expect(childEvents[0]?.cumulative).toEqual(CHILD_USAGE);
    const childActivities = activities.ofType("child_usage");
    expect(childActivities).toHaveLength(1);
    expect(childActivities[0]).toMatchObject({
      sessionId: "subagent-child",
      source: "subagent",
      model: "mock-model",
      usage: CHILD_USAGE,
      cumulative: CHILD_USAGE,
    });
    expect(turn.childrenUsage).toEqual([{ source: "subagent", model: "mock-model", usage: CHILD_USAGE }]);
    // The parent's own usage stays its own; the child's lands in the ledger under its source.
    expect(turn.tokenUsage).toEqual({ inputTokens: 30, outputTokens: 8, cachedInputTokens: 0, reasoningTokens: 0 });
    const ledger = runtime.tokenLedger();
    expect(ledger.find((entry) => entry.source === "subagent")).toEqual({ source: "subagent", model: "mock-model", usage: CHILD_USAGE });
    expect(ledger.find((entry) => entry.source === "turn")).toEqual({
      source: "turn",
      model: "mock-model",
      usage: { inputTokens: 30, outputTokens: 8, cachedInputTokens: 0, reasoningTokens: 0 },
    });
    expect(ledger).toHaveLength(2);
  });

  it("parent_turn_keeps_cached_only_child_usage_live", async () => {
    const cachedOnly = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 9, reasoningTokens: 0 };
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([{ callId: "spawn-1", name: "spawn_subagent", args: {} }]),
        textStep("child result", { usage: cachedOnly }),
        textStep("parent done"),
      ],
      tools: [spawnSubagentTool()],
    });
    const events = new RecordingSink();
    const activities = new RecordingActivities();

    const turn = await runtime.streamTurn(textInput("delegate"), { events, activities });

    const childEvents = events.ofType("child_usage");
    expect(childEvents).toHaveLength(1);
    expect(childEvents[0]).toMatchObject({ sessionId: "subagent-child", source: "subagent", model: "mock-model", usage: cachedOnly });
    expect(childEvents[0]?.cumulative.cachedInputTokens).toBe(9);
    expect(activities.ofType("child_usage").map((activity) => activity.usage)).toEqual([cachedOnly]);
    expect(turn.childrenUsage).toEqual([{ source: "subagent", model: "mock-model", usage: cachedOnly }]);
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: "mock-model", usage: cachedOnly }]);
  });

  it("children usage sums every child turn that finished during the parent turn", async () => {
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([{ callId: "spawn-1", name: "spawn_subagent", args: {} }]),
        textStep("first child result", { usage: CHILD_USAGE }),
        textStep("second child result", { usage: CHILD_USAGE }),
        textStep("parent done"),
      ],
      tools: [spawnSubagentTool({ childId: "subagent-child", turns: 2 })],
    });
    const events = new RecordingSink();

    const turn = await runtime.streamTurn(textInput("delegate twice"), { events });

    const doubled = { inputTokens: 14, outputTokens: 4, cachedInputTokens: 8, reasoningTokens: 2 };
    expect(events.ofType("child_usage").map((event) => event.usage)).toEqual([CHILD_USAGE, CHILD_USAGE]);
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: "mock-model", usage: doubled }]);
    // childrenUsage must agree with what the ledger recorded for the same turn.
    expect(turn.childrenUsage).toEqual([{ source: "subagent", model: "mock-model", usage: doubled }]);
  });

  it("session_manager_create_session_accepts_custom_context_surface (adapted: a context transform scoped to the child)", async () => {
    // TS has no per-session context surface on ChildSessionRequest; a context transform that hides the
    // base tools for the child session and adds its own provider is the equivalent.
    const memoryProbe: ToolDefinition<JsonValue> = {
      name: "memory_probe",
      description: "Probes memory.",
      inputSchema: { type: "object" },
      execute: () => "probed",
    };
    const childTools: ToolProvider = createToolProvider([memoryProbe]);
    const plugin: LashPlugin = {
      id: "child-surface",
      transformTurnContext: (context, prepared) =>
        context.sessionId === "child" ? { ...prepared, includeBaseTools: false, toolProviders: [childTools] } : prepared,
    };
    const { runtime, provider } = await createRuntime({
      steps: [textStep("child answer"), textStep("parent answer")],
      tools: [echoTool],
      plugins: [plugin],
    });
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });

    await runtime.sessions.runTurn("child", textInput("probe"));
    await runtime.runTurn(textInput("echo"));

    const childToolNames = provider.requests[0]?.tools
      .map((tool) => tool.name)
      .filter((name) => name !== BATCH_TOOL_NAME && name !== READ_TOOL_OUTPUT_NAME);
    expect(childToolNames).toEqual(["memory_probe"]);
    const parentTools = provider.requests[1]?.tools.map((tool) => tool.name) ?? [];
    expect(parentTools).toContain("echo_tool");
    expect(parentTools).not.toContain("memory_probe");
  });
});

describe("child usage outside a parent turn", () => {
  it("a child turn awaited between parent turns persists its usage to the parent's store", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({ steps: [textStep("child result", { usage: CHILD_USAGE })], store });
    await runtime.sessions.createSession({
      sessionId: "subagent-child",
      relation: { type: "child", parentSessionId: "root" },
      usageSource: "subagent",
    });

    runtime.sessions.startTurn("subagent-child", textInput("sub task"));
    await runtime.sessions.awaitTurn("subagent-child");

    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: "mock-model", usage: CHILD_USAGE }]);
    // By the time awaitTurn resolves, the child's usage is committed to the parent's store, so a
    // restart does not lose it.
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual([{ source: "subagent", model: "mock-model", usage: CHILD_USAGE }]);
  });

  it("two child turns that finish together both land in the parent's store, each counted once", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({
      steps: [textStep("first", { usage: CHILD_USAGE }), textStep("second", { usage: CHILD_USAGE })],
      store,
    });
    await runtime.sessions.createSession({
      sessionId: "child-a",
      relation: { type: "child", parentSessionId: "root" },
      usageSource: "subagent",
    });
    await runtime.sessions.createSession({
      sessionId: "child-b",
      relation: { type: "child", parentSessionId: "root" },
      usageSource: "subagent",
    });
    // The first usage commit is held in the store until the second child has finished too, so the
    // two commits are in flight together.
    const commit = store.commit.bind(store);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));
    let calls = 0;
    store.commit = async (request) => {
      calls += 1;
      if (calls === 1) {
        entered();
        await held;
      }
      return commit(request);
    };

    const first = runtime.sessions.runTurn("child-a", textInput("a"));
    await firstEntered;
    const second = runtime.sessions.runTurn("child-b", textInput("b"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await Promise.all([first, second]);

    const doubled = { inputTokens: 14, outputTokens: 4, cachedInputTokens: 8, reasoningTokens: 2 };
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: "mock-model", usage: doubled }]);
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual([{ source: "subagent", model: "mock-model", usage: doubled }]);
  });

  it("keeps child usage pending when the parent's store rejects the commit, and commits it with the next turn", async () => {
    const store = new InMemorySessionStore();
    const { runtime } = await createRuntime({ steps: [textStep("child", { usage: CHILD_USAGE }), textStep("parent")], store });
    await runtime.sessions.createSession({
      sessionId: "child-a",
      relation: { type: "child", parentSessionId: "root" },
      usageSource: "subagent",
    });
    const commit = store.commit.bind(store);
    let failures = 1;
    store.commit = async (request) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error("disk full");
      }
      return commit(request);
    };

    await runtime.sessions.runTurn("child-a", textInput("a"));
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: "mock-model", usage: CHILD_USAGE }]);
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger ?? []).toEqual([]);

    await runtime.runTurn(textInput("parent turn"));
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.tokenLedger.find((entry) => entry.source === "subagent")).toEqual({
      source: "subagent",
      model: "mock-model",
      usage: CHILD_USAGE,
    });
  });
});
