import { randomUUID } from "node:crypto";
import type {
  AssembledTurn,
  FirstTurnInput,
  FollowedTurn,
  ModelProvider,
  ModeSessionExtension,
  PersistedSessionState,
  PromptLayer,
  SessionPolicy,
  SessionStateEnvelope,
  TokenLedgerEntry,
  ToolCallRecord,
  TurnInput,
  Message,
} from "@lash/protocol";
import { LashError, mergeTokenLedger, RuntimeError } from "@lash/protocol";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { runSessionTurn, type TurnRunOptions } from "../turn/run-turn.js";
import { inputFromSeed, resolveHandoffLeaf, takeFirstTurnInput } from "./handoff-routing.js";
import type { SessionCore } from "./session-core.js";
import type { SessionManager } from "./session-manager.js";
import { EmbeddedRuntimeBuilder } from "./runtime-builder.js";

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

/**
 * A lash session runtime: it runs turns against a model provider, dispatches tools, streams
 * semantic events, applies the termination policy and commits each turn atomically to its store.
 * Create one with `LashRuntime.builder()`. One turn runs at a time per session.
 */
export class LashRuntime {
  #core: SessionCore;

  /** @internal Use `LashRuntime.builder()`. */
  constructor(core: SessionCore) {
    this.#core = core;
  }

  /** A builder for an embedded runtime. */
  static builder(): EmbeddedRuntimeBuilder<LashRuntime> {
    return new EmbeddedRuntimeBuilder((core) => new LashRuntime(core));
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
    return this.#core.sessions;
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
   * Runs one turn and streams its events: `events` gets low-level `SessionEvent`s, `activities`
   * the app-facing `TurnActivity`s, in one global order. When this session handed off, the turn
   * runs on the last successor (and the result's `state.sessionId` is the successor's).
   */
  async streamTurn(input: TurnInput, options: TurnRunOptions = {}): Promise<AssembledTurn> {
    const leaf = resolveHandoffLeaf(this.#core);
    if (leaf === "missing") {
      const successor = this.#core.sessions.successorOf(this.#core.sessionId);
      throw new RuntimeError("handoff_successor_missing", `handoff successor \`${successor}\` of session \`${this.#core.sessionId}\` is not managed by this runtime`);
    }
    if (!leaf) return runSessionTurn(this.#core, input, options);
    leaf.turnIndex = this.#core.turnIndex;
    const turn = await runSessionTurn(leaf, input, options);
    this.#core.turnIndex = turn.state.turnIndex;
    return turn;
  }

  /** Runs one turn without streaming. */
  runTurn(input: TurnInput, options: { readonly signal?: AbortSignal } = {}): Promise<AssembledTurn> {
    return this.streamTurn(input, options);
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
      const turn = await this.streamTurn(next, options);
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

  /** Moves the active leaf to an existing node (a branch); the next commit records the move. */
  branchToNode(nodeId: string): void {
    if (!this.#core.graph.node(nodeId)) throw new LashError("invalid_argument", `node \`${nodeId}\` is not in session \`${this.sessionId}\``);
    this.#core.graph.branchTo(nodeId);
  }

  /** Ids of the nodes that are not on the active path. */
  orphanedNodeIds(): string[] {
    return this.#core.graph.orphanedNodeIds();
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
    this.#core = detached.core;
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
