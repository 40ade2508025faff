import type { ModelProvider } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL, messageTexts } from "../../test/fixtures.js";
import { environmentFixture, expectLashError, failureOf, runtimeOn, scriptedProvider } from "../../test/persistence-helpers.js";
import { persistedState, userMessage } from "../../test/runtime-scenario-helpers.js";
import {
  createRuntimeCoreConfig,
  InMemoryAttachmentStore,
  InMemorySessionDatabase,
  type LashPlugin,
  LashRuntime,
  PluginHost,
  type Residency,
  type RuntimeEffectHost,
  RuntimeEnvironment,
  textInput,
} from "../index.js";

const effectHost: RuntimeEffectHost = { run: (_invocation, execute) => execute() };

describe("RuntimeEnvironment", () => {
  it("builder_methods_configure_runtime_core: every setter lands in environment.core, with the same instances", () => {
    const attachmentStore = new InMemoryAttachmentStore();
    const environment = RuntimeEnvironment.builder()
      .withAttachmentStore(attachmentStore)
      .withEffectHost(effectHost)
      .withTermination({ treatMissingDoneAsFailure: false, maxModelCalls: 3 })
      .withProviderRetryPolicy({ enabled: false, maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitterMs: 0, retryAfterCapMs: 0 })
      .withPromptTemplate("{{intro}}")
      .withPromptContribution({ slot: "guidance", content: "Be brief." })
      .withReplacedPromptSlot("intro", "Custom intro.")
      .withClearedPromptSlot("environment")
      .build();

    expect(environment.core.attachmentStore).toBe(attachmentStore);
    expect(environment.core.effectHost).toBe(effectHost);
    expect(environment.core.termination).toEqual({ treatMissingDoneAsFailure: false, maxModelCalls: 3 });
    expect(environment.core.providerRetryPolicy?.enabled).toBe(false);
    expect(environment.core.prompt.template).toBe("{{intro}}");
    expect(environment.core.prompt.contributions).toEqual([
      { slot: "guidance", priority: 0, content: "Be brief." },
      { slot: "intro", priority: 0, content: "Custom intro." },
    ]);
    expect(environment.core.prompt.resetSlots).toEqual(["intro", "environment"]);
  });

  it("runtime_core_config_replaces_core_config: a later withRuntimeCoreConfig replaces earlier field setters, and setters after it still apply", () => {
    const replaced = createRuntimeCoreConfig({ termination: { treatMissingDoneAsFailure: false } });
    const laterStore = new InMemoryAttachmentStore();
    const environment = RuntimeEnvironment.builder()
      .withEffectHost(effectHost)
      .withPromptTemplate("dropped")
      .withRuntimeCoreConfig(replaced)
      .withAttachmentStore(laterStore)
      .build();

    expect(environment.core.effectHost).toBe(replaced.effectHost);
    expect(environment.core.prompt.template).toBeUndefined();
    expect(environment.core.termination).toEqual({ treatMissingDoneAsFailure: false });
    expect(environment.core.attachmentStore).toBe(laterStore);
  });

  it("runtime_environment_does_not_mirror_runtime_core_config_fields", () => {
    const environment = RuntimeEnvironment.builder().build();
    const coreFields = Object.keys(environment.core);
    expect(coreFields.sort()).toEqual(["attachmentStore", "effectHost", "prompt", "providerRetryPolicy", "termination"]);
    for (const field of coreFields) expect(Object.keys(environment)).not.toContain(field);
    expect(Object.keys(environment).sort()).toEqual([
      "backgroundTaskHost",
      "core",
      "modes",
      "pluginHost",
      "providers",
      "residency",
      "sessionStoreFactory",
      "toolProviders",
    ]);
    expect(Object.isFrozen(environment)).toBe(true);
  });

  it("has the defaults: keep_all, the standard mode, no provider, an empty plugin host", () => {
    const environment = RuntimeEnvironment.builder().build();
    expect(environment.residency).toBe("keep_all");
    expect([...environment.modes.keys()]).toEqual(["standard"]);
    expect(environment.defaultProvider).toBeUndefined();
    expect(environment.pluginHost.isEmpty).toBe(true);
    expect(environment.sessionStoreFactory).toBeUndefined();
  });

  it("registers providers by id (the first is the default) and shares a given plugin host", () => {
    const first = scriptedProvider([]);
    const second = new ScriptedProvider([], { providerId: "other", defaultModel: "other-model" });
    const host = new PluginHost([{ id: "shared" }]);
    const environment = RuntimeEnvironment.builder()
      .withProvider(first)
      .withProvider(second)
      .withProvider(first)
      .withPluginHost(host)
      .build();
    expect(environment.providers).toEqual([first, second]);
    expect(environment.defaultProvider).toBe(first);
    expect(environment.providerFor("other")).toBe(second);
    expect(environment.providerFor("missing")).toBeUndefined();
    expect(environment.pluginHost).toBe(host);
    const extended = RuntimeEnvironment.builder().withPluginHost(host).withPlugin({ id: "added" }).build();
    expect(extended.pluginHost.plugins.map((plugin) => plugin.id)).toEqual(["shared", "added"]);
  });
});

describe("one environment, many runtimes", () => {
  it("two runtimes share the environment's provider, tools, plugins, attachment store and store factory, each with its own session", async () => {
    const seen: string[] = [];
    const plugin: LashPlugin = { id: "observer", beforeTurn: (request) => void seen.push(request.sessionId) };
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-a", name: "echo_tool", args: { value: "a" } }]),
      textStep("answer a"),
      textStep("answer b"),
    ]);
    const attachmentStore = new InMemoryAttachmentStore();
    const { environment, database } = environmentFixture({
      provider,
      tools: [echoTool],
      plugins: [plugin],
      configure: (builder) => builder.withAttachmentStore(attachmentStore),
    });
    const first = await runtimeOn(environment, "session-a", database.openSession("session-a"));
    const second = await runtimeOn(environment, "session-b", database.openSession("session-b"));

    const turnA = await first.runTurn(textInput("use the tool"));
    const turnB = await second.runTurn(textInput("just answer"));

    expect(turnA.assistantOutput.safeText).toBe("answer a");
    expect(turnA.toolCalls.map((call) => call.tool)).toEqual(["echo_tool"]);
    expect(turnB.assistantOutput.safeText).toBe("answer b");
    expect(seen).toEqual(["session-a", "session-b"]);
    expect(first.provider).toBe(provider);
    expect(second.provider).toBe(provider);
    expect(first.core.environment.core.attachmentStore).toBe(attachmentStore);
    expect(second.core.environment.core.attachmentStore).toBe(attachmentStore);
    expect(first.core.environment.plugins).toBe(environment.pluginHost);
    expect(second.core.environment.sessionStoreFactory).toBe(database);
    expect(messageTexts(first, "user")[0]).toBe("use the tool");
    expect(messageTexts(second, "user")).toEqual(["just answer"]);
    const listed = await database.openSession("session-a").listSessions();
    expect(listed.sessions.map((session) => session.sessionId)).toEqual(["session-a", "session-b"]);
  });

  it("setters after withEnvironment change only that runtime; the environment is untouched", async () => {
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "x" } }]),
      toolCallStep([{ callId: "call-2", name: "echo_tool", args: { value: "y" } }]),
      textStep("unlimited answer"),
    ]);
    const { environment } = environmentFixture({ provider, tools: [echoTool] });
    const limited = await LashRuntime.builder()
      .withEnvironment(environment)
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withTermination({ treatMissingDoneAsFailure: true, maxModelCalls: 1 })
      .build();
    const unlimited = await LashRuntime.builder()
      .withEnvironment(environment)
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .build();

    const limitedTurn = await limited.runTurn(textInput("go"));
    const unlimitedTurn = await unlimited.runTurn(textInput("go"));

    expect(limitedTurn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(unlimitedTurn.assistantOutput.safeText).toBe("unlimited answer");
    expect(environment.core.termination.maxModelCalls).toBeUndefined();
  });

  it("builder tools and plugins come on top of the environment's", async () => {
    const seen: string[] = [];
    const provider = scriptedProvider([textStep("hi")]);
    const { environment } = environmentFixture({
      provider,
      tools: [echoTool],
      plugins: [{ id: "from-environment", beforeTurn: () => void seen.push("environment") }],
    });
    const runtime = await LashRuntime.builder()
      .withEnvironment(environment)
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withPlugin({ id: "from-builder", beforeTurn: () => void seen.push("builder") })
      .withTools([{ ...echoTool, name: "second_echo" }])
      .build();

    await runtime.runTurn(textInput("hello"));

    expect(seen).toEqual(["environment", "builder"]);
    expect(provider.requests[0]?.tools?.map((tool) => tool.name).sort()).toEqual(["batch", "echo_tool", "read_tool_output", "second_echo"]);
  });
});

describe("builder validation", () => {
  it("active_path_only without a store is invalid_configuration, from the environment or the builder", async () => {
    const { environment } = environmentFixture({ provider: scriptedProvider([]), residency: "active_path_only" });
    const fromEnvironment = () => LashRuntime.builder().withEnvironment(environment).withPolicy({ model: MODEL, maxContextTokens: 1_000 });
    expect(expectLashError(await failureOf(() => fromEnvironment().build()), "invalid_configuration").message).toMatch(
      /active_path_only.*store/,
    );
    expectLashError(await failureOf(() => fromEnvironment().build()), "invalid_configuration");
    const direct = LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withProvider(scriptedProvider([]))
      .withResidency("active_path_only");
    expectLashError(await failureOf(() => direct.build()), "invalid_configuration");
    // A builder may override the environment's residency.
    const relaxed = await fromEnvironment().withResidency("keep_all").build();
    expect(relaxed.residency).toBe("keep_all");
  });

  it("an unknown residency is invalid_configuration on both builders", async () => {
    const bogus = "everything" as Residency;
    expectLashError(await failureOf(() => RuntimeEnvironment.builder().withResidency(bogus)), "invalid_configuration");
    expectLashError(await failureOf(() => LashRuntime.builder().withResidency(bogus)), "invalid_configuration");
  });

  it("a second provider with the same id, or a provider of another specification, is refused", async () => {
    const builder = RuntimeEnvironment.builder().withProvider(scriptedProvider([]));
    expectLashError(await failureOf(() => builder.withProvider(scriptedProvider([]))), "invalid_configuration");
    const foreign = {
      specificationVersion: "lash.provider.v0",
      providerId: "old",
      doComplete: async () => ({}),
    } as unknown as ModelProvider;
    expectLashError(await failureOf(() => RuntimeEnvironment.builder().withProvider(foreign)), "unsupported_provider_version");
    const empty: ModelProvider = { specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION, providerId: "empty" };
    expectLashError(await failureOf(() => RuntimeEnvironment.builder().withProvider(empty)), "invalid_configuration");
  });

  it("an invalid termination policy or prompt layer is refused by the environment builder", async () => {
    expectLashError(
      await failureOf(() => RuntimeEnvironment.builder().withTermination({ treatMissingDoneAsFailure: true, maxModelCalls: 0 })),
      "invalid_configuration",
    );
    expectLashError(
      await failureOf(() => RuntimeEnvironment.builder().withPromptLayer({ contributions: [{ slot: "nowhere" }] } as never)),
      "invalid_configuration",
    );
  });

  it("withInitialState seeds only a new session: a store that already holds one is invalid_configuration", async () => {
    const database = new InMemorySessionDatabase();
    const seeded = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withSessionId("root")
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withInitialState(persistedState({ turnIndex: 2, messages: [userMessage("m1", "seeded")] }))
      .withStore(database.openSession("root"))
      .build();
    await seeded.park();
    // The seed went to the store whole with the first commit.
    const read = await database.openSession("root").loadSession({ type: "full_graph" });
    expect(read?.graph.nodes.map((node) => node.nodeId)).toEqual(["m1"]);
    expect(read?.checkpoint?.turnState.turnIndex).toBe(2);

    const error = await failureOf(() =>
      LashRuntime.builder()
        .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
        .withSessionId("root")
        .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
        .withInitialState(persistedState({ messages: [userMessage("m9", "other")] }))
        .withStore(database.openSession("root"))
        .build(),
    );
    expect(expectLashError(error, "invalid_configuration").message).toMatch(/already holds session/);
  });
});
