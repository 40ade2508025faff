import type { SubagentOptions } from "@lash/background";
import type { RuntimeEnvironmentBuilder } from "@lash/core";
import type { ModelProvider, TerminationPolicy, ToolDefinition, ToolProvider } from "@lash/protocol";

/**
 * What the server does when a turn is asked for while another turn of the same session runs:
 * `reject` answers 409 `turn_in_progress` with the running turn's id; `enqueue` waits for the
 * running turn to end, then starts (at most `MAX_QUEUED_TURNS` requests wait per session);
 * `interrupt` cancels the running turn (its partial output is committed), waits for it to end,
 * then starts.
 */
export type ConcurrentTurnPolicy = "reject" | "enqueue" | "interrupt";

/** Every `ConcurrentTurnPolicy`, for configuration. */
export const CONCURRENT_TURN_POLICIES = ["reject", "enqueue", "interrupt"] as const satisfies readonly ConcurrentTurnPolicy[];

/** The name of the profile a session gets when its creation names none. */
export const DEFAULT_PROFILE_NAME = "default";

/**
 * A named agent configuration: every session is created with one, and its turns run with that
 * profile's provider, model, prompt, tools and limits. This is the server's extension point: a
 * host that embeds the server passes profiles with its own providers, tools and plugins.
 */
export interface AgentProfile {
  /** The model provider of the profile's sessions. */
  readonly provider: ModelProvider;
  /** The model (default: the provider's `defaultModel`). */
  readonly model?: string;
  /** The context window in tokens (default: the model's known window, else the runtime's default). */
  readonly maxContextTokens?: number;
  /** Instructions added to the system prompt of every turn. */
  readonly systemPrompt?: string;
  /** Tools of the profile's sessions. A tool with `needsApproval` makes a turn wait for `POST .../approvals/{id}`. */
  readonly tools?: readonly ToolDefinition<unknown>[];
  /** Tool providers (MCP servers, the workspace tools' provider, ...). */
  readonly toolProviders?: readonly ToolProvider[];
  /** Limits of every turn (default: 25 model calls, a missing answer counts as a failure). */
  readonly termination?: TerminationPolicy;
  /**
   * Subagents: the tools `spawn_agent`, `await_agent`, `cancel_agent` and `list_agents` of
   * `@lash/background`. Each subagent is a child session, stored next to its parent, whose turn runs
   * as a background task of the server's task host (`backgroundTaskHost` of the server: by default
   * the durable PostgreSQL host when the store is on PostgreSQL, otherwise an in-process host). `true`
   * takes the tools' defaults (3 levels deep, 8 live children per session). Default: none.
   */
  readonly subagents?: boolean | SubagentOptions;
  /** What a second turn on a busy session gets (default `reject`). */
  readonly concurrentTurns?: ConcurrentTurnPolicy;
  /** Anything else of the environment (plugins, a trace sink, a background task host, an approver), set on the profile's builder. */
  readonly configureEnvironment?: (builder: RuntimeEnvironmentBuilder) => RuntimeEnvironmentBuilder;
  /** Releases what the profile owns (its MCP servers' connections) when the server stops. */
  readonly close?: () => Promise<void>;
}

/** The termination policy a profile without one runs with: the command's defaults. */
export const DEFAULT_TERMINATION: TerminationPolicy = { treatMissingDoneAsFailure: true, maxModelCalls: 25 };

/** True when a profile runs subagents, which need a background task host. */
export function profilesWantTaskHost(profiles: Readonly<Record<string, AgentProfile>>): boolean {
  return Object.values(profiles).some((profile) => (profile.subagents ?? false) !== false);
}
