import { randomUUID } from "node:crypto";
import type { InputItem } from "@lash/protocol";
import { type TurnRequest, turnRequestSchema } from "@lash/remote-protocol";
import type { Context, Hono } from "hono";
import { errorResponse, HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import { readJsonBody } from "../http/read-json-body.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import { eventStreamResponse, parseLastEventId, wantsEventStream } from "../turns/event-stream-response.js";
import type { TurnRecord } from "../turns/turn-record.js";
import { type StartedTurn, startTurn } from "../turns/turn-runner.js";

/** The runtime's input items of a turn request. */
function inputItems(request: TurnRequest): InputItem[] {
  if (typeof request.input === "string") return [{ type: "text", text: request.input }];
  return request.input.map((item) => ({ type: "text", text: item.text }));
}

/** 409 `turn_in_progress` when a turn of the session runs (the `reject` policy), before anything is loaded. */
export function refuseConcurrentTurn(context: ServerContext, sessionId: string): void {
  const running = context.turns.runningTurnOf(sessionId);
  if (running !== undefined) {
    throw new HttpError("turn_in_progress", `a turn of session ${sessionId} is running`, {
      details: { sessionId, turnId: running.turnId },
    });
  }
}

/** The answer to a request that started a turn: its events as they happen, or its JSON result once it ended. */
export async function answerTurn(c: Context, context: ServerContext, started: StartedTurn): Promise<Response> {
  if (wantsEventStream(c.req.raw)) return eventStreamResponse(started.record, started.firstEventId - 1, context.heartbeatMs);
  return settlementResponse(started.record);
}

async function settlementResponse(record: TurnRecord): Promise<Response> {
  const settlement = await record.settled();
  if (settlement.type === "error") return errorResponse(settlement.error);
  return Response.json(settlement.result, { headers: { "lash-turn-id": record.turnId } });
}

function findTurn(context: ServerContext, sessionId: string, turnId: string): TurnRecord {
  const record = context.turns.find(sessionId, turnId);
  if (record === undefined) {
    throw new HttpError("turn_not_found", `no turn ${turnId} of session ${sessionId} on this server`, { details: { sessionId, turnId } });
  }
  return record;
}

/** `/v1/sessions/{id}/turns`: run, reattach, cancel. */
export function registerTurnRoutes(app: Hono, context: ServerContext): void {
  app.post("/v1/sessions/:sessionId/turns", async (c) => {
    assertAcceptingWork(context);
    const sessionId = pathId(c, "sessionId");
    const body = await readJsonBody(c.req.raw, turnRequestSchema, context.maxBodyBytes);
    const lease = await context.runtimes.acquire(sessionId);
    const turnId = randomUUID();
    const items = inputItems(body);
    const started = await startTurn(context.turns, {
      lease,
      turnId,
      resumed: false,
      concurrentTurns: lease.session.profile.concurrentTurns,
      start: (runtime) => runtime.streamTurn({ items, traceTurnId: turnId }),
    });
    return answerTurn(c, context, started);
  });

  app.get("/v1/sessions/:sessionId/turns/:turnId/events", (c) => {
    const sessionId = pathId(c, "sessionId");
    const record = findTurn(context, sessionId, pathId(c, "turnId"));
    const afterId = parseLastEventId(c.req.header("last-event-id") ?? null, record);
    return eventStreamResponse(record, afterId, context.heartbeatMs);
  });

  app.post("/v1/sessions/:sessionId/turns/:turnId/cancel", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const record = findTurn(context, sessionId, pathId(c, "turnId"));
    if (record.running) record.cancel("cancelled through the API");
    return settlementResponse(record);
  });
}
