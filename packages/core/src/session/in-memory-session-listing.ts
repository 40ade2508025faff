import type { SessionCommit, SessionListPage, SessionListQuery, SessionMeta, SessionSummary, TokenUsage } from "@lash/protocol";
import { addTokenUsage, compareCodePoints, emptyTokenUsage, isEmptyTokenUsage, LashError, sessionListQuerySchema } from "@lash/protocol";
import { jsonCopy } from "./in-memory-commit-content.js";

/**
 * A session's listing summary, kept with every commit as the SQL and filesystem stores keep theirs:
 * a listing shows it without reading the session. Before the first commit only the activity time
 * (the meta's creation) is known.
 */
export interface StoredSummary {
  readonly lastActivityAt: string;
  /** Absent until the first commit. */
  readonly committed?: {
    readonly model: string;
    readonly turnCount: number;
    /** Lifetime usage: every committed usage delta, summed. */
    readonly tokenUsage: TokenUsage;
  };
}

/** The summary a session with a meta and no commit gets: its activity is its creation. */
export function metaSummary(meta: SessionMeta): StoredSummary {
  return { lastActivityAt: meta.createdAt };
}

/** The summary after `commit` (validated, about to be applied) at `now`: the head's fields, usage added. */
export function commitSummary(previous: StoredSummary | undefined, commit: Omit<SessionCommit, "durability">, now: string): StoredSummary {
  let tokenUsage = previous?.committed?.tokenUsage ?? emptyTokenUsage();
  for (const entry of commit.usageDeltas) if (!isEmptyTokenUsage(entry.usage)) tokenUsage = addTokenUsage(tokenUsage, entry.usage);
  return {
    lastActivityAt: now,
    committed: { model: commit.config.model, turnCount: commit.checkpoint.turnState.turnIndex, tokenUsage },
  };
}

/** What the listing reads of one stored session. */
export interface ListableSession {
  readonly sessionId: string;
  readonly headRevision: number | undefined;
  readonly meta: SessionMeta | undefined;
  readonly summary: StoredSummary | undefined;
}

const DEFAULT_PAGE_SIZE = 100;

function parsedQuery(query: SessionListQuery): SessionListQuery {
  const parsed = sessionListQuerySchema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new LashError(
    "invalid_argument",
    `invalid session list query at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
  );
}

/** Where a page of the activity order starts: after this session, in (activity, id) descending. */
interface ActivityPosition {
  readonly lastActivityAt: string;
  readonly sessionId: string;
}

/** Reads a `nextCursor` of the activity order (`["<activity>","<id>"]`, as the SQL store writes it). */
function activityPosition(cursor: string): ActivityPosition {
  let value: unknown;
  try {
    value = JSON.parse(cursor);
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") {
    return { lastActivityAt: value[0], sessionId: value[1] };
  }
  throw new LashError(
    "invalid_argument",
    "invalid session list query at `cursor`: not a cursor of the `lastActivity` order (pass the `nextCursor` of the previous page)",
  );
}

function activityOf(session: ListableSession): string {
  return session.summary?.lastActivityAt ?? "";
}

/** Newest activity first, ties in descending code-point order of id. */
function byActivity(left: ListableSession, right: ListableSession): number {
  const leftActivity = activityOf(left);
  const rightActivity = activityOf(right);
  if (leftActivity !== rightActivity) return leftActivity < rightActivity ? 1 : -1;
  return compareCodePoints(right.sessionId, left.sessionId);
}

function isAfter(session: ListableSession, position: ActivityPosition): boolean {
  const activity = activityOf(session);
  if (activity !== position.lastActivityAt) return activity < position.lastActivityAt;
  return compareCodePoints(session.sessionId, position.sessionId) < 0;
}

/** A listing entry: the head revision, a copy of the meta, and the summary fields. */
function listed(session: ListableSession): SessionSummary {
  const { summary } = session;
  const committed = session.headRevision === undefined ? undefined : summary?.committed;
  return {
    sessionId: session.sessionId,
    headRevision: session.headRevision ?? 0,
    ...(session.meta === undefined ? {} : { meta: jsonCopy(session.meta, "the session meta") }),
    ...(committed === undefined ? {} : { model: committed.model, turnCount: committed.turnCount }),
    ...(summary === undefined ? {} : { lastActivityAt: summary.lastActivityAt }),
    ...(committed === undefined ? {} : { tokenUsage: { ...committed.tokenUsage } }),
  };
}

/**
 * One page of `sessions` (every session with a head or a meta): in code-point order of id, or
 * newest activity first (`orderBy: "lastActivity"`, ties by descending id); filters read the meta.
 */
export function listSessionPage(sessions: readonly ListableSession[], query: SessionListQuery = {}): SessionListPage {
  const { parentSessionId, relationType, cursor, orderBy, limit: requestedLimit } = parsedQuery(query);
  const limit = requestedLimit ?? DEFAULT_PAGE_SIZE;
  const activityOrder = orderBy === "lastActivity";
  const position = activityOrder && cursor !== undefined ? activityPosition(cursor) : undefined;
  const matching = sessions.filter(
    (session) =>
      (session.headRevision !== undefined || session.meta !== undefined) &&
      (parentSessionId === undefined || session.meta?.parentSessionId === parentSessionId) &&
      (relationType === undefined || session.meta?.relation.type === relationType) &&
      (activityOrder
        ? position === undefined || isAfter(session, position)
        : cursor === undefined || compareCodePoints(session.sessionId, cursor) > 0),
  );
  matching.sort(activityOrder ? byActivity : (left, right) => compareCodePoints(left.sessionId, right.sessionId));
  const page = matching.slice(0, limit);
  const last = page.at(-1);
  const result: SessionListPage = { sessions: page.map(listed) };
  if (matching.length <= limit || last === undefined) return result;
  return { ...result, nextCursor: activityOrder ? JSON.stringify([activityOf(last), last.sessionId]) : last.sessionId };
}
