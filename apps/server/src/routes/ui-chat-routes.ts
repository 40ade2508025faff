import { randomUUID } from "node:crypto";
import type { ApprovalDecision, InputItem, Message } from "@lash/protocol";
import { uiChatRequestSchema } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { HttpError } from "../http/http-error.js";
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
    concurrentTurns: "reject",
    turn: { resume: { decisions, decidedBy: context.decidedBy } },
  });
}

/** The text of input items, to match them against a stored user message. */
function textOfItems(items: readonly InputItem[]): string {
  return items.map((item) => (item.type === "text" ? item.text : "")).join("");
}

/** The text of a stored message's text parts. */
function textOfMessage(message: Message): string {
  return message.parts.map((part) => (part.kind === "text" ? part.content : "")).join("");
}

/**
 * Runs `items` again on a new branch in place of the session's answer to them: the leaf moves
 * before the last user message of the active path with the same text (so regenerating an older
 * answer works too), then the turn runs. The old branch stays in the graph.
 */
async function regenerate(context: ServerContext, lease: SessionLease, items: InputItem[]): Promise<StartedTurn> {
  const runtime = lease.session.runtime;
  try {
    refuseConcurrentTurn(context, runtime.sessionId);
    const text = textOfItems(items);
    const target = runtime
      .activeMessages()
      .findLast((message) => message.role === "user" && message.origin === undefined && textOfMessage(message) === text);
    if (!target) {
      throw new HttpError("invalid_request", "the message to regenerate an answer for is not in the session's conversation", {
        details: { sessionId: runtime.sessionId },
      });
    }
    runtime.branchBeforeMessage(target.id);
  } catch (error) {
    await lease.release();
    throw error;
  }
  const turnId = randomUUID();
  return startTurn(context.turns, {
    lease,
    turnId,
    concurrentTurns: "reject",
    turn: { input: { items, traceTurnId: turnId } },
  });
}

/**
 * `POST /v1/sessions/{id}/chat`: the AI SDK's `useChat` talks to a session. The body is what its
 * transport sends; the answer is the AI SDK 7 UI message stream of the turn. A user message runs a
 * turn (under the profile's concurrent-turn policy); an assistant message with approval responses
 * continues the waiting turn; `regenerate-message` runs the user's message again on a new branch.
 * Failures before the stream starts are lash's JSON errors.
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
    } else if (action.type === "regenerate") {
      started = await regenerate(context, lease, action.items);
    } else {
      const turnId = randomUUID();
      started = await startTurn(context.turns, {
        lease,
        turnId,
        concurrentTurns: lease.session.profile.concurrentTurns,
        turn: { input: { items: action.items, traceTurnId: turnId } },
      });
    }
    return uiMessageStreamResponse(started, context.heartbeatMs, c.env);
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
    return uiMessageStreamResponse({ record: running, firstEventId: running.segmentFirstEventId }, context.heartbeatMs, c.env);
  });
}
