import type { ModelProvider, PersistedSessionRead, PersistedSessionState, SessionStore, SessionStoreFactory } from "@lash/protocol";
import { LashError, persistedSessionStateSchema } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import { createStandardMode } from "../modes/standard-mode.js";
import { PluginHost } from "../plugins/plugin-host.js";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { ToolSurface } from "../tools/tool-surface.js";
import { type Residency, validateResidency } from "./residency.js";
import type { RuntimeCoreConfig } from "./runtime-core-config.js";
import { configurationError } from "./runtime-core-draft.js";
import type { RuntimeEnvironment } from "./runtime-environment.js";
import { RuntimePartsSetters } from "./runtime-parts-setters.js";
import { assembleSessionCore, type SessionPolicyInput } from "./session-assembly.js";
import type { SessionCore, SessionEnvironment } from "./session-core.js";

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads a session for a runtime being built or resumed, with the residency's scope (never a full
 * load under `active_path_only`). Every failure, a missing active leaf included, is a
 * `session_load_failed` error carrying the store's error as its cause.
 */
export async function loadSessionForRuntime(core: SessionCore): Promise<PersistedSessionRead | undefined> {
  const store = core.store;
  if (!store) return undefined;
  let read: PersistedSessionRead | undefined;
  try {
    read = await store.loadSession(core.loadScope);
  } catch (error) {
    throw new LashError("session_load_failed", `failed to load session \`${core.sessionId}\`: ${errorMessage(error)}`, { cause: error });
  }
  if (!read) return undefined;
  if (read.sessionId !== core.sessionId) {
    throw new LashError(
      "session_binding_mismatch",
      `store is bound to session \`${read.sessionId}\` but the runtime is for \`${core.sessionId}\``,
    );
  }
  return read;
}

/** Applies a loaded session to a core, reporting a bad read as `session_load_failed`. */
export function applyLoadedSession(core: SessionCore, read: PersistedSessionRead): void {
  try {
    core.applyRead(read);
  } catch (error) {
    throw new LashError("session_load_failed", `failed to load session \`${core.sessionId}\`: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Builds an embedded `LashRuntime`. Every setter returns the builder; `build()` checks the whole
 * configuration and loads the session from the store when one is set (without a store, everything
 * stays in memory). `withEnvironment` starts from a shared `RuntimeEnvironment`; setters called
 * after it change only this runtime.
 */
export class EmbeddedRuntimeBuilder<Runtime = unknown> extends RuntimePartsSetters {
  readonly #create: (core: SessionCore) => Runtime;
  #environment: RuntimeEnvironment | undefined;
  #sessionId: string | undefined;
  #policy: SessionPolicyInput = {};
  #initialState: PersistedSessionState | undefined;
  #provider: ModelProvider | undefined;
  #residency: Residency | undefined;
  #store: SessionStore | undefined;
  #storeFactory: SessionStoreFactory | undefined;
  #turnInjection: TurnInjectionBridge | undefined;
  #inputInjection: TurnInputInjectionBridge | undefined;

  /** @internal Use `LashRuntime.builder()`. */
  constructor(create: (core: SessionCore) => Runtime) {
    super();
    this.#create = create;
  }

  /**
   * Starts from a shared environment: its core configuration (replacing earlier core setters), and
   * as defaults its residency, store factory, plugins, tools, modes and default provider. Tools,
   * plugins and modes added to this builder come on top of the environment's.
   */
  withEnvironment(environment: RuntimeEnvironment): this {
    this.#environment = environment;
    this.core.replace(environment.core);
    return this;
  }

  /** The session this runtime runs (default: the store's, else a fresh UUID). */
  withSessionId(sessionId: string): this {
    this.#sessionId = sessionId;
    return this;
  }

  /** The model of the session (default: the provider's default model). */
  withModel(model: string): this {
    this.#policy = { ...this.#policy, model };
    return this;
  }

  /**
   * Session policy: `model` (default: the provider's), `maxContextTokens` (default: the model's known
   * context window, see `defaultContextWindow`), `modelVariant`, `executionMode`, `prompt`.
   */
  withPolicy(policy: SessionPolicyInput): this {
    this.#policy = { ...this.#policy, ...policy };
    return this;
  }

  /**
   * Starts from a persisted snapshot (its session id and policy are replaced by the builder's). With
   * a store, the snapshot seeds a new session: the store must not hold one yet.
   */
  withInitialState(state: PersistedSessionState): this {
    this.#initialState = state;
    return this;
  }

  withProvider(provider: ModelProvider): this {
    this.#provider = provider;
    return this;
  }

  /** Which graph nodes stay in memory (default: the environment's, else `keep_all`). */
  withResidency(residency: Residency): this {
    this.#residency = validateResidency(residency);
    return this;
  }

  /** Another name of `withRuntimeCoreConfig`. */
  withRuntimeCore(core: RuntimeCoreConfig): this {
    return this.withRuntimeCoreConfig(core);
  }

  /**
   * The store this session commits to: `build()` loads the session from it, and takes the session id
   * from it when the store is bound to one.
   */
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

  /**
   * Builds the runtime: checks the whole configuration, then loads the session from the store when
   * one is set (without a store everything stays in memory). Every configuration problem is an
   * `invalid_configuration` `LashError` naming the field, thrown here rather than at the first turn:
   * no provider, no model, a session id that disagrees with the store's, tools with bad or
   * duplicate names or unusable schemas, a mode that is not registered.
   */
  async build(): Promise<Runtime> {
    const store = this.#store;
    const core = this.#createCore(store, this.#resolvedSessionId(store));
    // The tools as the first turn will see them: bad or duplicate names and unusable schemas fail here.
    await ToolSurface.build({ nativeTools: [], providers: core.environment.toolProviders });
    if (this.#initialState) {
      const state = this.#validatedInitialState();
      if (store) {
        const existing = await loadSessionForRuntime(core);
        if (existing) {
          throw new LashError(
            "invalid_configuration",
            `the store already holds session \`${existing.sessionId}\` (head revision ${existing.headRevision}): withInitialState only seeds a new session`,
          );
        }
      }
      core.applyPersisted(state, { uncommitted: store !== undefined });
    } else {
      const read = await loadSessionForRuntime(core);
      if (read) applyLoadedSession(core, read);
    }
    return this.#create(core);
  }

  /**
   * The session id: the builder's, else the store's binding, else the initial state's, else a fresh
   * one. A builder id that disagrees with the store's binding is a configuration error now, not a
   * failed commit at the end of the first turn.
   */
  #resolvedSessionId(store: SessionStore | undefined): string | undefined {
    const bound = store?.sessionId;
    if (this.#sessionId !== undefined && bound !== undefined && bound !== this.#sessionId) {
      throw new LashError(
        "invalid_configuration",
        `withSessionId("${this.#sessionId}") disagrees with the store, which is bound to session \`${bound}\`: leave withSessionId out (the store's session is used) or open the store for that session`,
      );
    }
    return this.#sessionId ?? bound ?? this.#initialState?.sessionId;
  }

  #validatedInitialState(): PersistedSessionState {
    const parsed = persistedSessionStateSchema.safeParse(this.#initialState);
    if (!parsed.success) throw configurationError("initial state", parsed.error);
    return parsed.data;
  }

  #createCore(store: SessionStore | undefined, sessionId: string | undefined): SessionCore {
    const provider = this.#provider ?? this.#environment?.defaultProvider;
    if (provider === undefined) {
      throw new LashError(
        "invalid_configuration",
        "no model provider: pass one with withProvider(provider) (an adapter such as createOpenAIChatProvider, or a ScriptedProvider offline)",
      );
    }
    return assembleSessionCore({
      sessionId,
      policy: this.#policy,
      provider,
      environment: this.#sessionEnvironment(),
      store,
      turnInjection: this.#turnInjection,
      inputInjection: this.#inputInjection,
    });
  }

  #sessionEnvironment(): SessionEnvironment {
    const shared = this.#environment;
    const modes = new Map<string, ExecutionMode>(shared?.modes ?? [["standard", createStandardMode()]]);
    for (const mode of this.modes) modes.set(mode.id, mode);
    // Runtimes of one environment share its plugin host unless this builder adds plugins.
    const plugins =
      shared && this.plugins.length === 0 ? shared.pluginHost : new PluginHost([...(shared?.pluginHost.plugins ?? []), ...this.plugins]);
    return {
      // A durable store's attachments replace the in-memory default, so images survive a restart.
      core: this.core.build(this.#store?.attachments ?? this.#storeFactory?.attachments ?? shared?.sessionStoreFactory?.attachments),
      toolProviders: [...(shared?.toolProviders ?? []), ...this.toolProviders],
      plugins,
      modes,
      sessionStoreFactory: this.#storeFactory ?? shared?.sessionStoreFactory,
      residency: this.#residency ?? shared?.residency ?? "keep_all",
      backgroundTaskHost: this.backgroundTaskHost ?? shared?.backgroundTaskHost,
    };
  }
}
