import type { ResumeTurnRequest, TurnRunOptions, TurnStream } from "@lash/core";
import { type AssembledTurn, LashError, type TurnInput } from "@lash/protocol";
import type { TurnResult } from "@lash/remote-protocol";
import type { ClusterTurnKey, RunningClusterTurn, TurnCluster } from "../cluster/turn-cluster.js";
import { HttpError, toHttpError } from "../http/http-error.js";
import type { ConcurrentTurnPolicy } from "../profiles/agent-profile.js";
import type { SessionLease } from "../sessions/session-runtimes.js";
import type { TurnRecord } from "./turn-record.js";
import type { TurnRegistry } from "./turn-registry.js";

/** The wire form of an assembled turn. */
export function toTurnResult(turnId: string, turn: AssembledTurn): TurnResult {
  return {
    turnId,
    sessionId: turn.state.sessionId,
    turnIndex: turn.state.turnIndex,
    outcome: turn.outcome,
    answer: { text: turn.assistantOutput.safeText, state: turn.assistantOutput.state },
    toolCalls: turn.toolCalls,
    usage: turn.tokenUsage,
    childrenUsage: turn.childrenUsage,
    issues: turn.errors,
  };
}

/** A turn (or a resumed segment) that started: its record, and the id of its segment's first event. */
export interface StartedTurn {
  readonly record: TurnRecord;
  /** The id of the segment's `turn` event: a stream of this segment starts after `firstEventId - 1`. */
  readonly firstEventId: number;
}

/** What to start on a leased runtime. */
export interface TurnStart {
  readonly lease: SessionLease;
  readonly turnId: string;
  /**
   * What runs: a new turn with its input (`streamTurn`), or the session's suspended turn going on
   * with approval decisions (`resumeTurn`; its record and log are kept). The runner starts it, with
   * the sink that logs its activities as they happen.
   */
  readonly turn: { readonly input: TurnInput } | { readonly resume: ResumeTurnRequest };
  /** What to do when a turn of the session runs (decisions on approvals always `reject`: no turn is suspended while one runs). */
  readonly concurrentTurns: ConcurrentTurnPolicy;
}

/** True for a suspended turn that goes on with decisions. */
function isResumed(request: TurnStart): boolean {
  return "resume" in request.turn;
}

/** At most this many requests wait for one session's running turn (`enqueue`); more are refused. */
export const MAX_QUEUED_TURNS = 16;

/**
 * Returns when no turn of the session runs, here or on another instance of the cluster, following
 * the profile's policy: `reject` refuses with 409 `turn_in_progress` (naming the running turn, and
 * the instance that runs it when it is another), `enqueue` waits for the running turn (and any
 * queued here before this one) to end, `interrupt` cancels the running turn (through its instance)
 * and waits for it to end. Waiters wake in arrival order, and the first re-checks and opens its turn
 * in the same tick, so the others wait again.
 */
async function waitForTurnSlot(registry: TurnRegistry, sessionId: string, policy: ConcurrentTurnPolicy): Promise<void> {
  let queued = false;
  const refuseOrQueue = (turnId: string, elsewhere: RunningClusterTurn | undefined): void => {
    if (policy === "reject" || (!queued && registry.queuedTurns(sessionId) >= MAX_QUEUED_TURNS)) {
      throw new HttpError("turn_in_progress", `a turn of session ${sessionId} is running`, {
        details: {
          sessionId,
          turnId,
          ...(policy === "reject" ? {} : { queued: registry.queuedTurns(sessionId) }),
          ...(elsewhere === undefined
            ? {}
            : { instanceId: elsewhere.instanceId, ...(elsewhere.url === undefined ? {} : { instanceUrl: elsewhere.url }) }),
        },
      });
    }
    if (!queued) {
      queued = true;
      registry.enqueue(sessionId);
    }
  };
  try {
    for (;;) {
      const running = registry.runningTurnOf(sessionId);
      if (running === undefined) {
        const cluster = registry.cluster;
        if (cluster === undefined) return;
        const elsewhere = await cluster.runningTurnOf(sessionId);
        // The check here is repeated after the await, with nothing awaited before the turn opens.
        if (elsewhere === undefined) {
          if (registry.runningTurnOf(sessionId) === undefined) return;
          continue;
        }
        refuseOrQueue(elsewhere.turnId, elsewhere);
        const turn = { sessionId, turnId: elsewhere.turnId };
        await (policy === "interrupt" ? cluster.cancelTurn(turn) : cluster.waitForTurn(turn));
        continue;
      }
      refuseOrQueue(running.turnId, undefined);
      if (policy === "interrupt") running.cancel("interrupted by a new turn");
      await running.settled();
    }
  } finally {
    if (queued) registry.dequeue(sessionId);
  }
}

/** How often a new turn that lost the race to another instance's turn goes back to the policy. */
const MAX_START_ATTEMPTS = 5;

/**
 * True when a turn failed before its first event because the session's head moved under it: another
 * instance started a turn of the same session at the same moment, and committed first.
 */
function lostRace(error: unknown): boolean {
  // The commit that found the head moved reports `store_commit_failed` with the conflict as its
  // cause, and the HTTP layer wraps that in turn: the conflict is somewhere down the cause chain.
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    if (LashError.isInstance(current) && current.code === "head_revision_conflict") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Starts a turn on a leased runtime and runs it to its end in the background, whoever listens:
 * every activity goes into the turn's log, then its result (or failure). The lease is released when
 * the turn ends, so a runtime with a running turn is never parked. Resolves once the turn produced
 * its first event; a turn refused before that (another turn runs, the session waits for approval,
 * an approval id that does not exist) rejects with its `HttpError` instead, and leaves nothing.
 *
 * Two instances that start a turn of one session at the same moment both find it idle; the store's
 * compare-and-set lets one commit, and the other's turn fails before its first event. That one is
 * then treated as if it had seen the winner's turn: `reject` answers 409 `turn_in_progress`;
 * `enqueue` and `interrupt` catch up with the store and go back to the policy (wait for, or cancel,
 * the winner's turn), a few times at most.
 */
export async function startTurn(registry: TurnRegistry, request: TurnStart): Promise<StartedTurn> {
  const sessionId = request.lease.session.sessionId;
  const resumed = isResumed(request);
  for (let attempt = 1; ; attempt += 1) {
    const retry = !resumed && request.concurrentTurns !== "reject" && attempt < MAX_START_ATTEMPTS;
    try {
      return await startTurnOnce(registry, request, retry);
    } catch (error) {
      if (resumed || !lostRace(error)) throw error;
      if (!retry) {
        const elsewhere = await registry.cluster?.runningTurnOf(sessionId).catch(() => undefined);
        throw new HttpError("turn_in_progress", `another turn of session ${sessionId} started at the same moment`, {
          details: {
            sessionId,
            ...(elsewhere === undefined
              ? {}
              : {
                  turnId: elsewhere.turnId,
                  instanceId: elsewhere.instanceId,
                  ...(elsewhere.url === undefined ? {} : { instanceUrl: elsewhere.url }),
                }),
          },
        });
      }
      // The lease was kept: adopt the winner's head before going back to the policy.
      await request.lease.session.runtime.pendingApprovals().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}

async function startTurnOnce(registry: TurnRegistry, request: TurnStart, keepLeaseOnLostRace: boolean): Promise<StartedTurn> {
  const { lease, turnId } = request;
  const sessionId = lease.session.sessionId;
  const cluster = registry.cluster;
  let continueAfter: number | undefined;
  try {
    if (isResumed(request) && cluster !== undefined) continueAfter = await continuationElsewhere(registry, cluster, { sessionId, turnId });
    await waitForTurnSlot(registry, sessionId, request.concurrentTurns);
  } catch (error) {
    await lease.release();
    throw error;
  }
  // No await between the last check above and this: two requests never both open a turn.
  const record = registry.open(sessionId, turnId);
  if (continueAfter !== undefined && record.log.lastId === 0) record.log.continueAfter(continueAfter);
  let resolveStarted: (id: number) => void = () => undefined;
  let rejectStarted: (failure: HttpError) => void = () => undefined;
  const started = new Promise<number>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  let firstEventId: number | undefined;
  let announced: Promise<void> | undefined;
  /** True when the start is tried again on the same lease (`startTurn`). */
  let keepLease = false;
  const begin = (): void => {
    if (firstEventId !== undefined) return;
    firstEventId = record.log.append("turn", { turnId, sessionId, resumed: isResumed(request) });
    record.segmentFirstEventId = firstEventId;
    // Only a segment that started is announced: one refused before its first event leaves no row.
    announced = cluster?.turnStarted({ sessionId, turnId });
    resolveStarted(firstEventId);
  };
  /** Tells the other instances how the segment ended, before anyone here learns it (see below). */
  const recordEnding = async (): Promise<void> => {
    const last = record.log.lastEvent;
    if (cluster === undefined || last === undefined || (last.event !== "result" && last.event !== "error")) return;
    // After the start's row, or a late start would mark an ended turn running again.
    await announced;
    await cluster.turnEnded({ sessionId, turnId }, { event: last.event, eventId: last.id, data: last.data });
  };
  // Each activity goes into the log as the turn emits it (a sink, not an iteration of the stream:
  // no promise per activity).
  const options: TurnRunOptions = {
    activities: {
      emit: (activity) => {
        begin();
        record.log.append("activity", activity);
      },
    },
  };
  let stream: TurnStream;
  try {
    const runtime = lease.session.runtime;
    const turn = request.turn;
    stream = "resume" in turn ? runtime.resumeTurn(turn.resume, options) : runtime.streamTurn(turn.input, options);
  } catch (error) {
    registry.abandon(record);
    await lease.release();
    throw toHttpError(error);
  }
  record.begin(stream);
  const task = (async () => {
    try {
      const turn = await stream.result;
      begin();
      const result = toTurnResult(turnId, turn);
      record.log.append("result", result);
      // The ending is written before the turn settles here, so a client that got the result from
      // this instance and asks another one next finds the turn ended there too.
      await recordEnding();
      record.settle({ type: "result", result });
      registry.finish(record);
    } catch (error) {
      const failure = toHttpError(error);
      if (firstEventId === undefined) {
        keepLease = keepLeaseOnLostRace && lostRace(failure);
        record.refuse(failure);
        registry.abandon(record);
        rejectStarted(failure);
      } else {
        record.log.append("error", failure.body());
        await recordEnding();
        record.settle({ type: "error", error: failure });
        registry.finish(record);
      }
    } finally {
      if (!keepLease) await lease.release().catch(() => undefined);
    }
  })();
  registry.track(task);
  const first = await started;
  // The requester learns the turn's id from the answer: by then the other instances know of it.
  await announced;
  return { record, firstEventId: first };
}

/**
 * Where a resumed segment's events go on when the turn's latest segment ran on another instance
 * (it waited for approval there, and is decided here): after the last event that instance sent. A
 * record this instance kept of an older segment is dropped first, since its log stops short of
 * that. `undefined` when this instance's record is the latest, when no instance recorded the turn,
 * or when the table does not answer (the ids then start over: they only matter to a reattaching client).
 */
async function continuationElsewhere(registry: TurnRegistry, cluster: TurnCluster, turn: ClusterTurnKey): Promise<number | undefined> {
  const known = await cluster.findTurn(turn).catch(() => undefined);
  if (known?.state !== "ended") return undefined;
  const local = registry.find(turn.sessionId, turn.turnId);
  if (local !== undefined && (local.running || local.log.lastId >= known.ending.eventId)) return undefined;
  if (local !== undefined) registry.forgetTurn(turn.turnId);
  return known.ending.eventId;
}
