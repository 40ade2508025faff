import type { ModelProvider, PersistedSessionRead, PersistedSessionState, SessionStore, SessionStoreFactory } from "@lash/protocol";
import { LashError, persistedSessionStateSchema } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import { createStandardMode } from "../modes/standard-mode.js";
import { PluginHost } from "../plugins/plugin-host.js";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { type Residency, validateResidency } from "./residency.js";
import type { RuntimeCoreConfig } from "./runtime-core-config.js";
import { configurationError } from "./runtime-core-draft.js";
import type { RuntimeEnvironment } from "./runtime-environment.js";
import { RuntimePartsSetters } from "./runtime-parts-setters.js";
import { assembleSessionCore, type SessionPolicyInput, unconfiguredProvider } from "./session-assembly.js";
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
 * Builds an embedded `LashRuntime`. Every setter returns the builder. `build()` loads the session
 * from the store when one is set; `buildEphemeral()` builds a runtime that keeps everything in
 * memory. `withEnvironment` starts from a shared `RuntimeEnvironment`; setters called after it
 * change only this runtime.
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

  withSessionId(sessionId: string): this {
    this.#sessionId = sessionId;
    return this;
  }

  /** Session policy: `model`, `maxContextTokens` (required), `modelVariant`, `executionMode`, `prompt`. */
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
      const state = this.#validatedInitialState();
      if (this.#store) {
        const existing = await loadSessionForRuntime(core);
        if (existing) {
          throw new LashError(
            "invalid_configuration",
            `the store already holds session \`${existing.sessionId}\` (head revision ${existing.headRevision}): withInitialState only seeds a new session`,
          );
        }
      }
      core.applyPersisted(state, { uncommitted: this.#store !== undefined });
    } else {
      const read = await loadSessionForRuntime(core);
      if (read) applyLoadedSession(core, read);
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
    return assembleSessionCore({
      sessionId: this.#sessionId ?? this.#initialState?.sessionId,
      policy: this.#policy,
      provider: this.#provider ?? this.#environment?.defaultProvider ?? unconfiguredProvider,
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
      core: this.core.build(),
      toolProviders: [...(shared?.toolProviders ?? []), ...this.toolProviders],
      plugins,
      modes,
      sessionStoreFactory: this.#storeFactory ?? shared?.sessionStoreFactory,
      residency: this.#residency ?? shared?.residency ?? "keep_all",
      backgroundTaskHost: this.backgroundTaskHost ?? shared?.backgroundTaskHost,
    };
  }
}
