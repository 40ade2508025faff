import { randomUUID } from "node:crypto";
import type { RuntimeEnvironment } from "@lash/core";
import { LashRuntime } from "@lash/core";
import type { ApprovalHandler, TerminationPolicy, ToolDefinition } from "@lash/protocol";
import { InvalidPersistedDataError } from "@lash/protocol";
import { createRlmMode, type RlmMode } from "@lash/rlm";
import { usageError } from "../cli-error.js";
import type { EffectiveConfig } from "../config/effective-config.js";
import { sharedMcpToolProvider } from "../config/mcp-servers.js";
import type { ConfiguredProvider } from "../providers/create-provider.js";
import type { CliStore } from "../store/open-store.js";

/** The execution modes `--mode` offers. */
export const EXECUTION_MODES = ["standard", "rlm"] as const;
export type ExecutionModeName = (typeof EXECUTION_MODES)[number];

let rlmMode: RlmMode | undefined;

/**
 * The process's RLM mode (one per process, so its sandboxes are shared by the sessions it opens).
 * In a terminal a reply without a code cell is an answer (`prose_or_submit`): a question that needs
 * no code gets a plain reply. QuickJS is loaded only when a cell first runs.
 */
export function cliRlmMode(): RlmMode {
  rlmMode ??= createRlmMode({ termination: { kind: "prose_or_submit" } });
  return rlmMode;
}

/** The execution mode a stored session last ran in (`standard` when the store does not say). */
async function storedExecutionMode(store: CliStore, sessionId: string): Promise<string> {
  const read = await store.openSession(sessionId).loadSession({ type: "active_path" });
  return read?.config.executionMode ?? "standard";
}

/** The guidance every session of the command gets, before the user's own system prompt. */
const CLI_GUIDANCE =
  "You run in a terminal, in the user's working directory. Use the tools to look at files before answering questions about them. Keep answers short and plain.";

/** The termination policy of the configured limits. */
export function terminationFor(config: EffectiveConfig): TerminationPolicy {
  return {
    treatMissingDoneAsFailure: true,
    maxModelCalls: config.maxModelCalls.value,
    ...(config.maxTokens.value === undefined ? {} : { maxTotalTokens: config.maxTokens.value }),
    ...(config.timeoutSeconds.value === undefined ? {} : { maxWallTimeMs: Math.round(config.timeoutSeconds.value * 1000) }),
  };
}

/** A short title from a prompt: its first line, cut to 60 characters. */
export function titleFrom(prompt: string): string {
  const line = prompt.trim().split("\n")[0]?.trim() ?? "";
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/**
 * Fails with a usage error (exit 2) when the store has no session `sessionId`. A damaged session
 * (its meta or its head cannot be read) fails with the store's `InvalidPersistedDataError`, unless
 * `allowDamaged`: a command that only deletes it needs nothing of what cannot be read.
 */
export async function requireSession(store: CliStore, sessionId: string, options: { readonly allowDamaged?: boolean } = {}): Promise<void> {
  const session = store.openSession(sessionId);
  try {
    const meta = await session.loadSessionMeta();
    if (meta !== undefined) return;
    const head = await session.loadSession({ type: "active_path" });
    if (head !== undefined) return;
  } catch (error) {
    // Stored data that cannot be read is a session all the same.
    if (options.allowDamaged === true && InvalidPersistedDataError.isInstance(error)) return;
    throw error;
  }
  throw usageError(`no session ${sessionId} in ${store.description}`, "`lash sessions list` shows the sessions");
}

/**
 * Builds the runtime of one session: an existing one (loaded from the store) or a new one, whose
 * meta (title, model, working directory) is written before its first turn. A process that ends
 * between that write and the turn's first commit (killed, or a commit that failed) leaves an empty
 * session (a meta, head revision 0): `lash sessions list` hides those unless `--all`.
 */
export async function openSessionRuntime(options: {
  readonly store: CliStore;
  readonly config: EffectiveConfig;
  readonly provider: ConfiguredProvider;
  readonly tools: readonly ToolDefinition<unknown>[];
  readonly cwd: string;
  /** Continue this session; a new session when absent. */
  readonly sessionId?: string | undefined;
  /** The title of a new session. */
  readonly title?: string;
  /** Shared services (a background task host, more tools) the runtime starts from. */
  readonly environment?: RuntimeEnvironment;
  /** Decides the calls that need approval (writes, shell commands); child sessions share it. */
  readonly approve?: ApprovalHandler;
  /** The execution mode (`--mode`); absent: a continued session keeps its own, a new one is `standard`. */
  readonly mode?: ExecutionModeName | undefined;
}): Promise<{ runtime: LashRuntime; sessionId: string; created: boolean }> {
  const { store, config, provider } = options;
  const created = options.sessionId === undefined;
  const sessionId = options.sessionId ?? randomUUID();
  if (!created) await requireSession(store, sessionId);
  const executionMode = options.mode ?? (created ? "standard" : await storedExecutionMode(store, sessionId));
  const sessionStore = store.openSession(sessionId);
  let builder = LashRuntime.builder();
  if (options.environment !== undefined) builder = builder.withEnvironment(options.environment);
  builder = builder
    .withSessionId(sessionId)
    .withPolicy({
      model: provider.model,
      providerId: provider.provider.providerId,
      maxContextTokens: config.maxContextTokens.value,
      executionMode,
    })
    .withMode(cliRlmMode())
    .withProvider(provider.provider)
    .withTools(options.tools)
    .withTermination(terminationFor(config))
    .withPromptContribution({ slot: "guidance", content: CLI_GUIDANCE })
    .withStore(sessionStore)
    .withSessionStoreFactory(store.factory);
  if (options.approve !== undefined) builder = builder.withApprovals({ approve: options.approve });
  // The configured MCP servers' tools: one provider per process, shared by its sessions.
  const mcpTools = sharedMcpToolProvider(config.mcpServers.value, { attachments: store.attachments });
  if (mcpTools !== undefined) builder = builder.withToolProvider(mcpTools);
  if (config.systemPrompt.value !== undefined)
    builder = builder.withPromptContribution({ slot: "project_instructions", content: config.systemPrompt.value });
  const runtime = await builder.build();
  if (created) {
    await sessionStore.saveSessionMeta({
      sessionId,
      sessionName: options.title === undefined || options.title === "" ? sessionId : options.title,
      createdAt: new Date().toISOString(),
      model: provider.model,
      cwd: options.cwd,
      relation: { type: "root" },
    });
  }
  return { runtime, sessionId, created };
}
