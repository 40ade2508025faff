import type {
  BackgroundTaskHost,
  FirstTurnInput,
  JsonValue,
  ModelProvider,
  ModeTurnOptions,
  PersistedSessionConfig,
  PersistedSessionRead,
  PersistedSessionState,
  PromptUsage,
  SessionAccess,
  SessionCheckpoint,
  SessionCommit,
  SessionCommitDurability,
  SessionCommitResult,
  SessionEvent,
  SessionNodeRecord,
  SessionPolicy,
  SessionReadScope,
  SessionStateEnvelope,
  SessionStore,
  SessionStoreFactory,
  SuspendedTurn,
  TokenLedgerEntry,
  TokenUsage,
  ToolProvider,
} from "@lash/protocol";
import {
  CommitIdConflictError,
  emptyTokenUsage,
  HeadRevisionConflictError,
  InvalidPersistedDataError,
  isEmptyTokenUsage,
  LashError,
  mergeTokenLedger,
  PERSISTED_SESSION_SCHEMA_VERSION,
  RuntimeError,
  SessionBindingMismatchError,
  sameLedgerKey,
  subtractTokenUsage,
} from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import type { PluginHost } from "../plugins/plugin-host.js";
import { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { type GraphCommitMark, SessionGraphEditor } from "../session/session-graph.js";
import type { TurnTracer } from "../tracing/turn-tracer.js";
import type { SessionBackgroundTasks } from "./background-session-tasks.js";
import type { Residency } from "./residency.js";
import type { RuntimeCoreConfig } from "./runtime-core-config.js";

/** What a runtime shares with the child sessions it creates. */
export interface SessionEnvironment {
  readonly core: RuntimeCoreConfig;
  readonly toolProviders: readonly ToolProvider[];
  readonly plugins: PluginHost;
  readonly modes: ReadonlyMap<string, ExecutionMode>;
  readonly sessionStoreFactory: SessionStoreFactory | undefined;
  readonly residency: Residency;
  /** Runs and tracks background tasks (subagents, monitors); `undefined` when the host configured none. */
  readonly backgroundTaskHost: BackgroundTaskHost | undefined;
}

/** A commit that was sent, with what it covered (so a resend can be settled exactly). */
interface CommitAttempt {
  readonly commit: SessionCommit;
  readonly graph: SessionGraphEditor;
  readonly mark: GraphCommitMark;
  readonly usage: readonly TokenLedgerEntry[];
}

/**
 * True for store failures that, by the store contract, wrote nothing: conflicts, bad input, and
 * `store_commit_failed` (the store refused the commit and rolled it back, e.g. a commit hook failed).
 */
function nothingWritten(error: unknown): boolean {
  if (
    HeadRevisionConflictError.isInstance(error) ||
    CommitIdConflictError.isInstance(error) ||
    SessionBindingMismatchError.isInstance(error)
  )
    return true;
  return (
    LashError.isInstance(error) &&
    (error.code === "invalid_argument" || error.code === "invalid_persisted_data" || error.code === "store_commit_failed")
  );
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
 * What a session needs of the manager of its child sessions. `SessionManager` implements it; the
 * interface lives here so that the session and its manager do not import each other.
 */
export interface ChildSessionRegistry extends SessionAccess {
  readonly sessionIds: string[];
  child(sessionId: string): SessionCore | undefined;
  successorOf(sessionId: string): string | undefined;
  readonly backgroundTasks: SessionBackgroundTasks | undefined;
  detach(sessionId: string): { core: SessionCore; firstTurnInput: FirstTurnInput | undefined } | undefined;
  takeFirstTurnInput(sessionId: string): FirstTurnInput | undefined;
  drainSharedLedger(): TokenLedgerEntry[];
  readonly undrainedUsage: readonly TokenLedgerEntry[];
  setLiveRelay(relay: ((event: SessionEvent) => void | Promise<void>) | undefined): void;
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
  /**
   * The turn that waits for approval decisions, if one does. Every checkpoint carries it, so it
   * survives a reload, `park` and another process; it is cleared once the resumed turn has the
   * results of its batch.
   */
  suspendedTurn: SuspendedTurn | undefined;
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
  /** The running turn's tracer (when a trace sink is configured): commits are traced through it. */
  turnTracer: TurnTracer | undefined;
  #commitChain: Promise<void> = Promise.resolve();
  /**
   * A commit whose outcome is unknown (the store failed without saying nothing was written). It is
   * re-sent verbatim before anything else touches the store: the store answers a replay when it had
   * applied it, so its usage is never counted twice.
   */
  #unsettled: CommitAttempt | undefined;
  /** Uncommitted node ids already checked against the store (partial graphs only). */
  #checkedNodeIds = new Set<string>();
  /**
   * What the store's head holds of this core's state besides nodes and usage, as last committed or
   * loaded: the config, checkpoint and leaf objects themselves (`committedAll` compares them part
   * by part; kept as references, so a commit costs no copy for it).
   */
  #stored:
    | {
        readonly config: PersistedSessionConfig;
        readonly checkpoint: SessionCheckpoint | undefined;
        readonly leafNodeId: string | undefined;
      }
    | undefined;
  /** Set by `createSessionCore` right after construction (a `SessionManager`). */
  sessions!: ChildSessionRegistry;
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

  /** The residency in effect: `active_path_only` needs a store (a child without one keeps all). */
  get residency(): Residency {
    return this.environment.residency === "active_path_only" && this.store ? "active_path_only" : "keep_all";
  }

  /** How this session is loaded from its store: never a full load under `active_path_only`. */
  get loadScope(): SessionReadScope {
    return this.residency === "active_path_only" ? { type: "active_path" } : { type: "full_graph" };
  }

  /** The execution mode the policy selects (unknown modes are a configuration error). */
  mode(): ExecutionMode {
    const mode = this.environment.modes.get(this.policy.executionMode);
    if (!mode) {
      const known = [...this.environment.modes.keys()].join(", ");
      throw new RuntimeError(
        "invalid_configuration",
        `execution mode \`${this.policy.executionMode}\` is not registered (registered: ${known})`,
      );
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

  /**
   * Replaces the session's contents with a persisted snapshot (the policy's session id is kept).
   * `uncommitted`: the snapshot is not in the store yet, so the next commit appends all of it.
   */
  applyPersisted(state: PersistedSessionState, options: { readonly uncommitted?: boolean } = {}): void {
    const uncommitted = options.uncommitted ?? false;
    this.graph = SessionGraphEditor.from(state.sessionGraph, { uncommitted });
    this.graph.healOrphanedLeaf();
    this.turnIndex = state.turnIndex;
    this.tokenUsage = state.tokenUsage;
    this.lastPromptUsage = state.lastPromptUsage;
    this.modeTurnOptions = state.modeTurnOptions;
    // A persisted snapshot (a seed, a fork) never brings a suspended turn: its tools would run in
    // a session whose store never held the decision.
    this.suspendedTurn = undefined;
    // A seed that is not in the store yet brings its ledger as usage the first commit records.
    this.tokenLedger = uncommitted ? [] : mergeTokenLedger([], state.tokenLedger);
    this.pendingUsage = uncommitted ? mergeTokenLedger(this.pendingUsage, state.tokenLedger) : this.pendingUsage;
    this.executionState = state.executionState;
    this.pluginSnapshots = state.pluginSnapshots;
  }

  /**
   * Adopts what a store returned (graph, counters, ledger, head revision). Under `active_path_only`
   * the graph is the active path, and a leaf missing from it is an error (healing it would move the
   * stored leaf to an arbitrary node).
   */
  applyRead(read: PersistedSessionRead): void {
    const partial = this.residency === "active_path_only";
    const leaf = read.graph.leafNodeId;
    if (partial && leaf !== undefined && !read.graph.nodes.some((node) => node.nodeId === leaf)) {
      throw new InvalidPersistedDataError(
        read.sessionId,
        "graph.leafNodeId",
        `the active leaf \`${leaf}\` is not in the loaded active path`,
      );
    }
    this.graph = SessionGraphEditor.from(read.graph, { partial });
    if (!partial) this.graph.healOrphanedLeaf();
    this.headRevision = read.headRevision;
    this.#stored = { config: read.config, checkpoint: read.checkpoint, leafNodeId: read.graph.leafNodeId };
    this.tokenLedger = mergeTokenLedger([], read.tokenLedger);
    const checkpoint = read.checkpoint;
    if (checkpoint) {
      this.turnIndex = checkpoint.turnState.turnIndex;
      this.tokenUsage = checkpoint.turnState.tokenUsage;
      this.lastPromptUsage = checkpoint.turnState.lastPromptUsage;
      this.modeTurnOptions = checkpoint.turnState.modeTurnOptions;
      this.suspendedTurn = checkpoint.turnState.suspendedTurn;
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
    if (this.suspendedTurn) turnState.suspendedTurn = this.suspendedTurn;
    const checkpoint: SessionCheckpoint = { schemaVersion: 1, turnState };
    if (this.executionState !== undefined) checkpoint.executionState = this.executionState;
    if (this.pluginSnapshots !== undefined) checkpoint.pluginSnapshots = this.pluginSnapshots;
    return checkpoint;
  }

  /**
   * Commits everything pending (graph delta, checkpoint, uncommitted usage plus `usageDeltas`).
   * Without a store the usage goes straight to the in-memory ledger. On failure nothing pending is
   * dropped: the next commit carries it. `durability` (ADR 0030): `"checkpoint"` for a turn's
   * prepared and progress commits, which only need to survive a killed process because the turn's
   * last commit follows; `"turn"` (the default) for everything that must survive a power loss.
   */
  async commit(
    commitId: string,
    usageDeltas: readonly TokenLedgerEntry[] = [],
    durability: SessionCommitDurability = "turn",
  ): Promise<void> {
    if (usageDeltas.length > 0) this.pendingUsage = mergeTokenLedger(this.pendingUsage, this.#dated(usageDeltas));
    const tracer = this.turnTracer;
    if (tracer) return tracer.commit(commitId, () => this.exclusive(() => this.#commitNow(commitId, durability)));
    return this.exclusive(() => this.#commitNow(commitId, durability));
  }

  /**
   * Usage stamped with the price table date the host configured (`withPriceTableDate`), unless it
   * already carries one (a child's usage recorded under its own runtime's date).
   */
  #dated(usage: readonly TokenLedgerEntry[]): readonly TokenLedgerEntry[] {
    const date = this.environment.core.priceTableDate;
    if (date === undefined) return usage;
    return usage.map((entry) => (entry.priceTableDate === undefined ? { ...entry, priceTableDate: date } : entry));
  }

  /**
   * Runs `work` when no commit of this session is in flight, after settling a commit whose outcome
   * was unknown. Commits of one session run one at a time (a turn's and a child's usage may race):
   * each one names the head revision the previous one produced.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const current = this.#commitChain.then(async () => {
      await this.#settle();
      return work();
    });
    this.#commitChain = current.then(
      () => undefined,
      () => undefined,
    );
    return current;
  }

  async #commitNow(commitId: string, durability: SessionCommitDurability): Promise<void> {
    const store = this.store;
    if (!store) {
      const mark = this.graph.commitMark;
      this.tokenLedger = mergeTokenLedger(this.tokenLedger, this.pendingUsage);
      this.pendingUsage = [];
      this.graph.markCommitted(mark);
      return;
    }
    if (this.graph.isPartial) {
      // Most commits have nothing to look up: they await nothing here.
      const unchecked = this.#uncheckedNodes();
      if (unchecked.length > 0) await this.#avoidStoredNodeIds(unchecked);
    }
    const graph = this.graph;
    const mark = graph.commitMark;
    const delta = graph.pendingDelta();
    if (delta.type === "replace_full" && this.residency === "active_path_only") {
      // Unreachable by construction (a partial editor never yields one); kept as the last guard
      // against deleting off-path nodes from the store.
      throw new RuntimeError(
        "store_commit_failed",
        `refusing a replace_full commit of session \`${this.sessionId}\` under active_path_only residency`,
      );
    }
    const commit: SessionCommit = {
      sessionId: this.sessionId,
      expectedHeadRevision: this.headRevision,
      commitId,
      config: this.persistedConfig(),
      graph: delta,
      checkpoint: this.checkpoint(),
      usageDeltas: this.pendingUsage,
    };
    // Absent means "turn": stores written before durability levels existed see the commits they know.
    if (durability === "checkpoint") commit.durability = durability;
    await this.#send({ commit, graph, mark, usage: this.pendingUsage });
  }

  async #send(attempt: CommitAttempt): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.#unsettled = attempt;
    let result: SessionCommitResult;
    try {
      result = await store.commit(attempt.commit);
    } catch (error) {
      if (nothingWritten(error)) this.#unsettled = undefined;
      throw error;
    }
    this.#unsettled = undefined;
    this.#applyResult(attempt, result);
  }

  /** Re-sends the commit whose outcome is unknown; a store that had applied it answers a replay. */
  async #settle(): Promise<void> {
    const attempt = this.#unsettled;
    if (!attempt) return;
    try {
      await this.#send(attempt);
    } catch (error) {
      // Nothing was written: what the commit carried is still pending and goes with the next one.
      if (!nothingWritten(error)) throw error;
    }
  }

  #applyResult(attempt: CommitAttempt, result: SessionCommitResult): void {
    this.headRevision = result.headRevision;
    const commit = attempt.commit;
    const delta = commit.graph;
    const leafNodeId = delta.type === "replace_full" ? delta.graph.leafNodeId : delta.leafNodeId;
    this.#stored = { config: commit.config, checkpoint: commit.checkpoint, leafNodeId };
    this.tokenLedger = mergeTokenLedger(this.tokenLedger, attempt.usage);
    // Usage recorded while the commit was in flight stays pending for the next one.
    this.pendingUsage = this.pendingUsage === attempt.usage ? [] : subtractLedger(this.pendingUsage, attempt.usage);
    attempt.graph.markCommitted(attempt.mark);
    this.#checkedNodeIds.clear();
    if (this.residency === "active_path_only" && attempt.graph === this.graph) this.graph.trimToActivePath();
  }

  /**
   * A partial graph cannot see the store's off-path nodes, so an id it picks (a reused tool call id,
   * a replayed message id) may already be taken there; such nodes get a fresh id before the append.
   * Tombstoned ids are invisible to `loadNode` and cannot be checked this way. A node whose id
   * the graph drew at random for it (`hasFreshId`) is taken nowhere and is not looked up.
   */
  async #avoidStoredNodeIds(firstUnchecked: readonly SessionNodeRecord[]): Promise<void> {
    const store = this.store;
    if (!store) return;
    for (let unchecked = firstUnchecked; unchecked.length > 0; unchecked = this.#uncheckedNodes()) {
      for (const node of unchecked) {
        const stored = await store.loadNode(node.nodeId);
        this.#checkedNodeIds.add(stored ? this.graph.renameUncommittedNode(node.nodeId) : node.nodeId);
      }
    }
  }

  /** The uncommitted nodes whose ids may be taken in the store off the path (see `#avoidStoredNodeIds`). */
  #uncheckedNodes(): SessionNodeRecord[] {
    const graph = this.graph;
    const unchecked: SessionNodeRecord[] = [];
    for (const node of graph.uncommittedNodes) if (!this.#checkedNodeIds.has(node.nodeId) && !graph.hasFreshId(node)) unchecked.push(node);
    return unchecked;
  }

  /**
   * True when a commit now would store nothing the store's head does not hold already: no graph
   * change (nodes or leaf), no usage, no commit of unknown outcome, and the config and checkpoint
   * as last committed or loaded. Parking such a core needs no commit.
   */
  get committedAll(): boolean {
    const stored = this.#stored;
    if (this.#unsettled !== undefined || this.pendingUsage.length > 0 || stored === undefined) return false;
    if (this.graph.pendingDelta().type !== "unchanged") return false;
    return sameStoredState(
      storedStateParts(stored.config, stored.checkpoint, stored.leafNodeId),
      storedStateParts(this.persistedConfig(), this.checkpoint(), this.graph.leafNodeId),
    );
  }

  /**
   * Adopts the store's head when another writer moved it (loading with the residency's scope). Runs
   * between commits, so a commit in flight is never mistaken for another writer. Store errors are
   * the caller's to handle.
   */
  refreshFromStore(): Promise<boolean> {
    const store = this.store;
    if (!store) return Promise.resolve(false);
    return this.exclusive(async () => {
      if (store.loadHeadRevision) {
        const revision = await store.loadHeadRevision();
        if (revision === this.headRevision) return false;
      }
      const read = await store.loadSession(this.loadScope);
      if (!read || read.headRevision === this.headRevision) return false;
      this.applyRead(read);
      return true;
    });
  }
}

/** The fields of the config, the checkpoint and its turn state, but the turn state object itself (made anew by every `checkpoint()`). */
type StoredStateField = Exclude<keyof PersistedSessionConfig | keyof SessionCheckpoint | keyof SessionCheckpoint["turnState"], "turnState">;

/**
 * The state a commit stores besides the graph's nodes and the usage, field by field (the type makes
 * a field added to the config or the checkpoint fail to build until it is here): the config's and
 * the counters' values, and the objects of the checkpoint as they are. The core never changes those
 * objects in place (a new usage total, plugin snapshot or suspended turn is a new object), so the
 * same object is the same content, and comparing costs no copy and no serialization.
 */
function storedStateParts(
  config: PersistedSessionConfig,
  checkpoint: SessionCheckpoint | undefined,
  leafNodeId: string | undefined,
): { readonly [Field in StoredStateField | "leafNodeId"]: unknown } {
  const turnState = checkpoint?.turnState;
  return {
    providerId: config.providerId,
    model: config.model,
    contextWindow: config.contextWindow,
    executionMode: config.executionMode,
    modelVariant: config.modelVariant,
    schemaVersion: checkpoint?.schemaVersion,
    turnIndex: turnState?.turnIndex,
    tokenUsage: turnState?.tokenUsage,
    lastPromptUsage: turnState?.lastPromptUsage,
    modeTurnOptions: turnState?.modeTurnOptions,
    suspendedTurn: turnState?.suspendedTurn,
    executionState: checkpoint?.executionState,
    pluginSnapshots: checkpoint?.pluginSnapshots,
    leafNodeId,
  };
}

function sameStoredState(left: ReturnType<typeof storedStateParts>, right: ReturnType<typeof storedStateParts>): boolean {
  for (const field of Object.keys(left) as (keyof typeof left)[]) if (left[field] !== right[field]) return false;
  return true;
}

/** `ledger` minus `sent`, per (source, model); entries that reach zero are dropped. */
function subtractLedger(ledger: readonly TokenLedgerEntry[], sent: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  const remaining: TokenLedgerEntry[] = [];
  for (const entry of ledger) {
    const match = sent.find((candidate) => sameLedgerKey(candidate, entry));
    const usage = match ? subtractTokenUsage(entry.usage, match.usage) : entry.usage;
    if (!isEmptyTokenUsage(usage)) remaining.push({ ...entry, usage });
  }
  return remaining;
}
