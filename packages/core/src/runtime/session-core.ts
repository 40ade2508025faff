import type {
  FirstTurnInput,
  JsonValue,
  ModelProvider,
  ModeTurnOptions,
  PersistedSessionConfig,
  PersistedSessionRead,
  PersistedSessionState,
  PromptUsage,
  SessionCheckpoint,
  SessionPolicy,
  SessionStateEnvelope,
  SessionStore,
  SessionStoreFactory,
  TokenLedgerEntry,
  TokenUsage,
  ToolProvider,
} from "@lash/protocol";
import { emptyTokenUsage, isEmptyTokenUsage, mergeTokenLedger, PERSISTED_SESSION_SCHEMA_VERSION, RuntimeError, subtractTokenUsage } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import type { PluginHost } from "../plugins/plugin-host.js";
import { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { SessionGraphEditor } from "../session/session-graph.js";
import type { RuntimeCoreConfig } from "./runtime-core-config.js";
import type { SessionManager } from "./session-manager.js";

/** What a runtime shares with the child sessions it creates. */
export interface SessionEnvironment {
  readonly core: RuntimeCoreConfig;
  readonly toolProviders: readonly ToolProvider[];
  readonly plugins: PluginHost;
  readonly modes: ReadonlyMap<string, ExecutionMode>;
  readonly sessionStoreFactory: SessionStoreFactory | undefined;
}

/** The initial contents of a session core. */
export interface SessionCoreInit {
  readonly policy: SessionPolicy;
  readonly provider: ModelProvider;
  readonly environment: SessionEnvironment;
  readonly store?: SessionStore | undefined;
  readonly turnInjection?: TurnInjectionBridge | undefined;
  readonly inputInjection?: TurnInputInjectionBridge | undefined;
}

/**
 * The mutable state of one session: policy, graph, counters, ledger, store cursor and bridges.
 * `LashRuntime` is a thin handle over one of these (activating a child session swaps the core).
 */
export class SessionCore {
  policy: SessionPolicy;
  provider: ModelProvider;
  readonly environment: SessionEnvironment;
  graph: SessionGraphEditor = SessionGraphEditor.empty();
  turnIndex = 0;
  tokenUsage: TokenUsage = emptyTokenUsage();
  lastPromptUsage: PromptUsage | undefined;
  modeTurnOptions: ModeTurnOptions | undefined;
  tokenLedger: TokenLedgerEntry[] = [];
  /** Usage not yet committed to the store (kept across a failed commit so nothing is lost). */
  pendingUsage: TokenLedgerEntry[] = [];
  executionState: JsonValue | undefined;
  pluginSnapshots: Record<string, JsonValue> | undefined;
  store: SessionStore | undefined;
  headRevision: number | undefined;
  readonly turnInjection: TurnInjectionBridge;
  readonly inputInjection: TurnInputInjectionBridge;
  turnRunning = false;
  #commitChain: Promise<void> = Promise.resolve();
  /** Set by `createSessionCore` right after construction. */
  sessions!: SessionManager;
  /** The seed of this session's first turn when it was activated from a handoff. */
  pendingFirstTurnInput: FirstTurnInput | undefined;

  constructor(init: SessionCoreInit) {
    this.policy = init.policy;
    this.provider = init.provider;
    this.environment = init.environment;
    this.store = init.store;
    this.turnInjection = init.turnInjection ?? new TurnInjectionBridge();
    this.inputInjection = init.inputInjection ?? new TurnInputInjectionBridge();
  }

  get sessionId(): string {
    return this.policy.sessionId;
  }

  /** The execution mode the policy selects (unknown modes are a configuration error). */
  mode(): ExecutionMode {
    const mode = this.environment.modes.get(this.policy.executionMode);
    if (!mode) {
      const known = [...this.environment.modes.keys()].join(", ");
      throw new RuntimeError("invalid_configuration", `execution mode \`${this.policy.executionMode}\` is not registered (registered: ${known})`);
    }
    return mode;
  }

  exportEnvelope(graph: SessionGraphEditor = this.graph): SessionStateEnvelope {
    const envelope: SessionStateEnvelope = {
      sessionId: this.sessionId,
      policy: this.policy,
      sessionGraph: graph.toGraph(),
      turnIndex: this.turnIndex,
      tokenUsage: this.tokenUsage,
    };
    if (this.lastPromptUsage) envelope.lastPromptUsage = this.lastPromptUsage;
    if (this.modeTurnOptions) envelope.modeTurnOptions = this.modeTurnOptions;
    return envelope;
  }

  exportPersisted(): PersistedSessionState {
    const state: PersistedSessionState = {
      ...this.exportEnvelope(),
      schemaVersion: PERSISTED_SESSION_SCHEMA_VERSION,
      tokenLedger: mergeTokenLedger(this.tokenLedger, this.pendingUsage),
    };
    if (this.executionState !== undefined) state.executionState = this.executionState;
    if (this.pluginSnapshots !== undefined) state.pluginSnapshots = this.pluginSnapshots;
    return state;
  }

  /** Replaces the session's contents with a persisted snapshot (the policy's session id is kept). */
  applyPersisted(state: PersistedSessionState): void {
    this.graph = SessionGraphEditor.from(state.sessionGraph);
    this.graph.healOrphanedLeaf();
    this.turnIndex = state.turnIndex;
    this.tokenUsage = state.tokenUsage;
    this.lastPromptUsage = state.lastPromptUsage;
    this.modeTurnOptions = state.modeTurnOptions;
    this.tokenLedger = mergeTokenLedger([], state.tokenLedger);
    this.executionState = state.executionState;
    this.pluginSnapshots = state.pluginSnapshots;
  }

  /** Adopts what a store returned (graph, counters, ledger, head revision). */
  applyRead(read: PersistedSessionRead): void {
    this.graph = SessionGraphEditor.from(read.graph);
    this.graph.healOrphanedLeaf();
    this.headRevision = read.headRevision;
    this.tokenLedger = mergeTokenLedger([], read.tokenLedger);
    const checkpoint = read.checkpoint;
    if (checkpoint) {
      this.turnIndex = checkpoint.turnState.turnIndex;
      this.tokenUsage = checkpoint.turnState.tokenUsage;
      this.lastPromptUsage = checkpoint.turnState.lastPromptUsage;
      this.modeTurnOptions = checkpoint.turnState.modeTurnOptions;
      this.executionState = checkpoint.executionState;
      this.pluginSnapshots = checkpoint.pluginSnapshots;
    }
  }

  persistedConfig(): PersistedSessionConfig {
    const config: PersistedSessionConfig = {
      providerId: this.provider.providerId,
      model: this.policy.model,
      contextWindow: this.policy.maxContextTokens,
      executionMode: this.policy.executionMode,
    };
    if (this.policy.modelVariant !== undefined) config.modelVariant = this.policy.modelVariant;
    return config;
  }

  checkpoint(): SessionCheckpoint {
    const turnState: SessionCheckpoint["turnState"] = { turnIndex: this.turnIndex, tokenUsage: this.tokenUsage };
    if (this.lastPromptUsage) turnState.lastPromptUsage = this.lastPromptUsage;
    if (this.modeTurnOptions) turnState.modeTurnOptions = this.modeTurnOptions;
    const checkpoint: SessionCheckpoint = { schemaVersion: 1, turnState };
    if (this.executionState !== undefined) checkpoint.executionState = this.executionState;
    if (this.pluginSnapshots !== undefined) checkpoint.pluginSnapshots = this.pluginSnapshots;
    return checkpoint;
  }

  /**
   * Commits everything pending (graph delta, checkpoint, uncommitted usage plus `usageDeltas`).
   * Without a store the usage goes straight to the in-memory ledger. On failure nothing pending is
   * dropped: the next commit carries it.
   */
  async commit(commitId: string, usageDeltas: readonly TokenLedgerEntry[] = []): Promise<void> {
    if (usageDeltas.length > 0) this.pendingUsage = mergeTokenLedger(this.pendingUsage, usageDeltas);
    // Commits of one session run one at a time (a turn's and a child's usage may race): each one
    // names the head revision the previous one produced.
    const previous = this.#commitChain;
    const current = previous.then(() => this.#commitNow(commitId));
    this.#commitChain = current.catch(() => {});
    return current;
  }

  async #commitNow(commitId: string): Promise<void> {
    const graph = this.graph;
    const mark = graph.commitMark;
    const usage = this.pendingUsage;
    if (!this.store) {
      this.tokenLedger = mergeTokenLedger(this.tokenLedger, usage);
      this.pendingUsage = [];
      graph.markCommitted(mark);
      return;
    }
    const commit = {
      sessionId: this.sessionId,
      expectedHeadRevision: this.headRevision,
      commitId,
      config: this.persistedConfig(),
      graph: graph.pendingDelta(),
      checkpoint: this.checkpoint(),
      usageDeltas: usage,
    };
    const result = await this.store.commit(commit);
    this.headRevision = result.headRevision;
    this.tokenLedger = mergeTokenLedger(this.tokenLedger, usage);
    // Usage recorded while the commit was in flight stays pending for the next one.
    this.pendingUsage = this.pendingUsage === usage ? [] : subtractLedger(this.pendingUsage, usage);
    graph.markCommitted(mark);
  }

  /** Adopts the store's head when another writer moved it. Store errors are the caller's to handle. */
  async refreshFromStore(): Promise<boolean> {
    const store = this.store;
    if (!store) return false;
    if (store.loadHeadRevision) {
      const revision = await store.loadHeadRevision();
      if (revision === this.headRevision) return false;
    }
    const read = await store.loadSession({ type: "full_graph" });
    if (!read || read.headRevision === this.headRevision) return false;
    this.applyRead(read);
    return true;
  }
}

/** `ledger` minus `sent`, per (source, model); entries that reach zero are dropped. */
function subtractLedger(ledger: readonly TokenLedgerEntry[], sent: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  const remaining: TokenLedgerEntry[] = [];
  for (const entry of ledger) {
    const match = sent.find((candidate) => candidate.source === entry.source && candidate.model === entry.model);
    const usage = match ? subtractTokenUsage(entry.usage, match.usage) : entry.usage;
    if (!isEmptyTokenUsage(usage)) remaining.push({ ...entry, usage });
  }
  return remaining;
}
