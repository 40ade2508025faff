import type { PersistedSessionRead, SessionPolicy, SessionReadScope } from "@lash/protocol";
import { InvalidPersistedDataError, SessionBindingMismatchError, StoreUnavailableError } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL, messageTexts, slowTool } from "../../test/fixtures.js";
import {
  environmentFixture,
  expectLashError,
  failureOf,
  InstrumentedStore,
  runtimeOn,
  scriptedProvider,
  storedNodeIds,
  withoutBinding,
} from "../../test/persistence-helpers.js";
import { userMessage } from "../../test/runtime-scenario-helpers.js";
import {
  InMemorySessionDatabase,
  InMemorySessionStore,
  type LashPlugin,
  LashRuntime,
  type ParkedSession,
  type PluginLifecycleEvent,
  type Residency,
  RuntimeHandle,
  textInput,
} from "../index.js";

const FIRST_USAGE = { inputTokens: 10, outputTokens: 3, cachedInputTokens: 1, reasoningTokens: 0 };
const SECOND_USAGE = { inputTokens: 20, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 2 };
const THIRD_USAGE = { inputTokens: 30, outputTokens: 7, cachedInputTokens: 0, reasoningTokens: 0 };
const CHILD_USAGE = { inputTokens: 7, outputTokens: 2, cachedInputTokens: 4, reasoningTokens: 1 };

function policyFor(sessionId: string): SessionPolicy {
  return { sessionId, providerId: "mock", model: MODEL, maxContextTokens: 200_000, executionMode: "standard" };
}

describe.each<Residency>(["keep_all", "active_path_only"])("park and resume round trip (%s)", (residency) => {
  it("restores history, ledger, turn counters and policy, and the next turn runs and commits normally", async () => {
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }], { usage: FIRST_USAGE }),
      textStep("first answer", { usage: SECOND_USAGE }),
      textStep("second answer", { usage: THIRD_USAGE }),
      textStep("after resume", { usage: FIRST_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool], residency });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    await runtime.runTurn(textInput("first question"));
    await runtime.runTurn(textInput("second question"));
    const before = {
      messages: runtime.activeMessages(),
      toolCalls: runtime.activeToolCalls(),
      ledger: runtime.tokenLedger(),
      state: runtime.exportState(),
    };

    const parked = await runtime.park();

    expect(Object.keys(parked).sort()).toEqual(["policy", "sessionId", "store"]);
    expect(parked.sessionId).toBe("session");
    expect(parked.store).toBe(store);
    expect(parked.policy).toEqual(before.state.policy);
    // Everything was committed by the second turn: the park writes nothing.
    expect(store.commits.at(-1)?.commit.commitId).toMatch(/:final$/);

    store.loadScopes.length = 0;
    const resumed = await LashRuntime.resume(parked, environment);

    expect(store.loadScopes).toEqual([{ type: residency === "active_path_only" ? "active_path" : "full_graph" }]);
    expect(resumed.sessionId).toBe("session");
    expect(resumed.residency).toBe(residency);
    expect(resumed.activeMessages()).toEqual(before.messages);
    expect(resumed.activeToolCalls()).toEqual(before.toolCalls);
    expect(resumed.tokenLedger()).toEqual(before.ledger);
    expect(resumed.tokenLedger()).toEqual([
      { source: "turn", model: MODEL, usage: { inputTokens: 60, outputTokens: 15, cachedInputTokens: 1, reasoningTokens: 2 } },
    ]);
    const state = resumed.exportState();
    expect(state.turnIndex).toBe(2);
    expect(state.tokenUsage).toEqual(before.state.tokenUsage);
    expect(state.lastPromptUsage).toEqual(before.state.lastPromptUsage);
    expect(state.policy).toEqual(before.state.policy);
    expect(resumed.provider).toBe(provider);

    const turn = await resumed.runTurn(textInput("third question"));

    expect(turn.assistantOutput.safeText).toBe("after resume");
    expect(turn.state.turnIndex).toBe(3);
    expect(messageTexts(resumed, "assistant").slice(-2)).toEqual(["second answer", "after resume"]);
    // The history the model saw after the resume is the whole conversation.
    expect(provider.requests.at(-1)?.messages.filter((message) => message.role === "user")).toHaveLength(4);
    const read = await database.openSession("session").loadSession({ type: "full_graph" });
    expect(read?.checkpoint?.turnState.turnIndex).toBe(3);
    expect(read?.tokenLedger).toEqual([
      { source: "turn", model: MODEL, usage: { inputTokens: 70, outputTokens: 18, cachedInputTokens: 2, reasoningTokens: 2 } },
    ]);
    expect(store.deltaTypes()).not.toContain("replace_full");
  });
});

describe("park", () => {
  it("park_returns_error_when_final_commit_fails (adapted): park_failed names both sessions, and the runtime stays usable", async () => {
    const database = new InMemorySessionDatabase();
    const provider = scriptedProvider([]);
    const { environment } = environmentFixture({ provider, database });
    // A store bound to another session: every commit of this runtime is refused.
    await database.openSession("other-session").saveSessionMeta({
      sessionId: "other-session",
      sessionName: "other",
      createdAt: "2024-01-01T00:00:00.000Z",
      model: MODEL,
      relation: { type: "root" },
    });
    const runtime = await runtimeOn(environment, "park-session", withoutBinding(database.openSession("other-session")));

    const error = expectLashError(await failureOf(() => runtime.park()), "park_failed");

    expect(error.message).toContain("failed to persist runtime state");
    expect(error.message).toContain("other-session");
    expect(error.message).toContain("park-session");
    expect(SessionBindingMismatchError.isInstance(error.cause)).toBe(true);
    // A failed park leaves the runtime usable: same session, same state.
    expect(runtime.sessionId).toBe("park-session");
    expect(runtime.exportState().turnIndex).toBe(0);
  });

  it("a failed park loses nothing: pending child usage survives it, and the next park commits it once", async () => {
    const provider = scriptedProvider([
      textStep("child answer", { usage: CHILD_USAGE }),
      textStep("parent answer", { usage: FIRST_USAGE }),
    ]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "root", database });
    const runtime = await LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withSessionStoreFactory({ createStore: async () => new InMemorySessionStore() })
      .withStore(store)
      .build();
    await runtime.sessions.createSession({
      sessionId: "helper",
      relation: { type: "child", parentSessionId: "root" },
      usageSource: "subagent",
    });
    // The child's usage commit fails: the usage stays pending on the parent.
    store.failCommits((commit) => (commit.commitId.startsWith("usage:") ? "before_apply" : undefined));
    await runtime.sessions.runTurn("helper", textInput("help"));
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: MODEL, usage: CHILD_USAGE }]);

    // The store is still down when parking: the park fails, and the usage is still pending.
    store.failCommits(() => "before_apply");
    expectLashError(await failureOf(() => runtime.park()), "park_failed");
    expect(runtime.tokenLedger()).toEqual([{ source: "subagent", model: MODEL, usage: CHILD_USAGE }]);
    store.clearFault();

    // Still usable: a turn runs and commits, then the park succeeds.
    const turn = await runtime.runTurn(textInput("go on"));
    expect(turn.assistantOutput.safeText).toBe("parent answer");
    const parked = await runtime.park();

    const read = await database.openSession("root").loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual([
      { source: "subagent", model: MODEL, usage: CHILD_USAGE },
      { source: "turn", model: MODEL, usage: FIRST_USAGE },
    ]);
    const resumed = await LashRuntime.resume(parked, environment);
    expect(resumed.tokenLedger()).toEqual(read?.tokenLedger);
  });

  it("a park whose answer was lost is settled as a replay by the next park: usage counted once", async () => {
    const provider = scriptedProvider([textStep("answer", { usage: FIRST_USAGE })]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "root", database });
    const runtime = await runtimeOn(environment, "root", store);
    // The final commit is lost before it lands, so the turn's usage is pending when parking.
    store.failCommits((commit) => (commit.commitId.endsWith(":final") ? "before_apply" : undefined));
    expectLashError(await failureOf(() => runtime.runTurn(textInput("hello"))), "store_commit_failed");
    store.failCommits((commit) => (commit.commitId.startsWith("park:") ? "after_apply" : undefined));

    expectLashError(await failureOf(() => runtime.park()), "park_failed");
    store.clearFault();
    await runtime.park();

    const replays = store.commits.filter(({ result }) => result.replayed).map(({ commit }) => commit.commitId);
    expect(replays).toHaveLength(1);
    expect(replays[0]).toMatch(/^park:/);
    const read = await database.openSession("root").loadSession({ type: "full_graph" });
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: MODEL, usage: FIRST_USAGE }]);
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
  });

  it("requires a store: invalid_configuration, and the ephemeral runtime stays usable", async () => {
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withProvider(scriptedProvider([textStep("still here")]))
      .build();
    const error = expectLashError(await failureOf(() => runtime.park()), "invalid_configuration");
    expect(error.message).toMatch(/park\(\) requires a persistent runtime/);
    expect((await runtime.runTurn(textInput("hello"))).assistantOutput.safeText).toBe("still here");
  });

  it("commits at park only what is not stored yet: nothing after a turn, a moved leaf after a branch", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two")]);
    const { environment, database } = environmentFixture({ provider });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    await runtime.runTurn(textInput("first"));
    const committed = store.commits.length;
    const resumed = await LashRuntime.resume(await runtime.park(), environment);
    expect(store.commits).toHaveLength(committed);
    await resumed.runTurn(textInput("second"));
    // Back to before the second question: only the leaf moves, and the park stores that.
    const second = resumed.activeMessages().find((message) => message.role === "user" && JSON.stringify(message).includes("second"));
    resumed.branchBeforeMessage(second?.id ?? "");
    const leaf = resumed.activeMessages().at(-1)?.id;
    const afterTurn = store.commits.length;
    const parked = await resumed.park();
    expect(store.commits).toHaveLength(afterTurn + 1);
    expect(store.commits.at(-1)?.commit.commitId).toMatch(/^park:[0-9a-f-]{36}$/);
    const again = await LashRuntime.resume(parked, environment);
    expect(again.activeMessages().at(-1)?.id).toBe(leaf);
    expect(again.activeMessages().map((message) => message.role)).toEqual(["user", "assistant"]);
  });

  it("refuses while a turn runs (turn_in_progress), and parks once it ended", async () => {
    const tool = slowTool();
    const provider = scriptedProvider([toolCallStep([{ callId: "slow-1", name: "slow_tool", args: {} }])]);
    const { environment, database } = environmentFixture({ provider, tools: [tool] });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));
    const controller = new AbortController();
    const running = runtime.streamTurn(textInput("wait"), { signal: controller.signal });
    await tool.started;

    expectLashError(await failureOf(() => runtime.park()), "turn_in_progress");

    controller.abort();
    expect((await running).outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect((await runtime.park()).sessionId).toBe("root");
  });

  it("refuses while a managed child session runs a turn", async () => {
    const tool = slowTool();
    const provider = scriptedProvider([toolCallStep([{ callId: "slow-1", name: "slow_tool", args: {} }])]);
    const { environment, database } = environmentFixture({ provider, tools: [tool] });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));
    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });
    const handle = runtime.sessions.startTurn("child", textInput("child waits"));
    await tool.started;

    const error = expectLashError(await failureOf(() => runtime.park()), "turn_in_progress");

    expect(error.message).toContain("child");
    handle.cancel();
    await handle.result;
    expect((await runtime.park()).sessionId).toBe("root");
  });

  it("a RuntimeHandle whose writer parks the runtime lets it go and keeps the last observation", async () => {
    const { environment, database } = environmentFixture({ provider: scriptedProvider([textStep("hi")]) });
    const handle = new RuntimeHandle(await runtimeOn(environment, "root", database.openSession("root")));
    await handle.withRuntime((runtime) => runtime.runTurn(textInput("hello")));

    const parked = await handle.withRuntime((runtime) => runtime.park());

    expect(parked.sessionId).toBe("root");
    expect(handle.observe().state.turnIndex).toBe(1);
    expectLashError(await failureOf(() => handle.withRuntime((runtime) => runtime.sessionId)), "invalid_argument");
  });

  it("after a park every method of the runtime throws a clear error", async () => {
    const { environment, database } = environmentFixture({ provider: scriptedProvider([]) });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));
    await runtime.park();

    const calls: Record<string, () => unknown> = {
      sessionId: () => runtime.sessionId,
      policy: () => runtime.policy,
      provider: () => runtime.provider,
      sessions: () => runtime.sessions,
      store: () => runtime.store,
      residency: () => runtime.residency,
      turnInjectionBridge: () => runtime.turnInjectionBridge,
      turnInputInjectionBridge: () => runtime.turnInputInjectionBridge,
      streamTurn: () => runtime.streamTurn(textInput("x")),
      runTurn: () => runtime.runTurn(textInput("x")),
      streamTurnFollowingHandoffs: () => runtime.streamTurnFollowingHandoffs(textInput("x")),
      exportState: () => runtime.exportState(),
      exportPersistedState: () => runtime.exportPersistedState(),
      activeMessages: () => runtime.activeMessages(),
      activeToolCalls: () => runtime.activeToolCalls(),
      tokenLedger: () => runtime.tokenLedger(),
      updateSessionConfig: () => runtime.updateSessionConfig({ model: "other" }),
      setModel: () => runtime.setModel("other"),
      setMaxContextTokens: () => runtime.setMaxContextTokens(10),
      setProvider: () => runtime.setProvider(scriptedProvider([])),
      applyModeSessionExtension: () => runtime.applyModeSessionExtension({ kind: "x" }),
      branchToNode: () => runtime.branchToNode("n"),
      getHistoricNode: () => runtime.getHistoricNode("n"),
      orphanedNodeIds: () => runtime.orphanedNodeIds(),
      tombstoneNodes: () => runtime.tombstoneNodes(["n"]),
      tombstoneOrphanedNodes: () => runtime.tombstoneOrphanedNodes(),
      vacuum: () => runtime.vacuum(),
      park: () => runtime.park(),
      activateManagedSession: () => runtime.activateManagedSession("child"),
      takeFirstTurnInput: () => runtime.takeFirstTurnInput(),
      core: () => runtime.core,
    };
    for (const [name, call] of Object.entries(calls)) {
      const error = await failureOf(call);
      expect(error, name).toBeDefined();
      expect(expectLashError(error, "invalid_argument").message, name).toMatch(
        /session `root` was parked: resume it with LashRuntime\.resume/,
      );
    }
  });
});

describe("resume", () => {
  it("a store without a session gives a fresh session with the parked policy (a host-written ParkedSession works too)", async () => {
    const provider = scriptedProvider([textStep("fresh answer")]);
    const { environment, database } = environmentFixture({ provider });
    const parked: ParkedSession = {
      sessionId: "fresh",
      store: database.openSession("fresh"),
      policy: { ...policyFor("fresh"), maxContextTokens: 50_000 },
    };

    const runtime = await LashRuntime.resume(parked, environment);

    expect(runtime.exportState().turnIndex).toBe(0);
    expect(runtime.activeMessages()).toEqual([]);
    expect(runtime.policy).toEqual(parked.policy);
    await runtime.runTurn(textInput("hello"));
    expect((await database.openSession("fresh").loadSession({ type: "full_graph" }))?.headRevision).toBeGreaterThan(0);
  });

  it("restores the checkpoint's execution state, plugin snapshots and counters, the stored config's policy fields, and tells plugins", async () => {
    const lifecycle: PluginLifecycleEvent[] = [];
    const plugin: LashPlugin = { id: "watcher", onLifecycleEvent: (event) => void lifecycle.push(event) };
    const { environment, database } = environmentFixture({ provider: scriptedProvider([]), plugins: [plugin] });
    const store = database.openSession("restored");
    const message = userMessage("m1", "stored question");
    const turnState = {
      turnIndex: 7,
      tokenUsage: SECOND_USAGE,
      lastPromptUsage: { promptContextTokens: 20, inputTokens: 20, cachedInputTokens: 0, contextBudgetTokens: 25 },
      modeTurnOptions: { modeId: "standard", payload: { depth: 2 } },
    };
    await store.commit({
      sessionId: "restored",
      commitId: "seed",
      config: { providerId: "mock", model: "stored-model", contextWindow: 64_000, executionMode: "standard", modelVariant: "high" },
      graph: {
        type: "append",
        nodes: [{ nodeId: "m1", timestamp: "2024-01-01T00:00:00.000Z", payload: { kind: "message", message } }],
        leafNodeId: "m1",
      },
      checkpoint: { schemaVersion: 1, turnState, executionState: { bindings: { x: 1 } }, pluginSnapshots: { watcher: { seen: 3 } } },
      usageDeltas: [{ source: "turn", model: "stored-model", usage: FIRST_USAGE }],
    });

    const runtime = await LashRuntime.resume(
      { sessionId: "restored", store, policy: { ...policyFor("restored"), modelVariant: "low" } },
      environment,
    );

    const persisted = runtime.exportPersistedState();
    expect(persisted.turnIndex).toBe(7);
    expect(persisted.tokenUsage).toEqual(SECOND_USAGE);
    expect(persisted.lastPromptUsage).toEqual(turnState.lastPromptUsage);
    expect(persisted.modeTurnOptions).toEqual(turnState.modeTurnOptions);
    expect(persisted.executionState).toEqual({ bindings: { x: 1 } });
    expect(persisted.pluginSnapshots).toEqual({ watcher: { seen: 3 } });
    expect(persisted.tokenLedger).toEqual([{ source: "turn", model: "stored-model", usage: FIRST_USAGE }]);
    expect(runtime.policy).toMatchObject({ model: "stored-model", maxContextTokens: 64_000, modelVariant: "high", providerId: "mock" });
    expect(runtime.activeMessages()).toEqual([message]);
    expect(lifecycle).toEqual([{ type: "session_restored", sessionId: "restored" }]);
  });

  it("load errors are session_load_failed with the store's error as cause", async () => {
    class UnreachableStore extends InMemorySessionStore {
      override async loadSession(_scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
        throw new StoreUnavailableError("database is down");
      }
    }
    const { environment } = environmentFixture({ provider: scriptedProvider([]) });
    const error = expectLashError(
      await failureOf(() =>
        LashRuntime.resume({ sessionId: "s", store: new UnreachableStore({ sessionId: "s" }), policy: policyFor("s") }, environment),
      ),
      "session_load_failed",
    );
    expect(error.message).toContain("database is down");
    expect(StoreUnavailableError.isInstance(error.cause)).toBe(true);
  });

  it("a missing active leaf on resume under active_path_only is a typed error, not a wipe", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("first"));
    await runtime.runTurn(textInput("second"));
    const parked = await runtime.park();
    const probe = database.openSession("session");
    const before = await storedNodeIds(probe);
    const revision = await probe.loadHeadRevision();
    const leaf = (await probe.loadSession({ type: "full_graph" }))?.graph.leafNodeId;
    if (leaf === undefined) throw new Error("expected a leaf");
    // The host tombstones the leaf behind the runtime's back (the runtime itself refuses to).
    await probe.tombstoneNodes([leaf]);

    const error = expectLashError(await failureOf(() => LashRuntime.resume(parked, environment)), "session_load_failed");

    expect(InvalidPersistedDataError.isInstance(error.cause)).toBe(true);
    expect(await storedNodeIds(probe)).toEqual(before.filter((nodeId) => nodeId !== leaf));
    expect(await probe.loadHeadRevision()).toBe(revision);
  });

  it("refuses a provider the environment does not register, a malformed parked session and a store bound to another session", async () => {
    const { environment, database } = environmentFixture({ provider: scriptedProvider([]) });
    const unknownProvider = { sessionId: "s", store: database.openSession("s"), policy: { ...policyFor("s"), providerId: "elsewhere" } };
    expect(
      expectLashError(await failureOf(() => LashRuntime.resume(unknownProvider, environment)), "invalid_configuration").message,
    ).toMatch(/elsewhere/);
    const malformed = { sessionId: "", store: database.openSession("s"), policy: policyFor("s") };
    expectLashError(await failureOf(() => LashRuntime.resume(malformed, environment)), "invalid_argument");
    const mismatchedPolicy = { sessionId: "s", store: database.openSession("s"), policy: policyFor("t") };
    expectLashError(await failureOf(() => LashRuntime.resume(mismatchedPolicy, environment)), "invalid_argument");

    const other = await runtimeOn(environment, "other", database.openSession("other"));
    await other.park();
    const crossed = { sessionId: "s", store: database.openSession("other"), policy: policyFor("s") };
    expectLashError(await failureOf(() => LashRuntime.resume(crossed, environment)), "session_binding_mismatch");
  });
});

describe("parked sessions hold no graph", () => {
  it("10,000 parked sessions are each exactly { sessionId, store, policy }, and resume on demand", { timeout: 120_000 }, async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two"), textStep("three")]);
    const { environment, database } = environmentFixture({ provider });
    const withHistory = await runtimeOn(environment, "session-0", database.openSession("session-0"));
    for (const text of ["a", "b", "c"]) await withHistory.runTurn(textInput(text));
    const parkedSessions: ParkedSession[] = [await withHistory.park()];
    for (let index = 1; index < 10_000; index += 1) {
      const runtime = await runtimeOn(environment, `session-${index}`, database.openSession(`session-${index}`));
      parkedSessions.push(await runtime.park());
    }

    expect(parkedSessions).toHaveLength(10_000);
    for (const parked of parkedSessions) {
      expect(Object.keys(parked).sort()).toEqual(["policy", "sessionId", "store"]);
      expect(Object.isFrozen(parked)).toBe(true);
      expect(parked.store).toBeInstanceOf(InMemorySessionStore);
      // The policy is plain data: it survives a JSON round trip unchanged.
      expect(JSON.parse(JSON.stringify(parked.policy))).toEqual(parked.policy);
    }
    const resumed = await LashRuntime.resume(parkedSessions[0] as ParkedSession, environment);
    expect(messageTexts(resumed, "user")).toEqual(["a", "b", "c"]);
    const last = await LashRuntime.resume(parkedSessions[9_999] as ParkedSession, environment);
    expect(last.sessionId).toBe("session-9999");
    expect(last.activeMessages()).toEqual([]);
  });
});
