import type { BackgroundTaskHost, ToolDefinition, ToolProvider } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import type { LashPlugin } from "../plugins/plugin.js";
import { createToolProvider } from "../tools/tool-surface.js";
import { checkBackgroundTaskHost } from "./background-task-access.js";
import { RuntimeCoreSetters } from "./runtime-core-draft.js";

/**
 * The setters of what a session is assembled from (tools, plugins, modes, the background task host),
 * shared by both builders so they cannot drift apart. On an `EmbeddedRuntimeBuilder` built from an
 * environment, these come on top of the environment's (the task host replaces it).
 */
export abstract class RuntimePartsSetters extends RuntimeCoreSetters {
  protected readonly toolProviders: ToolProvider[] = [];
  protected readonly plugins: LashPlugin[] = [];
  protected readonly modes: ExecutionMode[] = [];
  protected backgroundTaskHost: BackgroundTaskHost | undefined;

  /** Adds tools (as one provider). */
  withTools(tools: readonly ToolDefinition<unknown>[]): this {
    this.toolProviders.push(createToolProvider(tools));
    return this;
  }

  withToolProvider(provider: ToolProvider): this {
    this.toolProviders.push(provider);
    return this;
  }

  withPlugin(plugin: LashPlugin): this {
    this.plugins.push(plugin);
    return this;
  }

  withPlugins(plugins: readonly LashPlugin[]): this {
    this.plugins.push(...plugins);
    return this;
  }

  /** Registers an execution mode (selected by `policy.executionMode`; `standard` is built in). */
  withMode(mode: ExecutionMode): this {
    this.modes.push(mode);
    return this;
  }

  /**
   * The host that runs and tracks background tasks (subagents, monitors) for the runtimes built here
   * and their child sessions: `runtime.backgroundTasks()` reaches it, closing a child session applies
   * its tasks' close policies, and the subagent tools need it.
   */
  withBackgroundTaskHost(host: BackgroundTaskHost): this {
    this.backgroundTaskHost = checkBackgroundTaskHost(host);
    return this;
  }
}
