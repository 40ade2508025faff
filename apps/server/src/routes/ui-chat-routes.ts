import { randomUUID } from "node:crypto";
import type { ApprovalDecision } from "@lash/protocol";
import { uiChatRequestSchema } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { pathId } from "../http/path-parameters.js";
import { readJsonBody } from "../http/read-json-body.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import type { SessionLease } from "../sessions/session-runtimes.js";
import { type StartedTurn, startTurn } from "../turns/turn-runner.js";
import { uiChatAction } from "../ui-stream/ui-chat-request.js";
import { uiMessageStreamResponse } from "../ui-stream/ui-message-stream-response.js";
import { refuseConcurrentTurn } from "./turn-routes.js";

/**
 * Continues the turn that waits for `decisions`, under that turn's id, as the approvals route does
 * (all decisions at once: the runtime validates them together and writes nothing when one fails).
 */
async function continueWithDecisions(context: ServerContext, lease: SessionLease, decisions: ApprovalDecision[]): Promise<StartedTurn> {
  let turnId: string;
  try {
    const pending = await lease.session.runtime.pendingApprovals();
    // An id no open request has is refused by the runtime with its typed error (404, 409).
    turnId = pending.find((request) => decisions.some((decision) => decision.id === request.id))?.turnId ?? randomUUID();
  } catch (error) {
    await lease.release();
    throw error;
  }
  return startTurn(context.turns, {
    lease,
    turnId,
    resumed: true,
    concurrentTurns: "reject",
    start: (runtime) => runtime.resumeTurn({ decisions, decidedBy: context.decidedBy }),
  });
}

/**
 * `POST /v1/sessions/{id}/chat`: the AI SDK's `useChat` talks to a session. The body is what its
 * transport sends; the answer is the AI SDK 7 UI message stream of the turn. A user message runs a
 * turn (under the profile's concurrent-turn policy); an assistant message with approval responses
 * continues the waiting turn. Failures before the stream starts are lash's JSON errors.
 */
export function registerUiChatRoutes(app: Hono, context: ServerContext): void {
  app.post("/v1/sessions/:sessionId/chat", async (c) => {
    assertAcceptingWork(context);
    const sessionId = pathId(c, "sessionId");
    const body = await readJsonBody(c.req.raw, uiChatRequestSchema, context.maxBodyBytes);
    const action = uiChatAction(body);
    // The owner is checked first: another tenant's session is a 404, whatever runs in it.
    const lease = await context.runtimes.acquire(sessionId, tenantOf(c));
    let started: StartedTurn;
    if (action.type === "decisions") {
      try {
        refuseConcurrentTurn(context, sessionId);
      } catch (error) {
        await lease.release();
        throw error;
      }
      started = await continueWithDecisions(context, lease, action.decisions);
    } else {
      const turnId = randomUUID();
      started = await startTurn(context.turns, {
        lease,
        turnId,
        resumed: false,
        concurrentTurns: lease.session.profile.concurrentTurns,
        start: (runtime) => runtime.streamTurn({ items: action.items, traceTurnId: turnId }),
      });
    }
    return uiMessageStreamResponse(started, context.heartbeatMs);
  });

  // `useChat`'s reconnect (`resumeStream()`, or `resume: true` on mount): the UI message stream of
  // the session's running turn segment, from its start, or 204 when none runs (the AI SDK's
  // transport then keeps the messages it has). `chatId` is the chat's id, the session's own here.
  app.get("/v1/sessions/:sessionId/chat/:chatId/stream", async (c) => {
    const sessionId = pathId(c, "sessionId");
    pathId(c, "chatId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    const running = context.turns.runningTurnOf(sessionId);
    if (running === undefined || running.segmentFirstEventId === 0) return c.body(null, 204);
    return uiMessageStreamResponse({ record: running, firstEventId: running.segmentFirstEventId }, context.heartbeatMs);
  });
}
