import type { JsonValue, SessionEvent, SessionPolicy, ToolDefinition } from "@lash/protocol";
import { addTokenUsage, RuntimeError, SessionBindingMismatchError } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL, messageTexts } from "../../test/fixtures.js";
import {
  environmentFixture,
  expectLashError,
  failureOf,
  InstrumentedStore,
  runtimeOn,
  scriptedProvider,
  withoutBinding,
} from "../../test/persistence-helpers.js";
import { assistantMessage, userMessage } from "../../test/runtime-scenario-helpers.js";
import { type LashPlugin, LashRuntime, type Residency, textInput } from "../index.js";

const FIRST_USAGE = { inputTokens: 10, outputTokens: 3, cachedInputTokens: 1, reasoningTokens: 0 };
const SECOND_USAGE = { inputTokens: 20, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 2 };
const THIRD_USAGE = { inputTokens: 30, outputTokens: 7, cachedInputTokens: 0, reasoningTokens: 0 };
const CHILD_USAGE = { inputTokens: 7, outputTokens: 2, cachedInputTokens: 4, reasoningTokens: 1 };

function policyFor(sessionId: string): SessionPolicy {
  return { sessionId, providerId: "mock", model: MODEL, maxContextTokens: 200_000, executionMode: "standard" };
}

function sum(...usages: (typeof FIRST_USAGE)[]): typeof FIRST_USAGE {
  return usages.reduce((total, usage) => ({
    inputTokens: total.inputTokens + usage.inputTokens,
    outputTokens: total.outputTokens + usage.outputTokens,
    cachedInputTokens: total.cachedInputTokens + usage.cachedInputTokens,
    reasoningTokens: total.reasoningTokens + usage.reasoningTokens,
  }));
}

describe.each<Residency>(["keep_all", "active_path_only"])("crash resume (%s)", (residency) => {
  it("a turn whose final commit never happened resumes from its last committed boundary, and the next turn commits normally", async () => {
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }], { usage: FIRST_USAGE }),
      textStep("lost answer", { usage: SECOND_USAGE }),
      textStep("after the crash", { usage: THIRD_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool], residency });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const crashed = await runtimeOn(environment, "session", store);
    // The process "dies" after the tool boundary: nothing after it reaches the store.
    const reached = new Set(["turn-1:prepared", "turn-1:progress:1"]);
    store.failCommits((commit) => (reached.has(commit.commitId) ? undefined : "before_apply"));

    const error = await failureOf(() => crashed.runTurn({ ...textInput("question"), traceTurnId: "turn-1" }));

    expect(RuntimeError.isInstance(error)).toBe(true);
    expectLashError(error, "store_commit_failed");
    expect(store.commits.map(({ commit }) => commit.commitId)).toEqual(["turn-1:prepared", "turn-1:progress:1"]);
    store.clearFault();

    // A new runtime, as after a restart: the host knows the session id, its store and its policy.
    const resumed = await LashRuntime.resume(
      { sessionId: "session", store: database.openSession("session"), policy: policyFor("session") },
      environment,
    );

    expect(messageTexts(resumed, "user")).toEqual(["question", '{"payload":"raw:a"}']);
    expect(resumed.activeMessages().map((message) => message.role)).toEqual(["user", "assistant", "user"]);
    expect(resumed.activeToolCalls().map((call) => call.callId)).toEqual(["call-1"]);
    expect(resumed.exportState().turnIndex).toBe(0);
    // The progress commit carried the usage of the call whose output it stored (the tool call); the
    // lost answer's usage died with the answer.
    expect(resumed.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);

    const turn = await resumed.runTurn({ ...textInput("go on"), traceTurnId: "turn-2" });

    expect(turn.assistantOutput.safeText).toBe("after the crash");
    expect(turn.state.turnIndex).toBe(1);
    // The model saw the committed history: the question, the tool call and its result, then the new message.
    expect(provider.requests.at(-1)?.messages.map((message) => message.role)).toEqual(["system", "user", "assistant", "user", "user"]);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: addTokenUsage(FIRST_USAGE, THIRD_USAGE) }]);
  });

  it("a final commit whose answer was lost is re-sent as a replay: usage is never counted twice", async () => {
    const provider = scriptedProvider([textStep("first", { usage: FIRST_USAGE }), textStep("second", { usage: SECOND_USAGE })]);
    const { environment, database } = environmentFixture({ provider, residency });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    let lost = 1;
    store.failCommits((commit) => (commit.commitId.endsWith(":final") && lost-- > 0 ? "after_apply" : undefined));

    expectLashError(await failureOf(() => runtime.runTurn({ ...textInput("one"), traceTurnId: "turn-1" })), "store_commit_failed");
    // The store applied it; the runtime does not know yet, and still counts the usage once.
    expect((await database.openSession("session").loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([
      { source: "turn", model: MODEL, usage: FIRST_USAGE },
    ]);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);

    await runtime.runTurn({ ...textInput("two"), traceTurnId: "turn-2" });

    const replayed = store.commits.filter(({ result }) => result.replayed).map(({ commit }) => commit.commitId);
    expect(replayed).toEqual(["turn-1:final"]);
    const expected = [{ source: "turn", model: MODEL, usage: sum(FIRST_USAGE, SECOND_USAGE) }];
    expect(runtime.tokenLedger()).toEqual(expected);
    expect((await database.openSession("session").loadSession({ type: "full_graph" }))?.tokenLedger).toEqual(expected);
    const fresh = await LashRuntime.resume(
      { sessionId: "session", store: database.openSession("session"), policy: policyFor("session") },
      environment,
    );
    expect(fresh.tokenLedger()).toEqual(expected);
    expect(fresh.exportState().turnIndex).toBe(2);
    expect(messageTexts(fresh, "assistant")).toEqual(["first", "second"]);
  });
});

describe("a commit the store refused and rolled back (store_commit_failed)", () => {
  it("is not re-sent: the next turn's commits carry its nodes and usage, counted once", async () => {
    const provider = scriptedProvider([textStep("first", { usage: FIRST_USAGE }), textStep("second", { usage: SECOND_USAGE })]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    store.failCommits((commit) => (commit.commitId === "turn-1:final" ? "rejected" : undefined));

    expectLashError(await failureOf(() => runtime.runTurn({ ...textInput("one"), traceTurnId: "turn-1" })), "store_commit_failed");
    store.clearFault();
    await runtime.runTurn({ ...textInput("two"), traceTurnId: "turn-2" });

    // The refused commit was never sent again: the next commits picked up what it carried (the
    // answer's boundary was left to the final commit, so the next turn's prepared commit stores it).
    expect(store.failedCommitIds).toEqual(["turn-1:final"]);
    expect(store.commits.map(({ commit }) => commit.commitId)).toEqual(["turn-1:prepared", "turn-2:prepared", "turn-2:final"]);
    expect(store.commits[1]?.commit.usageDeltas).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
    const expected = [{ source: "turn", model: MODEL, usage: sum(FIRST_USAGE, SECOND_USAGE) }];
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual(expected);
    const fresh = await LashRuntime.resume(
      { sessionId: "session", store: database.openSession("session"), policy: policyFor("session") },
      environment,
    );
    expect(messageTexts(fresh, "assistant")).toEqual(["first", "second"]);
    expect(fresh.tokenLedger()).toEqual(expected);
  });
});

describe("the commit pipeline: prepared, progress and final commits of a turn", () => {
  it("prepared_checkpoint_writes_only_explicit_progress_graph_tail: a store pre-seeded with base nodes receives only the new nodes", async () => {
    const provider = scriptedProvider([textStep("a1")]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "session-1", database });
    const seed = await LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId("session-1")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withInitialState({
        schemaVersion: 1,
        sessionId: "session-1",
        policy: policyFor("session-1"),
        sessionGraph: {
          nodes: [
            {
              nodeId: "u0",
              timestamp: "2024-01-01T00:00:00.000Z",
              payload: { kind: "message", message: userMessage("u0", "base question") },
            },
            {
              nodeId: "a0",
              parentNodeId: "u0",
              timestamp: "2024-01-01T00:00:00.000Z",
              payload: { kind: "message", message: assistantMessage("a0", "base answer") },
            },
          ],
          leafNodeId: "a0",
        },
        turnIndex: 1,
        tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
        tokenLedger: [],
      })
      .withStore(store)
      .build();

    await seed.runTurn({ ...textInput("new question"), traceTurnId: "turn-2" });

    // The seed goes whole with the first commit (the prepared one, which names no head); after it,
    // each commit carries only the new tail. The answer's boundary right before the end is not a
    // commit of its own: the final commit carries it.
    const appended = store.commits.map(({ commit }) => [
      commit.commitId,
      commit.expectedHeadRevision,
      commit.graph.type === "append" ? commit.graph.nodes.length : 0,
    ]);
    expect(appended).toEqual([
      ["turn-2:prepared", undefined, 3],
      ["turn-2:final", 1, 1],
    ]);
    const prepared = store.commits[0]?.commit.graph;
    expect(prepared?.type === "append" ? prepared.nodes.slice(0, 2).map((node) => node.nodeId) : []).toEqual(["u0", "a0"]);
    expect(await database.openSession("session-1").loadHeadRevision()).toBe(2);
  });

  it("prepared_checkpoint_propagates_store_errors: a store bound to another session fails the turn before any model call", async () => {
    const provider = scriptedProvider([textStep("never")]);
    const { environment, database } = environmentFixture({ provider });
    await database.openSession("other-session").saveSessionMeta({
      sessionId: "other-session",
      sessionName: "other",
      createdAt: "2024-01-01T00:00:00.000Z",
      model: MODEL,
      relation: { type: "root" },
    });
    const runtime = await runtimeOn(environment, "session-1", withoutBinding(database.openSession("other-session")));

    const error = expectLashError(await failureOf(() => runtime.runTurn(textInput("hello"))), "store_commit_failed");

    expect(SessionBindingMismatchError.isInstance(error.cause)).toBe(true);
    expect(error.cause).toMatchObject({ boundSessionId: "other-session", attemptedSessionId: "session-1" });
    expect(provider.callCount).toBe(0);
  });

  it("progress_boundary_uses_typed_messages_without_duplicate_conversation_nodes", async () => {
    const provider = scriptedProvider([toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }]), textStep("done")]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool] });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);

    await runtime.runTurn({ ...textInput("use it"), traceTurnId: "turn-1" });

    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    const nodeIds = read?.graph.nodes.map((node) => node.nodeId) ?? [];
    const messageIds = runtime.activeMessages().map((message) => message.id);
    expect(nodeIds).toEqual([messageIds[0], messageIds[1], messageIds[2], "tool:call-1", messageIds[3]]);
    expect(nodeIds.some((nodeId) => nodeId.startsWith("plugin:"))).toBe(false);
    expect(new Set(nodeIds).size).toBe(nodeIds.length);
    const appended = store.commits.flatMap(({ commit }) =>
      commit.graph.type === "append" ? commit.graph.nodes.map((node) => node.nodeId) : [],
    );
    expect(appended).toEqual(nodeIds);
    // The tool results' boundary is committed before the second model call; the answer's boundary
    // goes with the final commit.
    expect(store.commits.map(({ commit }) => commit.commitId)).toEqual(["turn-1:prepared", "turn-1:progress:1", "turn-1:final"]);
  });

  it("a boundary right before the end is left to the final commit; one before a model call is committed before the call, as a checkpoint", async () => {
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }], { usage: FIRST_USAGE }),
      textStep("done", { usage: SECOND_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool] });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    // What the store holds when each model call starts.
    const committedAtCall: string[][] = [];
    const complete = provider.doComplete?.bind(provider);
    if (!complete) throw new Error("the scripted provider completes");
    Object.assign(provider, {
      doComplete: (...args: Parameters<typeof complete>) => {
        committedAtCall.push(store.commits.map(({ commit }) => commit.commitId));
        return complete(...args);
      },
    });

    await runtime.runTurn({ ...textInput("use it"), traceTurnId: "turn-1" });

    expect(committedAtCall).toEqual([["turn-1:prepared"], ["turn-1:prepared", "turn-1:progress:1"]]);
    expect(store.commits.map(({ commit }) => [commit.commitId, commit.durability])).toEqual([
      ["turn-1:prepared", "checkpoint"],
      ["turn-1:progress:1", "checkpoint"],
      ["turn-1:final", undefined],
    ]);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.graph.nodes).toHaveLength(5);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: sum(FIRST_USAGE, SECOND_USAGE) }]);
  });

  it("afterTurn hooks run after the answer's boundary is committed: a hook that fails leaves the answer stored with its usage", async () => {
    const failing: LashPlugin = {
      id: "failing-after-turn",
      afterTurn: () => {
        throw new Error("the hook broke");
      },
    };
    const provider = scriptedProvider([textStep("kept answer", { usage: FIRST_USAGE })]);
    const { environment, database } = environmentFixture({ provider, plugins: [failing] });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);

    expectLashError(await failureOf(() => runtime.runTurn({ ...textInput("hello"), traceTurnId: "turn-1" })), "plugin_finalize_turn");

    expect(store.commits.map(({ commit }) => commit.commitId)).toEqual(["turn-1:prepared", "turn-1:progress:1"]);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.checkpoint?.turnState.turnIndex).toBe(0);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
    expect(read?.graph.nodes.some((node) => node.payload.kind === "message" && node.payload.message.role === "assistant")).toBe(true);
  });

  it("a turn that fails between a boundary and its end keeps that boundary (a sink throwing on the outcome)", async () => {
    const provider = scriptedProvider([textStep("kept answer", { usage: FIRST_USAGE })]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    const sinkError = new Error("the sink broke");
    const events = {
      emit: (event: SessionEvent) => {
        if (event.type === "turn_outcome") throw sinkError;
      },
    };

    await expect(runtime.runTurn({ ...textInput("hello"), traceTurnId: "turn-1" }, { events })).rejects.toBe(sinkError);

    expect(store.commits.map(({ commit }) => [commit.commitId, commit.durability])).toEqual([
      ["turn-1:prepared", "checkpoint"],
      ["turn-1:progress:1", "checkpoint"],
    ]);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.checkpoint?.turnState.turnIndex).toBe(0);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
  });

  it("progress_boundary_logs_and_continues_on_store_failure: the turn goes on, and the final commit carries everything once", async () => {
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }], { usage: FIRST_USAGE }),
      textStep("done", { usage: SECOND_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool] });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    let failures = 1;
    store.failCommits((commit) => (commit.commitId.includes(":progress:") && failures-- > 0 ? "before_apply" : undefined));

    const turn = await runtime.runTurn({ ...textInput("use it"), traceTurnId: "turn-1" });

    expect(turn.assistantOutput.safeText).toBe("done");
    expect(store.failedCommitIds).toEqual(["turn-1:progress:1"]);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.graph.nodes).toHaveLength(5);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: sum(FIRST_USAGE, SECOND_USAGE) }]);
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
  });

  it("final_commit_merges_usage_and_updates_persisted_graph_count (adapted): turn and child usage reach the store with the commit that stores their output", async () => {
    const spawn: ToolDefinition<JsonValue> = {
      name: "spawn_helper",
      description: "Runs a helper session.",
      inputSchema: { type: "object" },
      execute: async (_input, context) => {
        const sessionId = await context.sessions.createSession({
          sessionId: "helper",
          relation: { type: "child", parentSessionId: context.sessionId },
          usageSource: "subagent",
        });
        return (await context.sessions.runTurn(sessionId, textInput("help"))).assistantOutput.safeText;
      },
    };
    const provider = scriptedProvider([
      toolCallStep([{ callId: "spawn-1", name: "spawn_helper", args: {} }], { usage: FIRST_USAGE }),
      textStep("helped", { usage: CHILD_USAGE }),
      textStep("parent done", { usage: SECOND_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [spawn] });
    const store = new InstrumentedStore({ sessionId: "root", database });
    const runtime = await runtimeOn(environment, "root", store);

    await runtime.runTurn({ ...textInput("delegate"), traceTurnId: "turn-1" });

    const final = store.commits.find(({ commit }) => commit.commitId === "turn-1:final");
    const progress = store.commits.find(({ commit }) => commit.commitId === "turn-1:progress:1");
    // The tool boundary stores the tool call and the child's answer: their usage goes with it.
    expect(progress?.commit.usageDeltas).toEqual([
      { source: "subagent", model: MODEL, usage: CHILD_USAGE },
      { source: "turn", model: MODEL, usage: FIRST_USAGE },
    ]);
    // The final commit stores the answer with its usage (the answer's boundary is not a commit of its own).
    expect(store.commits.some(({ commit }) => commit.commitId === "turn-1:progress:2")).toBe(false);
    expect(final?.commit.usageDeltas).toEqual([{ source: "turn", model: MODEL, usage: SECOND_USAGE }]);
    const expected = [
      { source: "subagent", model: MODEL, usage: CHILD_USAGE },
      { source: "turn", model: MODEL, usage: sum(FIRST_USAGE, SECOND_USAGE) },
    ];
    expect(runtime.tokenLedger()).toEqual(expected);
    const read = await database.openSession("root").loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual(expected);
    expect(read?.headRevision).toBe(final?.result.headRevision);
    expect(read?.graph.nodes).toHaveLength(runtime.exportState().sessionGraph.nodes.length);
    // The child committed to its own store from the factory, not to the parent's.
    expect((await database.openSession("helper").loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([
      { source: "turn", model: MODEL, usage: CHILD_USAGE },
    ]);
  });

  it("no_store_final_commit_discards_snapshots_without_touching_graph_or_usage (adapted): without a store, graph and ledger stay in memory", async () => {
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(scriptedProvider([textStep("kept", { usage: FIRST_USAGE })]))
      .build();

    await runtime.runTurn(textInput("hello"));

    expect(runtime.store).toBeUndefined();
    expect(messageTexts(runtime, "assistant")).toEqual(["kept"]);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
    expect(runtime.exportPersistedState().tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
  });
});
