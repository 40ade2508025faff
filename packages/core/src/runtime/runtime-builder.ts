import { randomUUID } from "node:crypto";
import type {
  AttachmentStore,
  ModelProvider,
  PersistedSessionState,
  PromptContribution,
  PromptLayer,
  PromptSlot,
  ProviderRetryPolicy,
  SessionPolicy,
  SessionStore,
  SessionStoreFactory,
  TerminationPolicy,
  ToolDefinition,
  ToolProvider,
} from "@lash/protocol";
import {
  LashError,
  MODEL_PROVIDER_SPECIFICATION_VERSION,
  persistedSessionStateSchema,
  ProviderCallError,
  promptLayerSchema,
  sessionPolicySchema,
  terminationPolicySchema,
} from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import { createStandardMode } from "../modes/standard-mode.js";
import type { LashPlugin } from "../plugins/plugin.js";
import { PluginHost } from "../plugins/plugin-host.js";
import { emptyPromptLayer } from "../prompt/prompt-builder.js";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { createToolProvider } from "../tools/tool-surface.js";
import type { RuntimeEffectHost } from "./effect-host.js";
import { createRuntimeCoreConfig, type RuntimeCoreConfig } from "./runtime-core-config.js";
import type { SessionCore } from "./session-core.js";
import { createSessionCore } from "./session-manager.js";

/** The policy fields a builder accepts; `maxContextTokens` is required by `build()`. */
export type SessionPolicyInput = Partial<Omit<SessionPolicy, "sessionId">>;

/** A provider that fails every call: the default when the host configured none. */
export const unconfiguredProvider: ModelProvider = {
  specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
  providerId: "unconfigured",
  async doComplete() {
    throw new ProviderCallError({
      kind: "unsupported",
      message: "no provider configured: pass one to LashRuntime.builder().withProvider()",
      retryable: false,
      terminalReason: "provider_error",
    });
  },
};

function checkProvider(provider: ModelProvider): void {
  if (provider.specificationVersion !== MODEL_PROVIDER_SPECIFICATION_VERSION) {
    throw new LashError(
      "unsupported_provider_version",
      `provider \`${provider.providerId}\` implements specification \`${String(provider.specificationVersion)}\`; this runtime supports \`${MODEL_PROVIDER_SPECIFICATION_VERSION}\``,
    );
  }
  if (typeof provider.doComplete !== "function" && typeof provider.doStream !== "function") {
    throw new LashError("invalid_configuration", `provider \`${provider.providerId}\` implements neither doComplete nor doStream`);
  }
}

function configurationError(what: string, error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): LashError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join(".") : "";
  return new LashError("invalid_configuration", `invalid ${what}${path ? ` at \`${path}\`` : ""}: ${issue?.message ?? "invalid"}`);
}

/**
 * Builds an embedded `LashRuntime` (the reference's `EmbeddedRuntimeBuilder`). Every setter returns
 * the builder. `build()` loads the session from the store when one is set; `buildEphemeral()`
 * builds a runtime that keeps everything in memory.
 */
export class EmbeddedRuntimeBuilder<Runtime = unknown> {
  readonly #create: (core: SessionCore) => Runtime;
  #sessionId: string | undefined;
  #policy: SessionPolicyInput = {};
  #initialState: PersistedSessionState | undefined;
  #provider: ModelProvider | undefined;
  #toolProviders: ToolProvider[] = [];
  #plugins: LashPlugin[] = [];
  #modes: ExecutionMode[] = [];
  #core: Partial<RuntimeCoreConfig> = {};
  #prompt: PromptLayer = emptyPromptLayer();
  #store: SessionStore | undefined;
  #storeFactory: SessionStoreFactory | undefined;
  #turnInjection: TurnInjectionBridge | undefined;
  #inputInjection: TurnInputInjectionBridge | undefined;

  /** @internal Use `LashRuntime.builder()`. */
  constructor(create: (core: SessionCore) => Runtime) {
    this.#create = create;
  }

  withSessionId(sessionId: string): this {
    this.#sessionId = sessionId;
    return this;
  }

  /** Session policy: `model`, `maxContextTokens` (required), `modelVariant`, `executionMode`, `prompt`. */
  withPolicy(policy: SessionPolicyInput): this {
    this.#policy = { ...this.#policy, ...policy };
    return this;
  }

  /** Starts from a persisted snapshot (its session id and policy are replaced by the builder's). */
  withInitialState(state: PersistedSessionState): this {
    this.#initialState = state;
    return this;
  }

  withProvider(provider: ModelProvider): this {
    this.#provider = provider;
    return this;
  }

  /** Adds tools (as one provider). */
  withTools(tools: readonly ToolDefinition<unknown>[]): this {
    this.#toolProviders.push(createToolProvider(tools));
    return this;
  }

  withToolProvider(provider: ToolProvider): this {
    this.#toolProviders.push(provider);
    return this;
  }

  withPlugin(plugin: LashPlugin): this {
    this.#plugins.push(plugin);
    return this;
  }

  withPlugins(plugins: readonly LashPlugin[]): this {
    this.#plugins.push(...plugins);
    return this;
  }

  /** Registers an execution mode (selected by `policy.executionMode`; `standard` is built in). */
  withMode(mode: ExecutionMode): this {
    this.#modes.push(mode);
    return this;
  }

  /** Replaces the whole core configuration; setters called afterwards still apply. */
  withRuntimeCore(core: RuntimeCoreConfig): this {
    this.#core = { ...core };
    this.#prompt = core.prompt;
    return this;
  }

  withTermination(termination: TerminationPolicy): this {
    const { stopWhen, ...limits } = termination;
    const parsed = terminationPolicySchema.safeParse(limits);
    if (!parsed.success) throw configurationError("termination policy", parsed.error);
    this.#core = { ...this.#core, termination: stopWhen === undefined ? parsed.data : { ...parsed.data, stopWhen } };
    return this;
  }

  withEffectHost(effectHost: RuntimeEffectHost): this {
    this.#core = { ...this.#core, effectHost };
    return this;
  }

  withAttachmentStore(attachmentStore: AttachmentStore): this {
    this.#core = { ...this.#core, attachmentStore };
    return this;
  }

  /** Retry policy for every provider call (overrides the provider's own). */
  withProviderRetryPolicy(providerRetryPolicy: ProviderRetryPolicy): this {
    this.#core = { ...this.#core, providerRetryPolicy };
    return this;
  }

  withPromptLayer(layer: PromptLayer): this {
    const parsed = promptLayerSchema.safeParse(layer);
    if (!parsed.success) throw configurationError("prompt layer", parsed.error);
    this.#prompt = parsed.data;
    return this;
  }

  withPromptTemplate(template: string): this {
    this.#prompt = { ...this.#prompt, template };
    return this;
  }

  withPromptContribution(contribution: { slot: PromptSlot; content: string; priority?: number; title?: string }): this {
    const full: PromptContribution = { priority: 0, ...contribution };
    this.#prompt = { ...this.#prompt, contributions: [...this.#prompt.contributions, full] };
    return this;
  }

  /** Drops earlier layers' contributions to `slot` and adds this one. */
  withReplacedPromptSlot(slot: PromptSlot, content: string): this {
    this.#prompt = {
      ...this.#prompt,
      contributions: [...this.#prompt.contributions.filter((contribution) => contribution.slot !== slot), { slot, priority: 0, content }],
      resetSlots: [...this.#prompt.resetSlots, slot],
    };
    return this;
  }

  withClearedPromptSlot(slot: PromptSlot): this {
    this.#prompt = {
      ...this.#prompt,
      contributions: this.#prompt.contributions.filter((contribution) => contribution.slot !== slot),
      resetSlots: [...this.#prompt.resetSlots, slot],
    };
    return this;
  }

  /** The store this session commits to (`build()` loads the session from it). */
  withStore(store: SessionStore): this {
    this.#store = store;
    return this;
  }

  /** Opens stores for the child sessions this runtime creates. */
  withSessionStoreFactory(factory: SessionStoreFactory): this {
    this.#storeFactory = factory;
    return this;
  }

  withTurnInjectionBridge(bridge: TurnInjectionBridge): this {
    this.#turnInjection = bridge;
    return this;
  }

  withTurnInputInjectionBridge(bridge: TurnInputInjectionBridge): this {
    this.#inputInjection = bridge;
    return this;
  }

  /** Builds the runtime, loading the session from the store when one is set. */
  async build(): Promise<Runtime> {
    const core = this.#createCore(this.#store);
    if (this.#initialState) {
      core.applyPersisted(this.#validatedInitialState());
    } else if (this.#store) {
      let read;
      try {
        read = await this.#store.loadSession({ type: "full_graph" });
      } catch (error) {
        throw new LashError("session_load_failed", `failed to load session \`${core.sessionId}\`: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (read) {
        if (read.sessionId !== core.sessionId) {
          throw new LashError("session_binding_mismatch", `store is bound to session \`${read.sessionId}\` but builder requested \`${core.sessionId}\``);
        }
        core.applyRead(read);
      }
    }
    return this.#create(core);
  }

  /** Builds a runtime with no store: everything stays in memory. */
  buildEphemeral(): Runtime {
    const core = this.#createCore(undefined);
    if (this.#initialState) core.applyPersisted(this.#validatedInitialState());
    return this.#create(core);
  }

  /** Builds a runtime that commits to `store`. */
  buildPersistent(store: SessionStore): Promise<Runtime> {
    return this.withStore(store).build();
  }

  #validatedInitialState(): PersistedSessionState {
    const parsed = persistedSessionStateSchema.safeParse(this.#initialState);
    if (!parsed.success) throw configurationError("initial state", parsed.error);
    return parsed.data;
  }

  #createCore(store: SessionStore | undefined): SessionCore {
    const provider = this.#provider ?? unconfiguredProvider;
    checkProvider(provider);
    const sessionId = this.#sessionId ?? this.#initialState?.sessionId ?? randomUUID();
    if (sessionId === "") throw new LashError("invalid_configuration", "session id must not be empty");
    const input = this.#policy;
    if (input.maxContextTokens === undefined) {
      throw new LashError("invalid_configuration", "session policy is missing maxContextTokens (max_context_tokens): set it with withPolicy({ maxContextTokens })");
    }
    const model = input.model ?? provider.defaultModel;
    if (model === undefined || model === "") {
      throw new LashError("invalid_configuration", "session policy has no model and the provider has no default model: set it with withPolicy({ model })");
    }
    const candidate = { ...input, sessionId, model, providerId: provider.providerId };
    const policy = validatePolicy(candidate);
    const modes = new Map<string, ExecutionMode>([["standard", createStandardMode()]]);
    for (const mode of this.#modes) modes.set(mode.id, mode);
    if (!modes.has(policy.executionMode)) {
      throw new LashError("invalid_configuration", `execution mode \`${policy.executionMode}\` is not registered (registered: ${[...modes.keys()].join(", ")})`);
    }
    return createSessionCore({
      policy,
      provider,
      environment: {
        core: createRuntimeCoreConfig({ ...this.#core, prompt: this.#prompt }),
        toolProviders: [...this.#toolProviders],
        plugins: new PluginHost([...this.#plugins]),
        modes,
        sessionStoreFactory: this.#storeFactory,
      },
      store,
      turnInjection: this.#turnInjection,
      inputInjection: this.#inputInjection,
    });
  }
}

function validatePolicy(candidate: SessionPolicyInput & { sessionId: string; model: string }): SessionPolicy {
  const parsed = sessionPolicySchema.safeParse(candidate);
  if (!parsed.success) throw configurationError("session policy", parsed.error);
  return parsed.data;
}
