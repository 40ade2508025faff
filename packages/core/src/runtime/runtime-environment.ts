import type { BackgroundTaskHost, ModelProvider, SessionStoreFactory, ToolProvider } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import { createStandardMode } from "../modes/standard-mode.js";
import { PluginHost } from "../plugins/plugin-host.js";
import type { BackgroundRuntimeHost } from "./background-task-access.js";
import { type Residency, validateResidency } from "./residency.js";
import type { RuntimeCoreConfig } from "./runtime-core-config.js";
import { RuntimePartsSetters } from "./runtime-parts-setters.js";
import { checkProvider } from "./session-assembly.js";

/** The parts of a `RuntimeEnvironment` (what its builder assembles). */
interface RuntimeEnvironmentParts {
  readonly core: RuntimeCoreConfig;
  readonly residency: Residency;
  readonly sessionStoreFactory: SessionStoreFactory | undefined;
  readonly pluginHost: PluginHost;
  readonly providers: readonly ModelProvider[];
  readonly toolProviders: readonly ToolProvider[];
  readonly modes: ReadonlyMap<string, ExecutionMode>;
  readonly backgroundTaskHost: BackgroundTaskHost | undefined;
}

/**
 * What many runtimes share, built once by a host: the core configuration, the plugins, the
 * residency, the store factory for child sessions, and (because a persisted `SessionPolicy` names
 * its provider only by id) the model providers, tools and modes a runtime needs to be rebuilt by
 * `LashRuntime.resume`. The core configuration lives only in `core`: the environment never mirrors
 * its fields.
 */
export class RuntimeEnvironment {
  readonly core: RuntimeCoreConfig;
  readonly residency: Residency;
  /** Opens the stores of child sessions and handoff successors. */
  readonly sessionStoreFactory: SessionStoreFactory | undefined;
  readonly pluginHost: PluginHost;
  /** Registered providers, one per `providerId`; the first is the default. */
  readonly providers: readonly ModelProvider[];
  readonly toolProviders: readonly ToolProvider[];
  /** Execution modes by id (`standard` is always there). */
  readonly modes: ReadonlyMap<string, ExecutionMode>;
  /** Runs and tracks the background tasks (subagents, monitors) of every runtime of this environment. */
  readonly backgroundTaskHost: BackgroundTaskHost | undefined;

  /** @internal Use `RuntimeEnvironment.builder()`. */
  constructor(parts: RuntimeEnvironmentParts) {
    this.core = parts.core;
    this.residency = parts.residency;
    this.sessionStoreFactory = parts.sessionStoreFactory;
    this.pluginHost = parts.pluginHost;
    this.providers = parts.providers;
    this.toolProviders = parts.toolProviders;
    this.modes = parts.modes;
    this.backgroundTaskHost = parts.backgroundTaskHost;
    Object.freeze(this);
  }

  static builder(): RuntimeEnvironmentBuilder {
    return new RuntimeEnvironmentBuilder();
  }

  /** The provider runtimes use when they name none (the first registered). */
  get defaultProvider(): ModelProvider | undefined {
    return this.providers[0];
  }

  /** The registered provider with this id. */
  providerFor(providerId: string): ModelProvider | undefined {
    return this.providers.find((provider) => provider.providerId === providerId);
  }
}

/**
 * Builds a `RuntimeEnvironment`. Every setter returns the builder. `withRuntimeCoreConfig` replaces
 * the whole core configuration; per-field setters called after it still apply.
 */
export class RuntimeEnvironmentBuilder extends RuntimePartsSetters {
  #residency: Residency = "keep_all";
  #sessionStoreFactory: SessionStoreFactory | undefined;
  #pluginHost: PluginHost | undefined;
  readonly #providers: ModelProvider[] = [];

  /** The core configuration and store factory of `host.embedded`, and its background task host. */
  withBackgroundRuntimeHost(host: BackgroundRuntimeHost): this {
    this.withRuntimeCoreConfig(host.embedded.core);
    if (host.embedded.sessionStoreFactory !== undefined) this.withSessionStoreFactory(host.embedded.sessionStoreFactory);
    return this.withBackgroundTaskHost(host.backgroundTaskHost);
  }

  withResidency(residency: Residency): this {
    this.#residency = validateResidency(residency);
    return this;
  }

  /** Opens stores for the child sessions and handoff successors of every runtime. */
  withSessionStoreFactory(factory: SessionStoreFactory): this {
    this.#sessionStoreFactory = factory;
    return this;
  }

  /** A plugin host to share (plugins added with `withPlugin` run after its own). */
  withPluginHost(host: PluginHost): this {
    this.#pluginHost = host;
    return this;
  }

  /**
   * Registers a model provider under its `providerId` (the first one is the default). A resumed
   * session gets the provider its persisted policy names.
   */
  withProvider(provider: ModelProvider): this {
    checkProvider(provider);
    const existing = this.#providers.find((candidate) => candidate.providerId === provider.providerId);
    if (existing && existing !== provider) {
      throw new LashError(
        "invalid_configuration",
        `a provider with id \`${provider.providerId}\` is already registered in this environment`,
      );
    }
    if (!existing) this.#providers.push(provider);
    return this;
  }

  build(): RuntimeEnvironment {
    const modes = new Map<string, ExecutionMode>([["standard", createStandardMode()]]);
    for (const mode of this.modes) modes.set(mode.id, mode);
    const basePlugins = this.#pluginHost?.plugins ?? [];
    const pluginHost = this.#pluginHost && this.plugins.length === 0 ? this.#pluginHost : new PluginHost([...basePlugins, ...this.plugins]);
    return new RuntimeEnvironment({
      core: this.core.build(this.#sessionStoreFactory?.attachments),
      residency: this.#residency,
      sessionStoreFactory: this.#sessionStoreFactory,
      pluginHost,
      providers: [...this.#providers],
      toolProviders: [...this.toolProviders],
      modes,
      backgroundTaskHost: this.backgroundTaskHost,
    });
  }
}
