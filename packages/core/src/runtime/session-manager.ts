import { randomUUID } from "node:crypto";
import type {
  ApprovalRequest,
  AssembledTurn,
  ChildSessionRequest,
  EventSink,
  FirstTurnInput,
  SessionEvent,
  SessionMeta,
  SessionReadScope,
  SessionRelation,
  SessionStore,
  TokenLedgerEntry,
  TokenUsage,
  TurnActivitySink,
  TurnInput,
} from "@lash/protocol";
import { emptyTokenUsage, isEmptyTokenUsage, LashError, mergeTokenLedger, subtractTokenUsage } from "@lash/protocol";
import { resumeSessionTurn } from "../turn/resume-turn.js";
import { runSessionTurn, type TurnRunOptions } from "../turn/run-turn.js";
import { openApprovalRequests, type ResumeTurnRequest } from "./approval-decisions.js";
import { closeChildBackgroundTasks, restrictToolProviders } from "./background-child-sessions.js";
import { SessionBackgroundTasks } from "./background-session-tasks.js";
import { type ChildSessionRegistry, SessionCore, type SessionCoreInit } from "./session-core.js";

/** Options of a turn on a managed session. */
export interface ManagedTurnOptions {
  readonly events?: EventSink;
  readonly activities?: TurnActivitySink;
  readonly signal?: AbortSignal;
}

/** In-process options of `createSession` (beyond the protocol's `ChildSessionRequest`). */
export interface ManagedSessionOptions {
  /** Only these tools (by name, from the parent's tool providers) are offered to the new session. */
  readonly tools?: readonly string[];
}

/** A turn running on a managed session. */
export interface ManagedTurnHandle {
  readonly sessionId: string;
  readonly result: Promise<AssembledTurn>;
  cancel(): void;
}

interface ManagedChild {
  readonly core: SessionCore;
  readonly relation: Exclude<SessionRelation, { type: "root" }>;
  readonly usageSource: string;
  running: { readonly promise: Promise<AssembledTurn>; readonly controller: AbortController } | undefined;
}

type LiveRelay = (event: SessionEvent) => void | Promise<void>;

/**
 * A factory's store must be bound to the child's id, and the binding is read from the store's meta:
 * a meta naming another session is a misconfigured factory, and a head means the id is taken. A
 * meta for this id without a head is what factories write when they open a store.
 */
async function checkChildStoreBinding(store: SessionStore, sessionId: string, scope: SessionReadScope): Promise<void> {
  let meta: SessionMeta | undefined;
  let headRevision: number | undefined;
  try {
    meta = await store.loadSessionMeta();
    headRevision = store.loadHeadRevision ? await store.loadHeadRevision() : (await store.loadSession(scope))?.headRevision;
  } catch (error) {
    throw new LashError(
      "session_manager",
      `failed to read the store of child session \`${sessionId}\`: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (meta && meta.sessionId !== sessionId) {
    throw new LashError(
      "session_manager",
      `the store configured for child session \`${sessionId}\` is already bound to session \`${meta.sessionId}\`: the session store factory must return a store bound to the requested id`,
    );
  }
  if (headRevision !== undefined) {
    throw new LashError(
      "session_manager",
      `the store for child session \`${sessionId}\` already holds a session (head revision ${headRevision})`,
    );
  }
}

/** Creates a session core with its session manager attached. */
export function createSessionCore(init: SessionCoreInit): SessionCore {
  const core = new SessionCore(init);
  core.sessions = new SessionManager(core);
  return core;
}

/**
 * The sessions a session manages: children (driven by the parent, their usage rolled up into the
 * parent's ledger under their source) and handoff successors (which take over the parent's future
 * turns). Tools and plugins reach it as `SessionAccess`.
 */
export class SessionManager implements ChildSessionRegistry {
  readonly #owner: SessionCore;
  readonly #children = new Map<string, ManagedChild>();
  readonly #handoffs = new Map<string, string>();
  readonly #firstTurnInputs = new Map<string, FirstTurnInput>();
  #sharedLedger: TokenLedgerEntry[] = [];
  /** Who waits for the next completed turn of a managed session (see `nextTurn`). */
  readonly #turnWaiters = new Map<string, Set<(turn: AssembledTurn) => void>>();
  #liveRelay: LiveRelay | undefined;

  constructor(owner: SessionCore) {
    this.#owner = owner;
  }

  get currentSessionId(): string {
    return this.#owner.sessionId;
  }

  /** Ids of the managed sessions, in creation order. */
  get sessionIds(): string[] {
    return [...this.#children.keys()];
  }

  child(sessionId: string): SessionCore | undefined {
    return this.#children.get(sessionId)?.core;
  }

  /** The handoff successor registered for `sessionId`, if any. */
  successorOf(sessionId: string): string | undefined {
    return this.#handoffs.get(sessionId);
  }

  /**
   * The background tasks of the current session, or `undefined` when the runtime has no
   * `BackgroundTaskHost`.
   */
  get backgroundTasks(): SessionBackgroundTasks | undefined {
    const host = this.#owner.environment.backgroundTaskHost;
    return host === undefined ? undefined : new SessionBackgroundTasks(host, this.#owner.sessionId);
  }

  async createSession(request: ChildSessionRequest, options: ManagedSessionOptions = {}): Promise<string> {
    const sessionId = request.sessionId ?? randomUUID();
    if (sessionId === "" || sessionId === this.#owner.sessionId || this.#children.has(sessionId)) {
      throw new LashError("session_manager", `session \`${sessionId}\` already exists`);
    }
    const owner = this.#owner;
    const policy = { ...owner.policy, ...request.policy, sessionId };
    const environment =
      options.tools === undefined
        ? owner.environment
        : { ...owner.environment, toolProviders: await restrictToolProviders(owner.environment.toolProviders, options.tools) };
    const core = createSessionCore({ policy, provider: owner.provider, environment });
    if (request.start === "current_session") {
      // A fork of the current session: its conversation and turn position. Usage is not inherited
      // (the child's own calls roll up into the parent's ledger; copying would count them twice).
      for (const message of owner.graph.activeMessages()) core.graph.appendMessage(message);
      core.turnIndex = owner.turnIndex;
      core.lastPromptUsage = owner.lastPromptUsage;
    }
    for (const message of request.initialMessages ?? []) core.graph.appendMessage(message);
    const factory = owner.environment.sessionStoreFactory;
    if (factory) {
      try {
        core.store = await factory.createStore({ sessionId, parentSessionId: owner.sessionId, relation: request.relation, policy });
      } catch (error) {
        throw new LashError(
          "session_manager",
          `failed to create store for child session \`${sessionId}\`: ${error instanceof Error ? error.message : String(error)}. Managed child sessions require a store for the child session id`,
          { cause: error },
        );
      }
      await checkChildStoreBinding(core.store, sessionId, core.loadScope);
      // A child's first commit starts from a fresh head: it never inherits the parent's revision.
      await core.commit(`create:${sessionId}`);
    }
    this.#children.set(sessionId, { core, relation: request.relation, usageSource: request.usageSource ?? "child", running: undefined });
    if (request.relation.type === "handoff") this.#handoffs.set(request.relation.parentSessionId, sessionId);
    if (request.firstTurnInput) this.#firstTurnInputs.set(sessionId, request.firstTurnInput);
    return sessionId;
  }

  /** Starts a turn on a managed session (one running turn per session). */
  startTurn(sessionId: string, input: TurnInput, options: ManagedTurnOptions = {}): ManagedTurnHandle {
    return this.#start(sessionId, options, (child, turnOptions) => runSessionTurn(child.core, input, turnOptions));
  }

  #start(
    sessionId: string,
    options: ManagedTurnOptions,
    run: (child: ManagedChild, options: TurnRunOptions) => Promise<AssembledTurn>,
  ): ManagedTurnHandle {
    const child = this.#children.get(sessionId);
    if (!child) throw new LashError("session_manager", `unknown session \`${sessionId}\``);
    if (child.running) throw new LashError("turn_in_progress", `session \`${sessionId}\` already has a running turn`);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) controller.abort(options.signal.reason);
    const promise = this.#runChildTurn(child, sessionId, run, options, controller.signal).finally(() => {
      options.signal?.removeEventListener("abort", onAbort);
      child.running = undefined;
    });
    promise.then(
      (turn) => this.#notifyTurn(sessionId, turn),
      () => undefined,
    );
    child.running = { promise, controller };
    return { sessionId, result: promise, cancel: () => controller.abort() };
  }

  runTurn(sessionId: string, input: TurnInput, options: ManagedTurnOptions = {}): Promise<AssembledTurn> {
    return this.startTurn(sessionId, input, options).result;
  }

  /** Waits for the running turn of a managed session. */
  async awaitTurn(sessionId: string): Promise<AssembledTurn> {
    const running = this.#children.get(sessionId)?.running;
    if (!running) throw new LashError("session_manager", `session \`${sessionId}\` has no running turn`);
    return running.promise;
  }

  cancelTurn(sessionId: string): void {
    this.#children.get(sessionId)?.running?.controller.abort();
  }

  async closeSession(sessionId: string): Promise<void> {
    if (sessionId === this.#owner.sessionId) throw new LashError("session_manager", "cannot close the current session");
    const child = this.#children.get(sessionId);
    if (!child) throw new LashError("session_manager", `unknown session \`${sessionId}\``);
    if (child.running) throw new LashError("session_manager", `session \`${sessionId}\` has a running turn`);
    this.detach(sessionId);
    // Decision 19: the closed session's tasks follow their close policies (transfer goes to this session).
    await closeChildBackgroundTasks(child.core.environment, sessionId, this.#owner.sessionId);
  }

  /** Removes a child from this manager and returns it (with its first-turn seed, if any). */
  detach(sessionId: string): { core: SessionCore; firstTurnInput: FirstTurnInput | undefined } | undefined {
    const child = this.#children.get(sessionId);
    if (!child) return undefined;
    this.#children.delete(sessionId);
    for (const [parent, successor] of this.#handoffs) {
      if (successor === sessionId || parent === sessionId) this.#handoffs.delete(parent);
    }
    const firstTurnInput = this.#firstTurnInputs.get(sessionId);
    this.#firstTurnInputs.delete(sessionId);
    return { core: child.core, firstTurnInput };
  }

  /** Takes (and forgets) the seed input of a successor's first turn. */
  takeFirstTurnInput(sessionId: string): FirstTurnInput | undefined {
    const seed = this.#firstTurnInputs.get(sessionId);
    this.#firstTurnInputs.delete(sessionId);
    return seed;
  }

  /** Usage recorded by child turns since the last drain (merged per source and model). */
  drainSharedLedger(): TokenLedgerEntry[] {
    const drained = this.#sharedLedger;
    this.#sharedLedger = [];
    return drained;
  }

  /** Undrained child usage (for usage reports taken between turns). */
  get undrainedUsage(): readonly TokenLedgerEntry[] {
    return this.#sharedLedger;
  }

  /** While the owner runs a turn, child usage is also reported live into that turn. */
  setLiveRelay(relay: LiveRelay | undefined): void {
    this.#liveRelay = relay;
  }

  /**
   * Continues a managed session's suspended turn with approval decisions (see
   * `LashRuntime.resumeTurn`); its usage rolls up into this session's ledger once, as any child turn's.
   */
  resumeTurn(sessionId: string, request: ResumeTurnRequest, options: ManagedTurnOptions = {}): ManagedTurnHandle {
    return this.#start(sessionId, options, (child, turnOptions) => resumeSessionTurn(child.core, request, turnOptions));
  }

  /**
   * Resolves with the next turn of a managed session that completes from now on (started or
   * resumed by anyone); a turn that throws does not count. Rejects with the signal's reason when it
   * aborts first. A subagent task waiting for a person's decision uses it to learn that its child's
   * turn went on.
   */
  nextTurn(sessionId: string, signal?: AbortSignal): Promise<AssembledTurn> {
    if (!this.#children.has(sessionId)) return Promise.reject(new LashError("session_manager", `unknown session \`${sessionId}\``));
    return new Promise<AssembledTurn>((resolve, reject) => {
      const waiters = this.#turnWaiters.get(sessionId) ?? new Set();
      this.#turnWaiters.set(sessionId, waiters);
      const onAbort = (): void => {
        waiters.delete(settle);
        reject(signal?.reason ?? new Error("aborted"));
      };
      const settle = (turn: AssembledTurn): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(turn);
      };
      waiters.add(settle);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The open approval requests of the managed sessions' suspended turns (expired ones left out). */
  pendingApprovals(now: Date = new Date()): ApprovalRequest[] {
    return [...this.#children.values()].flatMap((child) => openApprovalRequests(child.core.suspendedTurn, now));
  }

  #notifyTurn(sessionId: string, turn: AssembledTurn): void {
    const waiters = this.#turnWaiters.get(sessionId);
    if (waiters === undefined) return;
    this.#turnWaiters.delete(sessionId);
    for (const settle of waiters) settle(turn);
  }

  async #runChildTurn(
    child: ManagedChild,
    sessionId: string,
    run: (child: ManagedChild, options: TurnRunOptions) => Promise<AssembledTurn>,
    options: ManagedTurnOptions,
    signal: AbortSignal,
  ): Promise<AssembledTurn> {
    const source = child.usageSource;
    const model = child.core.policy.model;
    // A resumed turn's earlier usage was rolled up when it suspended: only what comes after counts.
    let reported: TokenUsage = child.core.suspendedTurn?.machine.cumulativeUsage ?? emptyTokenUsage();
    const downstream = options.events;
    const events: EventSink = {
      emit: (event) => {
        let relayed: void | Promise<void> = undefined;
        // The parent's running turn sees its children ask for (and get) approval.
        if (event.type === "approval_requested" || event.type === "approval_resolved") relayed = this.#liveRelay?.(event);
        if (event.type === "usage") {
          const delta = subtractTokenUsage(event.cumulative, reported);
          if (!isEmptyTokenUsage(delta)) {
            reported = event.cumulative;
            this.#sharedLedger = mergeTokenLedger(this.#sharedLedger, [{ source, model, usage: delta }]);
            relayed = this.#liveRelay?.({
              type: "child_usage",
              sessionId,
              source,
              model,
              modeIteration: event.modeIteration,
              usage: delta,
              cumulative: event.cumulative,
            });
          }
        }
        const forwarded = downstream?.emit(event);
        if (relayed && forwarded) return Promise.all([relayed, forwarded]).then(() => undefined);
        return relayed ?? forwarded;
      },
    };
    const turn = await run(child, { events, ...(options.activities ? { activities: options.activities } : {}), signal });
    const remainder = subtractTokenUsage(turn.tokenUsage, reported);
    if (!isEmptyTokenUsage(remainder))
      this.#sharedLedger = mergeTokenLedger(this.#sharedLedger, [{ source, model: turn.state.policy.model, usage: remainder }]);
    await this.#persistUsageOutsideTurn();
    return turn;
  }

  /**
   * Child usage recorded while the owner runs no turn would otherwise wait in memory for the owner's
   * next turn (and be lost with the process): commit it to the owner's store now. A failed commit
   * keeps the usage pending on the owner, so the next commit carries it.
   */
  async #persistUsageOutsideTurn(): Promise<void> {
    const owner = this.#owner;
    if (owner.turnRunning || this.#sharedLedger.length === 0) return;
    try {
      await owner.commit(`usage:${randomUUID()}`, this.drainSharedLedger());
    } catch {
      // Kept in `owner.pendingUsage`; the owner's next turn or usage commit retries it.
    }
  }
}
