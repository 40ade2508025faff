import { randomUUID } from "node:crypto";
import { detectImageMediaType } from "@lash/core";
import type { InputItem } from "@lash/protocol";
import { type TurnRequest, turnRequestSchema } from "@lash/remote-protocol";
import type { Context, Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { errorResponse, HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import { assertJsonMediaType, parseJsonBody, readBodyText } from "../http/read-json-body.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import { eventStreamResponse, parseLastEventId, wantsEventStream } from "../turns/event-stream-response.js";
import { cancelTurnAnywhere, currentTurnRecord } from "../turns/remote-turns.js";
import type { TurnRecord } from "../turns/turn-record.js";
import { relayTurnEvents } from "../turns/turn-relay.js";
import { type StartedTurn, startTurn } from "../turns/turn-runner.js";

/** The largest turn request carrying images, in bytes (20 MiB, base64 included); other bodies keep the 1 MiB cap. */
export const DEFAULT_MAX_IMAGE_BODY_BYTES = 20 * 1024 * 1024;

/** Bounds of turn requests. */
export interface TurnRouteOptions {
  /** The largest turn request that carries images; one without images is held to `context.maxBodyBytes`. */
  readonly maxImageBodyBytes: number;
}

/** The runtime's input of a turn request: its items, with each image's bytes under an id of its own. */
function turnInput(request: TurnRequest): { items: InputItem[]; imageBlobs?: Record<string, Uint8Array> } {
  if (typeof request.input === "string") return { items: [{ type: "text", text: request.input }] };
  const items: InputItem[] = [];
  const imageBlobs: Record<string, Uint8Array> = {};
  for (const [index, item] of request.input.entries()) {
    if (item.type === "text") {
      items.push({ type: "text", text: item.text });
      continue;
    }
    const bytes = new Uint8Array(Buffer.from(item.data, "base64"));
    // Checked here, before the session is touched: a bad image is the client's 400, and nothing is stored.
    if (detectImageMediaType(bytes) === undefined) {
      const path = `input.${index}.data`;
      throw new HttpError("invalid_request", `the request body is invalid: \`${path}\`: not a PNG, JPEG, GIF or WebP image`, {
        details: { issues: [{ path, message: "not a PNG, JPEG, GIF or WebP image" }] },
      });
    }
    const id = `image-${index}`;
    imageBlobs[id] = bytes;
    items.push({ type: "image_ref", id });
  }
  return Object.keys(imageBlobs).length === 0 ? { items } : { items, imageBlobs };
}

/**
 * Reads a turn request: up to the image cap, counting its bytes on the way, then holding a body
 * without images to the ordinary cap. (Whether a body carries images is only known once parsed;
 * either way no more than the image cap is ever read.)
 */
async function readTurnRequest(request: Request, maxBodyBytes: number, maxImageBodyBytes: number): Promise<TurnRequest> {
  assertJsonMediaType(request);
  const text = await readBodyText(request, Math.max(maxBodyBytes, maxImageBodyBytes));
  const body = parseJsonBody(text, turnRequestSchema);
  const hasImages = typeof body.input !== "string" && body.input.some((item) => item.type === "image");
  if (!hasImages && text.bytes > maxBodyBytes) {
    throw new HttpError(
      "payload_too_large",
      `the request body is larger than ${maxBodyBytes} bytes (a turn with images may have ${maxImageBodyBytes})`,
      {
        details: { maxBytes: maxBodyBytes, maxImageBodyBytes },
      },
    );
  }
  return body;
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
  if (wantsEventStream(c.req.raw)) return eventStreamResponse(started.record, started.firstEventId - 1, context.heartbeatMs, c.env);
  return settlementResponse(started.record);
}

async function settlementResponse(record: TurnRecord): Promise<Response> {
  const settlement = await record.settled();
  if (settlement.type === "error") return errorResponse(settlement.error);
  return Response.json(settlement.result, { headers: { "lash-turn-id": record.turnId } });
}

/** `/v1/sessions/{id}/turns`: run, reattach, cancel; only on the tenant's own sessions (another's is a 404). */
export function registerTurnRoutes(app: Hono, context: ServerContext, options: TurnRouteOptions): void {
  app.post("/v1/sessions/:sessionId/turns", async (c) => {
    assertAcceptingWork(context);
    const sessionId = pathId(c, "sessionId");
    const body = await readTurnRequest(c.req.raw, context.maxBodyBytes, options.maxImageBodyBytes);
    const input = turnInput(body);
    // The turn itself reads the store's head first (another instance may have moved it): no second read here.
    const lease = await context.runtimes.acquire(sessionId, tenantOf(c), { refresh: false });
    const turnId = randomUUID();
    const started = await startTurn(context.turns, {
      lease,
      turnId,
      concurrentTurns: lease.session.profile.concurrentTurns,
      turn: { input: { ...input, traceTurnId: turnId } },
    });
    return answerTurn(c, context, started);
  });

  app.get("/v1/sessions/:sessionId/turns/:turnId/events", async (c) => {
    const sessionId = pathId(c, "sessionId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    // This instance's record, or (with other instances on the store) what they know: the ended
    // turn, or a turn that runs on another instance, whose events are relayed from it (a 409 that
    // names the instance when it cannot be reached).
    const turn = { sessionId, turnId: pathId(c, "turnId") };
    let record: TurnRecord;
    try {
      record = await currentTurnRecord(context.turns, turn);
    } catch (error) {
      const relayed =
        error instanceof HttpError ? await relayTurnEvents(c.req.raw, turn, error, context.turns.cluster?.instanceId ?? "") : undefined;
      if (relayed !== undefined) return relayed;
      throw error;
    }
    const afterId = parseLastEventId(c.req.header("last-event-id") ?? null, record);
    return eventStreamResponse(record, afterId, context.heartbeatMs, c.env);
  });

  app.post("/v1/sessions/:sessionId/turns/:turnId/cancel", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const turnId = pathId(c, "turnId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    // Here or on the instance that runs it; the answer waits for the turn's end.
    return settlementResponse(await cancelTurnAnywhere(context.turns, { sessionId, turnId }, c.req.raw.signal));
  });
}
