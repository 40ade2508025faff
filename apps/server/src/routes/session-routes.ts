import { randomUUID } from "node:crypto";
import type { SessionSummary } from "@lash/protocol";
import {
  createSessionRequestSchema,
  type DeleteSessionResponse,
  listSessionsQuerySchema,
  type SessionListItem,
  type SessionListResponse,
  type SessionResource,
  type SessionState,
  type UsageReport,
} from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import { readJsonBody } from "../http/read-json-body.js";
import { invalidRequest } from "../http/validation-error.js";
import { DEFAULT_PROFILE_NAME } from "../profiles/agent-profile.js";
import { assertAcceptingWork, type ServerContext } from "../server-context.js";
import type { LiveSession } from "../sessions/session-runtimes.js";
import { listTenantSessions } from "../sessions/tenant-sessions.js";
import { decodeCursor, encodeCursor } from "./session-cursor.js";
import { sessionUsageReport } from "./session-usage.js";

const DEFAULT_PAGE_SIZE = 20;

function resourceOf(session: LiveSession): SessionResource {
  const { record, runtime } = session;
  return {
    id: session.sessionId,
    profile: record.profile,
    metadata: { ...record.metadata },
    ...(record.createdAt === undefined ? {} : { createdAt: record.createdAt }),
    model: runtime.policy.model,
    turnIndex: runtime.exportState().turnIndex,
  };
}

/** A listed session: the store's summary, without loading the session. */
function listItemOf(summary: SessionSummary): SessionListItem {
  const title = summary.meta?.sessionName;
  return {
    id: summary.sessionId,
    headRevision: summary.headRevision,
    ...(summary.meta === undefined ? {} : { createdAt: summary.meta.createdAt, model: summary.meta.model }),
    // A session named after its id (the server's own) has no title of its own.
    ...(title === undefined || title === summary.sessionId || title === "" ? {} : { title }),
    ...(summary.turnCount === undefined ? {} : { turnCount: summary.turnCount }),
    ...(summary.lastActivityAt === undefined ? {} : { lastActivityAt: summary.lastActivityAt }),
    ...(summary.tokenUsage === undefined ? {} : { tokenUsage: { ...summary.tokenUsage } }),
    ...(summary.problem === undefined ? {} : { problem: { field: summary.problem.field, message: summary.problem.message } }),
  };
}

/** `?q=`: the text in the title or the id, ignoring case. */
function matchesSearch(item: SessionListItem, search: string): boolean {
  return item.id.toLowerCase().includes(search) || (item.title?.toLowerCase().includes(search) ?? false);
}

/** Runs `use` on the session's leased runtime (404 unless `tenant` owns it) and hands it back, whatever happens. */
export async function withSession<Value>(
  context: ServerContext,
  sessionId: string,
  tenant: string,
  use: (session: LiveSession) => Promise<Value>,
): Promise<Value> {
  const lease = await context.runtimes.acquire(sessionId, tenant);
  try {
    return await use(lease.session);
  } finally {
    await lease.release();
  }
}

/** The query parameters, each at most once (a repeated one is ambiguous, so refused). */
function singleQueryParameters(url: string): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URL(url).searchParams) {
    if (Object.hasOwn(parameters, name)) throw new HttpError("invalid_request", `the query parameter ${name} is given more than once`);
    parameters[name] = value;
  }
  return parameters;
}

/** `/v1/sessions`: create, list, read, delete, usage; each session is its tenant's only (another tenant's is a 404). */
export function registerSessionRoutes(app: Hono, context: ServerContext): void {
  app.post("/v1/sessions", async (c) => {
    assertAcceptingWork(context);
    const body = await readJsonBody(c.req.raw, createSessionRequestSchema, context.maxBodyBytes);
    const profileName = body.profile ?? DEFAULT_PROFILE_NAME;
    const profile = context.profiles.get(profileName);
    if (profile === undefined) {
      throw new HttpError("unknown_profile", `no agent profile ${profileName}`, {
        details: { profile: profileName, profiles: context.profiles.names },
      });
    }
    const sessionId = randomUUID();
    const record = { profile: profileName, metadata: body.metadata ?? {}, createdAt: new Date().toISOString() };
    await context.runtimes.create(sessionId, profile, { ...record, tenant: tenantOf(c) });
    const resource: SessionResource = { id: sessionId, ...record, model: profile.model, turnIndex: 0 };
    return c.json(resource, 201, { location: `/v1/sessions/${sessionId}` });
  });

  app.get("/v1/sessions", async (c) => {
    const parsed = listSessionsQuerySchema.safeParse(singleQueryParameters(c.req.url));
    if (!parsed.success) throw invalidRequest("the query", parsed.error);
    const cursor = parsed.data.cursor === undefined ? undefined : decodeCursor(parsed.data.cursor);
    const page = await listTenantSessions(context.store, tenantOf(c), {
      limit: parsed.data.limit ?? DEFAULT_PAGE_SIZE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    const search = parsed.data.q?.toLowerCase();
    const response: SessionListResponse = {
      sessions: page.sessions.map(listItemOf).filter((item) => search === undefined || matchesSearch(item, search)),
      ...(page.nextCursor === undefined ? {} : { nextCursor: encodeCursor(page.nextCursor) }),
    };
    return c.json(response);
  });

  app.get("/v1/sessions/:sessionId", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const state = await withSession(context, sessionId, tenantOf(c), async (session): Promise<SessionState> => {
      const { runtime } = session;
      const envelope = runtime.exportState();
      const running = context.turns.runningTurnOf(sessionId);
      const pending = await runtime.pendingApprovals();
      return {
        ...resourceOf(session),
        policy: runtime.policy,
        usage: { lastTurn: envelope.tokenUsage, ledger: runtime.tokenLedger() },
        messages: runtime.activeMessages(),
        ...(running === undefined ? {} : { runningTurnId: running.turnId }),
        awaitingApproval: pending.some((request) => request.sessionId === sessionId),
      };
    });
    return c.json(state);
  });

  app.delete("/v1/sessions/:sessionId", async (c) => {
    const sessionId = pathId(c, "sessionId");
    // The owner first: whether another tenant's session runs a turn is not this tenant's to know.
    await context.runtimes.assertOwner(sessionId, tenantOf(c));
    const running = context.turns.runningTurnOf(sessionId);
    if (running !== undefined) {
      throw new HttpError("turn_in_progress", `a turn of session ${sessionId} is running; cancel it first`, {
        details: { sessionId, turnId: running.turnId },
      });
    }
    const store = context.store.openSession(sessionId);
    await context.runtimes.forget(sessionId);
    context.turns.forgetSession(sessionId);
    await store.deleteSession();
    // After the session: an owner left behind by a failure here names nothing, and listings skip it.
    await context.store.access.unassignSession(sessionId);
    const response: DeleteSessionResponse = { id: sessionId, deleted: true };
    return c.json(response);
  });

  app.get("/v1/sessions/:sessionId/usage", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const report = await withSession(
      context,
      sessionId,
      tenantOf(c),
      async (session): Promise<UsageReport> => sessionUsageReport(session.runtime.usageReport(), context.prices),
    );
    return c.json(report);
  });
}
