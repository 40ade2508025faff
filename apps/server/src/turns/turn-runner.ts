import type { LashRuntime, TurnStream } from "@lash/core";
import type { AssembledTurn } from "@lash/protocol";
import type { TurnResult } from "@lash/remote-protocol";
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
  /** True for a suspended turn that goes on (its record and log are kept). */
  readonly resumed: boolean;
  readonly start: (runtime: LashRuntime) => TurnStream;
  /** What to do when a turn of the session runs (decisions on approvals always `reject`: no turn is suspended while one runs). */
  readonly concurrentTurns: ConcurrentTurnPolicy;
}

/** At most this many requests wait for one session's running turn (`enqueue`); more are refused. */
export const MAX_QUEUED_TURNS = 16;

/**
 * Returns when no turn of the session runs, following the profile's policy: `reject` refuses with
 * 409 `turn_in_progress` (naming the running turn), `enqueue` waits for the running turn (and any
 * queued before this one) to end, `interrupt` cancels the running turn and waits for it to end.
 * Waiters wake in arrival order, and the first re-checks and opens its turn in the same tick, so
 * the others wait again.
 */
async function waitForTurnSlot(registry: TurnRegistry, sessionId: string, policy: ConcurrentTurnPolicy): Promise<void> {
  let queued = false;
  try {
    for (;;) {
      const running = registry.runningTurnOf(sessionId);
      if (running === undefined) return;
      if (policy === "reject" || (!queued && registry.queuedTurns(sessionId) >= MAX_QUEUED_TURNS)) {
        throw new HttpError("turn_in_progress", `a turn of session ${sessionId} is running`, {
          details: { sessionId, turnId: running.turnId, ...(policy === "reject" ? {} : { queued: registry.queuedTurns(sessionId) }) },
        });
      }
      if (!queued) {
        queued = true;
        registry.enqueue(sessionId);
      }
      if (policy === "interrupt") running.cancel("interrupted by a new turn");
      await running.settled();
    }
  } finally {
    if (queued) registry.dequeue(sessionId);
  }
}

/**
 * Starts a turn on a leased runtime and runs it to its end in the background, whoever listens:
 * every activity goes into the turn's log, then its result (or failure). The lease is released when
 * the turn ends, so a runtime with a running turn is never parked. Resolves once the turn produced
 * its first event; a turn refused before that (another turn runs, the session waits for approval,
 * an approval id that does not exist) rejects with its `HttpError` instead, and leaves nothing.
 */
export async function startTurn(registry: TurnRegistry, request: TurnStart): Promise<StartedTurn> {
  const { lease, turnId } = request;
  const sessionId = lease.session.sessionId;
  try {
    await waitForTurnSlot(registry, sessionId, request.concurrentTurns);
  } catch (error) {
    await lease.release();
    throw error;
  }
  // No await between the last check above and this: two requests never both open a turn.
  const record = registry.open(sessionId, turnId);
  let stream: TurnStream;
  try {
    stream = request.start(lease.session.runtime);
  } catch (error) {
    registry.abandon(record);
    await lease.release();
    throw toHttpError(error);
  }
  // The result is read below; a failure is also thrown by the iteration, so this only keeps the
  // rejection from being reported as unhandled when the iteration sees it first.
  stream.result.catch(() => undefined);
  record.begin(stream);
  let resolveStarted: (id: number) => void = () => undefined;
  let rejectStarted: (failure: HttpError) => void = () => undefined;
  const started = new Promise<number>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  let firstEventId: number | undefined;
  const begin = (): void => {
    if (firstEventId !== undefined) return;
    firstEventId = record.log.append("turn", { turnId, sessionId, resumed: request.resumed });
    resolveStarted(firstEventId);
  };
  const task = (async () => {
    try {
      for await (const activity of stream) {
        begin();
        record.log.append("activity", activity);
      }
      const turn = await stream.result;
      begin();
      const result = toTurnResult(turnId, turn);
      record.log.append("result", result);
      record.settle({ type: "result", result });
      registry.finish(record);
    } catch (error) {
      const failure = toHttpError(error);
      if (firstEventId === undefined) {
        record.refuse(failure);
        registry.abandon(record);
        rejectStarted(failure);
      } else {
        record.log.append("error", failure.body());
        record.settle({ type: "error", error: failure });
        registry.finish(record);
      }
    } finally {
      await lease.release().catch(() => undefined);
    }
  })();
  registry.track(task);
  return { record, firstEventId: await started };
}
