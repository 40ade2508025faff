import { randomUUID } from "node:crypto";
import type { ApprovalRequest } from "@lash/protocol";
import { type ApprovalListResponse, approvalDecisionRequestSchema } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { pathId } from "../http/path-parameters.js";
import { readJsonBody } from "../http/read-json-body.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import { startTurn } from "../turns/turn-runner.js";
import { withSession } from "./session-routes.js";
import { answerTurn, refuseConcurrentTurn } from "./turn-routes.js";

/** `/v1/sessions/{id}/approvals`: what a suspended turn waits for, and one decision at a time; the tenant's own sessions only. */
export function registerApprovalRoutes(app: Hono, context: ServerContext): void {
  app.get("/v1/sessions/:sessionId/approvals", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const response = await withSession(
      context,
      sessionId,
      tenantOf(c),
      async (session): Promise<ApprovalListResponse> => ({ approvals: await session.runtime.pendingApprovals() }),
    );
    return c.json(response);
  });

  app.post("/v1/sessions/:sessionId/approvals/:approvalId", async (c) => {
    assertAcceptingWork(context);
    const sessionId = pathId(c, "sessionId");
    const approvalId = pathId(c, "approvalId");
    const body = await readJsonBody(c.req.raw, approvalDecisionRequestSchema, context.maxBodyBytes);
    const tenant = tenantOf(c);
    // The owner first: whether another tenant's session runs a turn is not this tenant's to know.
    await context.runtimes.assertOwner(sessionId, tenant);
    refuseConcurrentTurn(context, sessionId);
    const lease = await context.runtimes.acquire(sessionId, tenant);
    let pending: ApprovalRequest[];
    try {
      pending = await lease.session.runtime.pendingApprovals();
    } catch (error) {
      await lease.release();
      throw error;
    }
    // The decision continues the turn that asked, under that turn's id (its record and event log
    // go on). An id no open request has is refused by the runtime with the typed error (not found,
    // already decided); the id given here then names nothing that is kept.
    const turnId = pending.find((request) => request.id === approvalId)?.turnId ?? randomUUID();
    const started = await startTurn(context.turns, {
      lease,
      turnId,
      concurrentTurns: "reject",
      turn: {
        resume: {
          decisions: [{ id: approvalId, decision: body.decision, ...(body.reason === undefined ? {} : { reason: body.reason }) }],
          decidedBy: context.decidedBy,
        },
      },
    });
    return answerTurn(c, context, started);
  });
}
