import { randomUUID } from "node:crypto";
import { SessionUsageReport } from "@lash/observability";
import type {
  ApprovalRequest,
  AssembledTurn,
  FirstTurnInput,
  FollowedTurn,
  Message,
  ModelProvider,
  ModeSessionExtension,
  PersistedSessionState,
  PromptLayer,
  SessionNodeRecord,
  SessionPolicy,
  SessionStateEnvelope,
  SessionStore,
  TokenLedgerEntry,
  ToolCallRecord,
  TurnActivity,
  TurnActivitySink,
  TurnInput,
  VacuumReport,
} from "@lash/protocol";
import { LashError, mergeTokenLedger, RuntimeError } from "@lash/protocol";
import { windowAfterModelChange } from "../context/context-window.js";
import { type CompactOptions, type CompactResult, compactSession } from "../context/manual-compaction.js";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { resumeSessionTurn } from "../turn/resume-turn.js";
import { runSessionTurn, type TurnRunOptions } from "../turn/run-turn.js";
import { TurnCancellation, withCancellation } from "../turn/turn-cancellation.js";
import { textInput } from "../turn/turn-input-builders.js";
import { openApprovalRequests, type ResumeTurnRequest } from "./approval-decisions.js";
import type { SessionBackgroundTasks } from "./background-session-tasks.js";
import { backgroundTasksUnavailable } from "./background-task-access.js";
import { inputFromSeed, resolveHandoffLeaf, takeFirstTurnInput } from "./handoff-routing.js";
import { type ParkedSession, parkSession, resumeSession } from "./park-resume.js";
import type { Residency } from "./residency.js";
import { EmbeddedRuntimeBuilder } from "./runtime-builder.js";
import type { RuntimeEnvironment } from "./runtime-environment.js";
import type { SessionCore } from "./session-core.js";
import * as maintenance from "./session-maintenance.js";
import type { SessionManager } from "./session-manager.js";
import { type TurnResult, TurnStream } from "./turn-stream.js";

function turnInputOf(input: TurnInput | string): TurnInput {
  return typeof input === "string" ? textInput(input) : input;
}

/** Records an activity for the turn stream, then hands it to the host's sink (whose promise the turn awaits). */
function teeActivity(recorder: TurnActivitySink, sink: TurnActivitySink, activity: TurnActivity): void | Promise<void> {
  void recorder.emit(activity);
  return sink.emit(activity);
}

/** At most this many handoff hops are followed for one host turn (a model could hand off forever). */
export const MAX_FOLLOWED_HANDOFFS = 16;

/** Changes to the session configuration (`undefined` keeps a value; `modelVariant: null` clears it). */
export interface SessionConfigUpdate {
  readonly provider?: ModelProvider;
  readonly model?: string;
  readonly modelVariant?: string | null;
  readonly maxContextTokens?: number;
  readonly prompt?: PromptLayer;
}

/** A runtime is live, parking (its park commit is in flight) or parked (its session left it). */
type RuntimeState =
  | { readonly type: "live"; readonly core: SessionCore }
  | { readonly type: "parking"; readonly core: SessionCore }
  | { readonly type: "parked"; readonly sessionId: string };

/**
 * A lash session runtime: it runs turns against a model provider, dispatches tools, streams
 * semantic events, applies the termination policy and commits each turn atomically to its store.
 * Create one with `LashRuntime.builder()`, or `LashRuntime.resume` for a parked session. One turn
 * runs at a time per session. Once parked, every method throws.
 */
export class LashRuntime {
  #state: RuntimeState;

  /** @internal Use `LashRuntime.builder()`. */
  constructor(core: SessionCore) {
    this.#state = { type: "live", core };
  }

  /** A builder for an embedded runtime. */
  static builder(): EmbeddedRuntimeBuilder<LashRuntime> {
    return new EmbeddedRuntimeBuilder((core) => new LashRuntime(core));
  }

  /**
   * Rebuilds the runtime of a parked session from `environment` (which supplies the provider the
   * parked policy names, the tools, plugins, modes and residency). Loads the full graph, or only the
   * active path under `active_path_only`; a store with no session gives a fresh session with the
   * parked policy. Load failures (a missing active leaf included) throw `session_load_failed`.
   */
  static async resume(parked: ParkedSession, environment: RuntimeEnvironment): Promise<LashRuntime> {
    return new LashRuntime(await resumeSession(parked, environment));
  }

  get #core(): SessionCore {
    const state = this.#state;
    if (state.type === "parked") {
      throw new LashError(
        "invalid_argument",
        `the runtime of session \`${state.sessionId}\` was parked: resume it with LashRuntime.resume(parked, environment)`,
      );
    }
    if (state.type === "parking") {
      throw new LashError("turn_in_progress", `the runtime of session \`${state.core.sessionId}\` is being parked`);
    }
    return state.core;
  }

  /**
   * Persists everything this runtime holds only in memory (usage not yet committed, child usage,
   * graph nodes, the checkpoint, a moved leaf) in one commit (`park:<uuid>`), or in none when the
   * store holds all of it already (right after a turn), and returns a `ParkedSession` that
   * `LashRuntime.resume` turns back into a runtime. Afterwards every method of this runtime throws.
   * Requires a store (`invalid_configuration`); refuses while a turn runs (`turn_in_progress`). When
   * the commit fails it throws `park_failed` and this runtime stays usable, nothing lost.
   */
  async park(): Promise<ParkedSession> {
    const core = this.#core;
    this.#state = { type: "parking", core };
    try {
      const parked = await parkSession(core);
      this.#state = { type: "parked", sessionId: parked.sessionId };
      return parked;
    } catch (error) {
      this.#state = { type: "live", core };
      throw error;
    }
  }

  /** The store this session commits to (`undefined` for an ephemeral runtime). */
  get store(): SessionStore | undefined {
    return this.#core.store;
  }

  /** Which graph nodes this runtime keeps in memory. */
  get residency(): Residency {
    return this.#core.residency;
  }

  /** The id of the session this runtime was opened on (handoffs do not change it). */
  get sessionId(): string {
    return this.#core.sessionId;
  }

  get policy(): SessionPolicy {
    return this.#core.policy;
  }

  get provider(): ModelProvider {
    return this.#core.provider;
  }

  /** The managed child sessions and handoff successors of this session. */
  get sessions(): SessionManager {
    // Every core's registry is the `SessionManager` that `createSessionCore` gave it; the core only
    // knows it through the narrower interface so that the two do not import each other.
    return this.#core.sessions as SessionManager;
  }

  /**
   * This session's background tasks on the environment's `BackgroundTaskHost` (list, cancel, watch,
   * spawn). Tasks are keyed by session id, so they outlive `park()` and are seen again by the resumed
   * runtime. Throws `invalid_configuration` when the runtime has no host.
   */
  backgroundTasks(): SessionBackgroundTasks {
    const tasks = this.#core.sessions.backgroundTasks;
    if (tasks === undefined) throw backgroundTasksUnavailable(this.#core.sessionId);
    return tasks;
  }

  /** Messages queued here are committed into the running turn at its next checkpoint. */
  get turnInjectionBridge(): TurnInjectionBridge {
    return this.#core.turnInjection;
  }

  /** Inputs queued here reach the running turn at its next checkpoint, without being persisted. */
  get turnInputInjectionBridge(): TurnInputInjectionBridge {
    return this.#core.inputInjection;
  }

  /**
   * Starts one turn and returns it at once as a `TurnStream`: iterate it (`for await`) for its
   * activities, read `textStream` for the text, `await` it (or its `result`) for the assembled turn,
   * `cancel()` it. `input` is a `TurnInput`, or a string for a turn with one text item.
   * `options.events` receives the low-level `SessionEvent`s and `options.activities` the
   * `TurnActivity`s as they happen (a sink's returned promise is awaited: back-pressure), in one
   * global order. When this session handed off, the turn runs on the last successor (and the
   * result's `state.sessionId` is the successor's).
   */
  streamTurn<Output = unknown>(input: TurnInput | string, options: TurnRunOptions<Output> = {}): TurnStream<Output> {
    return this.#stream(options, (turnOptions) => this.#runTurn(turnInputOf(input), turnOptions));
  }

  #stream<Output>(options: TurnRunOptions<Output>, run: (options: TurnRunOptions<Output>) => Promise<AssembledTurn>): TurnStream<Output> {
    return new TurnStream<Output>((recorder) => {
      // `cancel` reaches the turn's own abort (the host's signal still reaches it directly): no
      // controller and no listener on the host's signal per stream.
      const cancellation = new TurnCancellation();
      const sink = options.activities;
      const activities =
        sink === undefined || sink.isNoop ? recorder : { emit: (activity: TurnActivity) => teeActivity(recorder, sink, activity) };
      const result = run(withCancellation({ ...options, activities }, cancellation));
      return { result, cancel: (reason) => cancellation.cancel(reason) };
    });
  }

  /**
   * Continues this session's suspended turn (one that ended `stopped { awaiting_approval }`, in this
   * process or any other) with approval decisions, and returns it at once as a `TurnStream`, as
   * `streamTurn` does. The decisions are committed before any approved call runs; while requests
   * stay open the result is `awaiting_approval` again with those; otherwise the same turn goes on:
   * approved calls run, rejected ones give the model the reason, and the turn continues under its
   * own limits, with usage counted once. Code is not stored with the turn: pass the `output`
   * schema (in `options`) and `stopWhen` (in `request`) again. Throws `no_suspended_turn`,
   * `ApprovalNotFoundError`, `ApprovalAlreadyDecidedError`, or `ApprovalConflictError` when another
   * decider got there first; nothing is written then.
   */
  resumeTurn<Output = unknown>(request: ResumeTurnRequest, options: TurnRunOptions<Output> = {}): TurnStream<Output> {
    return this.#stream(options, (turnOptions) => resumeSessionTurn(this.#turnCore(), request, turnOptions));
  }

  /**
   * The requests waiting for a decision: this session's suspended turn's, then those of its live
   * managed child sessions (each names its `sessionId`). Reads the store first, so a decision made
   * by another process is seen; expired requests are left out.
   */
  async pendingApprovals(): Promise<ApprovalRequest[]> {
    const core = this.#turnCore();
    if (!core.turnRunning) await core.refreshFromStore();
    const now = new Date();
    return [...openApprovalRequests(core.suspendedTurn, now), ...(core.sessions as SessionManager).pendingApprovals(now)];
  }

  /** The core turns run on: the last handoff successor, else this session's. */
  #turnCore(): SessionCore {
    const leaf = resolveHandoffLeaf(this.#core);
    return leaf === "missing" || leaf === undefined ? this.#core : leaf;
  }

  /** Runs one turn to its end and returns the assembled turn (`streamTurn` without the stream). */
  async runTurn<Output = unknown>(input: TurnInput | string, options: TurnRunOptions<Output> = {}): Promise<TurnResult<Output>> {
    return (await this.#runTurn(turnInputOf(input), options)) as TurnResult<Output>;
  }

  async #runTurn<Output>(input: TurnInput, options: TurnRunOptions<Output>): Promise<AssembledTurn> {
    const leaf = resolveHandoffLeaf(this.#core);
    if (leaf === "missing") {
      const successor = this.#core.sessions.successorOf(this.#core.sessionId);
      throw new RuntimeError(
        "handoff_successor_missing",
        `handoff successor \`${successor}\` of session \`${this.#core.sessionId}\` is not managed by this runtime`,
      );
    }
    if (!leaf) return runSessionTurn(this.#core, input, options);
    leaf.turnIndex = this.#core.turnIndex;
    const turn = await runSessionTurn(leaf, input, options);
    this.#core.turnIndex = turn.state.turnIndex;
    return turn;
  }

  /**
   * Drives one logical host turn through any handoffs: after a turn that hands off, the successor's
   * first turn runs with its seed input (same trace turn id), until a turn ends otherwise.
   */
  async streamTurnFollowingHandoffs(input: TurnInput, options: TurnRunOptions = {}): Promise<FollowedTurn> {
    const traceTurnId = input.traceTurnId ?? randomUUID();
    const turns: AssembledTurn[] = [];
    let next: TurnInput = { ...input, traceTurnId };
    for (let hop = 0; ; hop += 1) {
      const turn = await this.#runTurn(next, options);
      turns.push(turn);
      if (turn.outcome.type !== "handoff" || hop >= MAX_FOLLOWED_HANDOFFS) return { turns };
      const successorId = turn.outcome.sessionId;
      const seed = takeFirstTurnInput(this.#core, successorId);
      if (!seed) {
        throw new RuntimeError("handoff_missing_first_turn", `handoff successor \`${successorId}\` has no first-turn input`);
      }
      next = inputFromSeed(seed, input, traceTurnId);
    }
  }

  /** The session read model. */
  exportState(): SessionStateEnvelope {
    return this.#core.exportEnvelope();
  }

  /** The persistence snapshot (read model plus ledger and opaque snapshots). */
  exportPersistedState(): PersistedSessionState {
    return this.#core.exportPersisted();
  }

  /** The messages of the active path. */
  activeMessages(): Message[] {
    return this.#core.graph.activeMessages();
  }

  /** The tool calls recorded on the active path. */
  activeToolCalls(): ToolCallRecord[] {
    return this.#core.graph.activeToolCalls();
  }

  /** The session's lifetime usage, one row per `(source, model)`, including child usage not yet committed. */
  tokenLedger(): TokenLedgerEntry[] {
    return mergeTokenLedger(mergeTokenLedger(this.#core.tokenLedger, this.#core.pendingUsage), this.#core.sessions.undrainedUsage);
  }

  /** The usage report of `tokenLedger()`: totals, sums per source and per model, one row per entry. */
  usageReport(): SessionUsageReport {
    return SessionUsageReport.fromEntries(this.tokenLedger());
  }

  /**
   * Changes the session configuration; the next turn uses it. Plugins get one
   * `session_config_changed` notification when anything changed.
   */
  async updateSessionConfig(update: SessionConfigUpdate): Promise<void> {
    const core = this.#core;
    const previous = core.policy;
    if (update.maxContextTokens !== undefined && (!Number.isInteger(update.maxContextTokens) || update.maxContextTokens <= 0)) {
      throw new LashError("invalid_argument", `maxContextTokens must be a positive integer, got ${update.maxContextTokens}`);
    }
    const previousProvider = core.provider;
    if (update.provider) core.provider = update.provider;
    const next: SessionPolicy = { ...previous, providerId: core.provider.providerId };
    if (update.model !== undefined) next.model = update.model;
    else if (update.provider?.defaultModel !== undefined) next.model = update.provider.defaultModel;
    if (update.modelVariant === null) delete next.modelVariant;
    else if (update.modelVariant !== undefined) next.modelVariant = update.modelVariant;
    if (update.maxContextTokens !== undefined) next.maxContextTokens = update.maxContextTokens;
    // A smaller model's window applies to the next turn's prompt (a window the update names wins).
    else if (next.model !== previous.model) next.maxContextTokens = windowAfterModelChange(previous.maxContextTokens, next.model);
    if (update.prompt !== undefined) next.prompt = update.prompt;
    core.policy = next;
    const changed = previousProvider !== core.provider || JSON.stringify(previous) !== JSON.stringify(next);
    if (changed) await core.environment.plugins.emitLifecycle({ type: "session_config_changed", previous, current: next });
  }

  setModel(model: string, variant?: string | null): Promise<void> {
    return this.updateSessionConfig(variant === undefined ? { model } : { model, modelVariant: variant });
  }

  setMaxContextTokens(maxContextTokens: number): Promise<void> {
    return this.updateSessionConfig({ maxContextTokens });
  }

  setProvider(provider: ModelProvider): Promise<void> {
    return this.updateSessionConfig({ provider });
  }

  /** Applies a mode-owned session extension (the mode may reject it). */
  applyModeSessionExtension(extension: ModeSessionExtension): void {
    const mode = this.#core.mode();
    if (!mode.applySessionExtension) {
      throw new LashError("invalid_argument", `execution mode \`${mode.id}\` does not accept session extensions`);
    }
    mode.applySessionExtension(extension);
  }

  /**
   * Moves the active leaf to an existing node (a branch); the next commit records the move. Under
   * `active_path_only` the node may be one that is only in the store.
   */
  async branchToNode(nodeId: string): Promise<void> {
    return await maintenance.branchTo(this.#core, nodeId);
  }

  /**
   * Moves the active leaf before message `messageId` of the active path, so the next turn starts a
   * new branch in its place ("regenerate" or "edit and resend"); the old branch stays as historic
   * nodes. `invalid_argument` when the message is not on the active path, `turn_in_progress` during
   * a turn, `turn_awaiting_approval` while a turn waits for decisions. Before the first message, the
   * move is recorded by the next commit that appends (the next turn's).
   */
  branchBeforeMessage(messageId: string): void {
    maintenance.branchBeforeMessage(this.#core, messageId);
  }

  /**
   * A node of this session, on or off the active path: from memory, else from the store (which
   * is where off-path nodes live under `active_path_only`). `undefined` for an unknown or
   * tombstoned node; `invalid_configuration` when the node is not in memory and there is no store.
   */
  async getHistoricNode(nodeId: string): Promise<SessionNodeRecord | undefined> {
    return await maintenance.historicNode(this.#core, nodeId);
  }

  /**
   * Ids of the nodes off the active path. With a store: the stored nodes on neither the store
   * head's active path nor this runtime's (one full load); without one: the in-memory graph's.
   */
  async orphanedNodeIds(): Promise<string[]> {
    return await maintenance.orphanedNodeIds(this.#core);
  }

  /**
   * Tombstones nodes in the store (hidden from loads; `vacuum` deletes them). Refuses with
   * `invalid_argument`, tombstoning nothing, when one is on the active path. Returns the ids.
   */
  async tombstoneNodes(nodeIds: readonly string[]): Promise<string[]> {
    return await maintenance.tombstoneNodes(this.#core, nodeIds);
  }

  /** Tombstones every stored node off the active path and returns their ids. */
  async tombstoneOrphanedNodes(): Promise<string[]> {
    return await maintenance.tombstoneOrphanedNodes(this.#core);
  }

  /**
   * Summarizes the session's older history now, with the session's model: the active path becomes
   * the summary followed by the newest messages (about `keepRecentTokens`), the summarized nodes stay
   * readable with `getHistoricNode`, and the summary is committed with its usage (ledger source
   * `compaction`). Turns compact by themselves when their prompt nears the window; this is for a
   * host that wants it at a moment of its choosing (`/compact` in `lash chat`). Returns what it did
   * as a value; throws `turn_in_progress` during a turn and `turn_awaiting_approval` while one waits.
   */
  async compact(options?: CompactOptions): Promise<CompactResult> {
    return await compactSession(this.#core, options);
  }

  /** Deletes the store's tombstoned nodes for good. */
  async vacuum(): Promise<VacuumReport> {
    return await maintenance.vacuum(this.#core);
  }

  /**
   * Makes this runtime the managed session `sessionId`: from now on it runs that session's turns.
   * The session leaves the manager that held it.
   */
  activateManagedSession(sessionId: string): void {
    const detached = this.#core.sessions.detach(sessionId);
    if (!detached) throw new LashError("session_manager", `unknown session \`${sessionId}\``);
    if (detached.core.turnRunning) throw new LashError("session_manager", `session \`${sessionId}\` has a running turn`);
    detached.core.pendingFirstTurnInput = detached.firstTurnInput;
    this.#state = { type: "live", core: detached.core };
  }

  /** Takes the seed input of a successor's first turn (or this session's own, after activation). */
  takeFirstTurnInput(sessionId: string = this.sessionId): FirstTurnInput | undefined {
    return takeFirstTurnInput(this.#core, sessionId);
  }

  /** @internal The session core (for handles and helpers inside this package). */
  get core(): SessionCore {
    return this.#core;
  }
}
