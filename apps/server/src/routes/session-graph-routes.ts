import type { ChildSession, SessionGraphResponse, TurnTraceListResponse, TurnTraceResponse } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import type { ServerContext } from "../server-context.js";
import type { TurnTraceRecorder } from "../traces/turn-trace-recorder.js";

/** The most child sessions one graph lists. */
const MAX_LISTED_CHILDREN = 100;

function sessionNotFound(sessionId: string): HttpError {
  return new HttpError("session_not_found", `no session ${sessionId}`, { details: { sessionId } });
}

/**
 * `/v1/sessions/{id}/graph` (every branch of the session graph, and the subagents' child sessions),
 * `/v1/sessions/{id}/traces` and `/v1/sessions/{id}/turns/{turnId}/trace` (the trace records this
 * server keeps). Each checks the owner first: another tenant's session is a 404.
 */
export function registerSessionGraphRoutes(app: Hono, context: ServerContext, traces: TurnTraceRecorder): void {
  app.get("/v1/sessions/:sessionId/graph", async (c) => {
    const sessionId = pathId(c, "sessionId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    // Read from the store: every commit is there, and the graph's other branches are never held live.
    const store = context.store.openSession(sessionId);
    const [read, meta] = await Promise.all([store.loadSession({ type: "full_graph" }), store.loadSessionMeta()]);
    if (read === undefined) throw sessionNotFound(sessionId);
    const listed = await context.store.listSessions({ parentSessionId: sessionId, limit: MAX_LISTED_CHILDREN });
    const children: ChildSession[] = listed.sessions
      .map((summary) => ({
        id: summary.sessionId,
        relation: summary.meta?.relation.type ?? "child",
        ...(summary.meta === undefined || summary.meta.sessionName === summary.sessionId ? {} : { title: summary.meta.sessionName }),
        ...(summary.meta === undefined ? {} : { createdAt: summary.meta.createdAt, model: summary.meta.model }),
      }))
      .sort((left, right) => (left.createdAt ?? "").localeCompare(right.createdAt ?? ""));
    const response: SessionGraphResponse = {
      sessionId,
      headRevision: read.headRevision,
      ...(meta === undefined || meta.sessionName === sessionId || meta.sessionName === "" ? {} : { title: meta.sessionName }),
      ...(meta === undefined ? {} : { createdAt: meta.createdAt }),
      ...(read.graph.leafNodeId === undefined ? {} : { leafNodeId: read.graph.leafNodeId }),
      nodes: read.graph.nodes,
      children,
    };
    return c.json(response);
  });

  app.get("/v1/sessions/:sessionId/traces", async (c) => {
    const sessionId = pathId(c, "sessionId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    const response: TurnTraceListResponse = {
      turns: traces.sessionTraces(sessionId).map((trace) => {
        const started = trace.records.find((record) => record.type === "turn_started");
        return {
          turnId: trace.turnId,
          ...(started?.type === "turn_started" ? { turnIndex: started.turnIndex } : {}),
          startedAt: trace.records[0]?.timestamp ?? "",
          complete: trace.complete,
        };
      }),
    };
    return c.json(response);
  });

  app.get("/v1/sessions/:sessionId/turns/:turnId/trace", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const turnId = pathId(c, "turnId");
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    const trace = traces.trace(sessionId, turnId);
    if (trace === undefined) {
      throw new HttpError("turn_not_found", `no trace of turn ${turnId} of session ${sessionId} on this server`, {
        details: { sessionId, turnId, reason: "trace_not_kept" },
      });
    }
    const response: TurnTraceResponse = {
      sessionId,
      turnId,
      complete: trace.complete,
      truncated: trace.truncated,
      records: [...trace.records],
    };
    return c.json(response);
  });
}
