import { errorBodySchema, type TurnResult, turnResultSchema } from "@lash/remote-protocol";
import type { ClusterTurn, ClusterTurnKey, TurnCluster, TurnEnding } from "../cluster/turn-cluster.js";
import { HttpError } from "../http/http-error.js";
import { DEFAULT_TURN_LOG_LIMITS } from "./turn-log.js";
import { TurnRecord } from "./turn-record.js";
import type { TurnRegistry } from "./turn-registry.js";

/** A turn no instance this one can reach knows: the answer of an instance that knows only its own turns. */
export function turnNotFound(turn: ClusterTurnKey): HttpError {
  return new HttpError("turn_not_found", `no turn ${turn.turnId} of session ${turn.sessionId} on this server`, {
    details: { sessionId: turn.sessionId, turnId: turn.turnId },
  });
}

/** The ending row was written by an instance but does not read as one (a hand edit, a later format). */
function unreadableEnding(turn: ClusterTurnKey): HttpError {
  return new HttpError("internal_error", `the recorded ending of turn ${turn.turnId} cannot be read`, {
    details: { sessionId: turn.sessionId, turnId: turn.turnId },
  });
}

/**
 * A turn another instance ran, as an ended record of this one: its terminal event under the id it
 * had there, and its settlement. Event streams and JSON answers then serve it exactly as they
 * serve a turn of this instance whose other events are no longer kept. The stored data is checked
 * against the wire schemas first; what is served is the data as it was written.
 */
export function endedTurnRecord(turn: ClusterTurnKey, ending: TurnEnding): TurnRecord {
  let data: unknown;
  try {
    data = JSON.parse(ending.data);
  } catch {
    throw unreadableEnding(turn);
  }
  const record = new TurnRecord(turn.turnId, turn.sessionId, DEFAULT_TURN_LOG_LIMITS);
  record.log.continueAfter(ending.eventId - 1);
  if (ending.event === "result") {
    if (!turnResultSchema.safeParse(data).success) throw unreadableEnding(turn);
    // Checked just above; the parse's own output would drop fields a newer instance added.
    const result = data as TurnResult;
    record.log.append("result", result);
    record.settle({ type: "result", result });
    return record;
  }
  const parsed = errorBodySchema.safeParse(data);
  if (!parsed.success) throw unreadableEnding(turn);
  const { code, message, details } = parsed.data.error;
  record.log.append("error", data);
  record.settle({ type: "error", error: new HttpError(code, message, details === undefined ? {} : { details }) });
  return record;
}

/**
 * What a request about a turn this instance does not run gets, from what the instances know: the
 * ended turn as a record; 409 `turn_in_progress` naming the instance for a turn running elsewhere
 * (its events are read there; a cancel works through any instance); 404 `turn_not_found` for a
 * turn no instance knows, or whose instance stopped before it ended (the session keeps what it
 * committed).
 */
function recordOf(turn: ClusterTurnKey, known: ClusterTurn | undefined): TurnRecord {
  if (known === undefined) throw turnNotFound(turn);
  if (known.state === "ended") return endedTurnRecord(turn, known.ending);
  if (known.state === "abandoned") {
    throw new HttpError(
      "turn_not_found",
      `turn ${turn.turnId} of session ${turn.sessionId} was running on an instance of the server that stopped before it ended; the session keeps what it committed`,
      { details: { sessionId: turn.sessionId, turnId: turn.turnId, instanceId: known.instanceId, reason: "instance_stopped" } },
    );
  }
  const where = known.url === undefined ? "another instance of the server" : `another instance of the server (${known.url})`;
  throw new HttpError(
    "turn_in_progress",
    `turn ${turn.turnId} runs on ${where}: read its events there; a cancel works through any instance`,
    {
      details: {
        sessionId: turn.sessionId,
        turnId: turn.turnId,
        instanceId: known.instanceId,
        ...(known.url === undefined ? {} : { instanceUrl: known.url }),
      },
    },
  );
}

/** True when the record's last segment ended waiting for approval: a decision through any instance may have continued it since. */
function waitedForApproval(record: TurnRecord): boolean {
  const settlement = record.settlement;
  return (
    settlement?.type === "result" &&
    settlement.result.outcome.type === "stopped" &&
    settlement.result.outcome.stop.type === "awaiting_approval"
  );
}

/** True when what the instances know is newer than this instance's ended record of the same turn. */
function wentOnElsewhere(cluster: TurnCluster, known: ClusterTurn, local: TurnRecord): boolean {
  if (known.state === "ended") return known.ending.eventId > local.log.lastId;
  return known.instanceId !== cluster.instanceId;
}

/**
 * The record to serve for `turn`: this instance's own (running, or ended), unless the turn went on
 * elsewhere since (it waited for approval here, and was decided through another instance); a
 * turn this instance does not know comes from the other instances (`turn_not_found` without any).
 */
export async function currentTurnRecord(registry: TurnRegistry, turn: ClusterTurnKey): Promise<TurnRecord> {
  const local = registry.find(turn.sessionId, turn.turnId);
  const cluster = registry.cluster;
  if (local === undefined) {
    if (cluster === undefined) throw turnNotFound(turn);
    return recordOf(turn, await cluster.findTurn(turn));
  }
  if (cluster === undefined || local.running || !waitedForApproval(local)) return local;
  const known = await cluster.findTurn(turn);
  return known !== undefined && wentOnElsewhere(cluster, known, local) ? recordOf(turn, known) : local;
}

/**
 * Cancels `turn` wherever it runs and returns its record once it ended: here, its own stream is
 * cancelled; elsewhere, the instance that runs it is asked to (the turn is served as
 * `currentTurnRecord` serves it). `signal`: the request's, so a client that goes away stops the
 * wait (the cancel was asked for all the same).
 */
export async function cancelTurnAnywhere(registry: TurnRegistry, turn: ClusterTurnKey, signal: AbortSignal): Promise<TurnRecord> {
  const local = registry.find(turn.sessionId, turn.turnId);
  if (local?.running === true) {
    local.cancel("cancelled through the API");
    return local;
  }
  const cluster = registry.cluster;
  if (local !== undefined && (cluster === undefined || !waitedForApproval(local))) return local;
  if (cluster === undefined) throw turnNotFound(turn);
  return recordOf(turn, await cluster.cancelTurn(turn, signal));
}
