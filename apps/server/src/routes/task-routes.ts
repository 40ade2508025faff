import type { BackgroundTaskHost, BackgroundTaskRecord } from "@lash/protocol";
import { compareCodePoints, UnknownBackgroundTaskError } from "@lash/protocol";
import { listTasksQuerySchema, type TaskListResponse, type TaskResource } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import { singleQueryParameters } from "../http/query-parameters.js";
import { invalidRequest } from "../http/validation-error.js";
import type { ServerContext } from "../server-context.js";

const DEFAULT_TASK_PAGE_SIZE = 50;

/** The reason recorded with a cancel request made over HTTP. */
const CANCEL_REASON = "cancelled through the API";

/**
 * A task cursor is the last listed task's position (`createdAt`, id), wrapped like the session
 * cursors: the prefix and the round trip tell a cursor this server made from one a client made up.
 */
const CURSOR_PREFIX = "lash.tasks.v1:";

interface TaskPosition {
  readonly createdAt: number;
  readonly id: string;
}

function encodeTaskCursor(position: TaskPosition): string {
  return Buffer.from(`${CURSOR_PREFIX}${position.createdAt}:${position.id}`, "utf8").toString("base64url");
}

function decodeTaskCursor(cursor: string): TaskPosition {
  const invalid = () =>
    new HttpError("invalid_cursor", "the cursor is not one this server produced: pass a listing's nextCursor unchanged");
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^lash\.tasks\.v1:(0|[1-9][0-9]{0,15}):(.+)$/s.exec(text);
  if (match === null || encodeTaskCursor({ createdAt: Number(match[1]), id: match[2] ?? "" }) !== cursor) throw invalid();
  return { createdAt: Number(match[1]), id: match[2] ?? "" };
}

/** Oldest first, as a host lists them: by `createdAt`, then id. */
function compareTasks(left: TaskPosition, right: TaskPosition): number {
  return left.createdAt - right.createdAt || compareCodePoints(left.id, right.id);
}

/** The task hosts of the server's profiles, each once (profiles often share one). */
function taskHosts(context: ServerContext): BackgroundTaskHost[] {
  const hosts = new Set<BackgroundTaskHost>();
  for (const name of context.profiles.names) {
    const host = context.profiles.get(name)?.environment.backgroundTaskHost;
    if (host !== undefined) hosts.add(host);
  }
  return [...hosts];
}

/** Another tenant's task is answered exactly as one that does not exist. */
function taskNotFound(taskId: string): HttpError {
  return new HttpError("task_not_found", `no background task ${taskId}`, { details: { taskId } });
}

/**
 * Whether sessions belong to the request's tenant, decided as every session route decides it: by
 * the session's own record (a subagent's child session belongs to its root session's owner).
 * Sessions the owner index gives to another tenant are never loaded; answers are kept per request.
 */
class TenantSessions {
  readonly #context: ServerContext;
  readonly #tenant: string;
  readonly #owned = new Map<string, boolean>();

  constructor(context: ServerContext, tenant: string) {
    this.#context = context;
    this.#tenant = tenant;
  }

  /** Looks the owners of `sessionIds` up in the index at once, before `owns` asks one by one. */
  async prefetch(sessionIds: Iterable<string>): Promise<void> {
    const unknown = [...new Set(sessionIds)].filter((sessionId) => !this.#owned.has(sessionId));
    if (unknown.length === 0) return;
    const owners = await this.#context.store.access.ownersOf(unknown);
    for (const [sessionId, owner] of owners) if (owner !== this.#tenant) this.#owned.set(sessionId, false);
  }

  async owns(sessionId: string): Promise<boolean> {
    const known = this.#owned.get(sessionId);
    if (known !== undefined) return known;
    await this.prefetch([sessionId]);
    if (this.#owned.has(sessionId)) return this.#owned.get(sessionId) === true;
    let owned = true;
    try {
      await this.#context.runtimes.assertOwner(sessionId, this.#tenant);
    } catch (error) {
      // Another tenant's session, or one that no longer exists: its tasks are not this tenant's.
      if (!(error instanceof HttpError && error.code === "session_not_found")) throw error;
      owned = false;
    }
    this.#owned.set(sessionId, owned);
    return owned;
  }
}

/**
 * `/v1/tasks`: the background tasks (subagents, monitors) of the tenant's sessions, on the task
 * hosts of the server's profiles (`RuntimeEnvironment.backgroundTaskHost`), and cancelling one.
 * Another tenant's task is a 404 `task_not_found`, as one that does not exist.
 */
export function registerTaskRoutes(app: Hono, context: ServerContext): void {
  app.get("/v1/tasks", async (c) => {
    const parsed = listTasksQuerySchema.safeParse(singleQueryParameters(c.req.url));
    if (!parsed.success) throw invalidRequest("the query", parsed.error);
    const query = parsed.data;
    const after = query.cursor === undefined ? undefined : decodeTaskCursor(query.cursor);
    const limit = query.limit ?? DEFAULT_TASK_PAGE_SIZE;
    const sessions = new TenantSessions(context, tenantOf(c));
    if (query.sessionId !== undefined && !(await sessions.owns(query.sessionId))) {
      throw new HttpError("session_not_found", `no session ${query.sessionId}`, { details: { sessionId: query.sessionId } });
    }
    const filter = { includeTerminal: query.state === "all", ...(query.sessionId === undefined ? {} : { sessionId: query.sessionId }) };
    const listed = (await Promise.all(taskHosts(context).map((host) => host.list(filter)))).flat();
    const candidates = listed
      .filter((record) => after === undefined || compareTasks(record, after) > 0)
      .sort((left, right) => compareTasks(left, right));
    await sessions.prefetch(candidates.map((record) => record.scope.sessionId));
    // One task past the page tells whether another page follows.
    const page: BackgroundTaskRecord[] = [];
    let more = false;
    for (const record of candidates) {
      if (!(await sessions.owns(record.scope.sessionId))) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(record);
    }
    const last = page.at(-1);
    const response: TaskListResponse = {
      tasks: page,
      ...(more && last !== undefined ? { nextCursor: encodeTaskCursor(last) } : {}),
    };
    return c.json(response);
  });

  app.post("/v1/tasks/:taskId/cancel", async (c) => {
    const taskId = pathId(c, "taskId");
    const sessions = new TenantSessions(context, tenantOf(c));
    for (const host of taskHosts(context)) {
      const record = await host.get(taskId);
      if (record === undefined) continue;
      if (!(await sessions.owns(record.scope.sessionId))) break;
      try {
        const cancelled: TaskResource = await host.requestCancel(taskId, CANCEL_REASON);
        return c.json(cancelled);
      } catch (error) {
        // Gone between the read and the request (a host that forgets ended tasks): as if never there.
        if (UnknownBackgroundTaskError.isInstance(error)) break;
        throw error;
      }
    }
    throw taskNotFound(taskId);
  });
}
