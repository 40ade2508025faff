import { join } from "node:path";
import {
  compareCodePoints,
  InvalidPersistedDataError,
  LashError,
  type SessionListQuery,
  type SessionMeta,
  sessionListQuerySchema,
} from "@lash/protocol";
import { parseJsonWithinDepth } from "../shared/json-depth.js";
import { type ListedSession, type ListedSessionPage, listingProblem, type SessionListingProblem } from "../shared/session-listing.js";
import type { FileAccess } from "./file-access.js";
import {
  decodeShortFileName,
  type EncodedNameOrder,
  encodedNameOrder,
  encodeIdAsFileName,
  idHex,
  sortsAtOrBeforeCursor,
} from "./file-name-encoding.js";
import {
  expectSessionId,
  fileLabels,
  type HeadFile,
  headFileSchema,
  metaFileSchema,
  parseStoredJson,
  SESSIONS_DIRECTORY,
} from "./session-files.js";

const DEFAULT_PAGE_SIZE = 100;
/** Sessions whose files are read at once while filling a page. */
const READ_BATCH_SIZE = 32;

interface NamedEntry {
  readonly name: string;
  readonly order: EncodedNameOrder;
}

function parseQuery(query: SessionListQuery): SessionListQuery {
  const parsed = sessionListQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError(
      "invalid_argument",
      `invalid session list query at \`${issue?.path.map((segment) => String(segment)).join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/**
 * The session ids a stored file's text names (`sessionId`, or `meta.sessionId`), read leniently: the
 * file may be damaged, so the caller keeps only an id that encodes to the directory's name.
 */
function namedSessionIds(text: string | undefined): string[] {
  if (text === undefined) return [];
  const reading = parseJsonWithinDepth(text);
  if (reading.ok && typeof reading.value === "object" && reading.value !== null) {
    const value = reading.value as { sessionId?: unknown; meta?: { sessionId?: unknown } };
    return [value.sessionId, value.meta?.sessionId].filter((id): id is string => typeof id === "string" && id !== "");
  }
  // Unparseable text: any `"sessionId":"..."` it still holds.
  const ids: string[] = [];
  for (const match of text.matchAll(/"sessionId"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    const literal = match[1];
    if (literal === undefined) continue;
    const reading = parseJsonWithinDepth(literal);
    if (reading.ok && typeof reading.value === "string" && reading.value !== "") ids.push(reading.value);
  }
  return ids;
}

/** `read()`, or `undefined` with the damage recorded (the first one) when it throws `InvalidPersistedDataError`. */
function readable<Value>(problems: SessionListingProblem[], read: () => Value): Value | undefined {
  try {
    return read();
  } catch (error) {
    if (!InvalidPersistedDataError.isInstance(error)) throw error;
    problems.push(listingProblem(error));
    return undefined;
  }
}

/**
 * Reads what listing shows of one session directory: its id, head revision and meta. The id comes
 * from the files, or from the directory's name when no file names it (checked against the name
 * either way). Damage (a file that does not parse, a file of another session) does not fail the
 * listing: the session is listed without what could not be read and with `problem`. `undefined` for
 * a directory with neither head nor meta (created by a write that never finished), and for a damaged
 * one whose id nothing tells (a long id whose files are all unreadable).
 */
async function readListedSession(access: FileAccess, sessionsDirectory: string, name: string): Promise<ListedSession | undefined> {
  const directory = join(sessionsDirectory, name);
  const [headText, metaText] = await Promise.all([
    access.readTextIfExists(join(directory, fileLabels.head)),
    access.readTextIfExists(join(directory, fileLabels.meta)),
  ]);
  if (headText === undefined && metaText === undefined) return undefined;
  const belongs = (id: string): boolean => encodeIdAsFileName(id, "session id") === name;
  const sessionId = [...namedSessionIds(headText), ...namedSessionIds(metaText), decodeShortFileName(name)].find(
    (id): id is string => id !== undefined && belongs(id),
  );
  if (sessionId === undefined) return undefined;

  const problems: SessionListingProblem[] = [];
  const head =
    headText === undefined
      ? undefined
      : readable(problems, () => {
          const parsed = parseStoredJson(sessionId, fileLabels.head, headText, headFileSchema);
          expectSessionId(sessionId, fileLabels.head, parsed.sessionId);
          return parsed;
        });
  const metaFile =
    metaText === undefined
      ? undefined
      : readable(problems, () => {
          const parsed = parseStoredJson(sessionId, fileLabels.meta, metaText, metaFileSchema);
          expectSessionId(sessionId, `${fileLabels.meta}.meta`, parsed.meta.sessionId);
          return parsed;
        });
  const problem = problems[0];
  return {
    sessionId,
    headRevision: head?.revision ?? 0,
    ...(metaFile === undefined ? {} : { meta: metaFile.meta }),
    // A head that exists but cannot be read tells nothing, not even that the session is empty.
    ...(headText !== undefined && head === undefined ? {} : summaryFields(head, metaFile?.meta)),
    ...(problem === undefined ? {} : { problem }),
  };
}

/**
 * The summary fields of a listing entry, from the head (written with each commit) or, for a session
 * without a commit, the meta's creation time. A head written before summaries existed gives its
 * model only.
 */
function summaryFields(head: HeadFile | undefined, meta: SessionMeta | undefined): Partial<ListedSession> {
  if (head === undefined) return meta === undefined ? {} : { lastActivityAt: meta.createdAt };
  const { summary } = head;
  if (summary === undefined) return { model: head.config.model };
  return { model: head.config.model, turnCount: summary.turnCount, lastActivityAt: summary.committedAt, tokenUsage: summary.tokenUsage };
}

/**
 * The next batch of entries to read: at least {@link READ_BATCH_SIZE}, extended so that long names
 * sharing a prefix (whose order only their stored ids settle) are never split across batches.
 */
function nextBatch(entries: readonly NamedEntry[], start: number): readonly NamedEntry[] {
  let end = Math.min(entries.length, start + READ_BATCH_SIZE);
  while (end < entries.length && end > start) {
    const last = entries[end - 1];
    const following = entries[end];
    if (
      last === undefined ||
      following === undefined ||
      !last.order.isLong ||
      !following.order.isLong ||
      last.order.prefixHex !== following.order.prefixHex
    )
      break;
    end += 1;
  }
  return entries.slice(start, end);
}

/**
 * Lists the sessions under `root` (the `SessionStore.listSessions` contract): every session with a
 * head or a meta, in code-point order of id, filtered by the meta's parent and relation type, one
 * page at a time. Directory names order the sessions without reading them (see
 * `file-name-encoding.ts`), so a page reads the files of the sessions after the cursor until the
 * page is full; with a filter, that may be every later session. A damaged session is listed with
 * `problem` (a filter reads its meta, so a session whose meta is damaged matches no filter).
 */
export async function listSessions(access: FileAccess, root: string, query: SessionListQuery = {}): Promise<ListedSessionPage> {
  const { parentSessionId, relationType, cursor, limit = DEFAULT_PAGE_SIZE, orderBy } = parseQuery(query);
  if (orderBy === "lastActivity") return listByActivity(access, root, { parentSessionId, relationType, cursor, limit });
  const sessionsDirectory = join(root, SESSIONS_DIRECTORY);
  const cursorHex = cursor === undefined ? undefined : idHex(cursor);
  const entries: NamedEntry[] = [];
  for (const name of await access.listDirectory(sessionsDirectory)) {
    const order = encodedNameOrder(name);
    if (order === undefined) continue;
    if (cursorHex !== undefined && sortsAtOrBeforeCursor(order, cursorHex)) continue;
    entries.push({ name, order });
  }
  // Names are lowercase hex and `-`: plain comparison is byte order, and byte order is id order.
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));

  const matching: ListedSession[] = [];
  for (let start = 0; start < entries.length && matching.length <= limit; ) {
    const batch = nextBatch(entries, start);
    start += batch.length;
    const listed = await Promise.all(batch.map((entry) => readListedSession(access, sessionsDirectory, entry.name)));
    const summaries = listed
      .flatMap((session) => (session === undefined ? [] : [session]))
      .filter((summary) => cursor === undefined || compareCodePoints(summary.sessionId, cursor) > 0)
      .filter((summary) => parentSessionId === undefined || summary.meta?.parentSessionId === parentSessionId)
      .filter((summary) => relationType === undefined || summary.meta?.relation.type === relationType)
      .sort((left, right) => compareCodePoints(left.sessionId, right.sessionId));
    matching.push(...summaries);
  }
  const sessions = matching.slice(0, limit);
  const last = sessions.at(-1);
  return matching.length > limit && last !== undefined ? { sessions, nextCursor: last.sessionId } : { sessions };
}

/** Where a page of the activity order starts: after this session, in (activity, id) descending. */
interface ActivityPosition {
  readonly lastActivityAt: string;
  readonly sessionId: string;
}

/** Reads a `nextCursor` of the activity order (`["<activity>","<id>"]`), the format the SQL store uses too. */
function parseActivityCursor(cursor: string): ActivityPosition {
  const reading = parseJsonWithinDepth(cursor);
  const value = reading.ok ? reading.value : undefined;
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") {
    return { lastActivityAt: value[0], sessionId: value[1] };
  }
  throw new LashError(
    "invalid_argument",
    "invalid session list query at `cursor`: not a cursor of the `lastActivity` order (pass the `nextCursor` of the previous page)",
  );
}

/** Newest first by (activity, id); a session with no activity time (a head of an older version) sorts last. */
function compareByActivity(left: ListedSession, right: ListedSession): number {
  return compareCodePoints(right.lastActivityAt ?? "", left.lastActivityAt ?? "") || compareCodePoints(right.sessionId, left.sessionId);
}

/**
 * The activity order: no file name tells a session's activity, so every session's head and meta
 * are read (small files, never a graph) and sorted; the cost grows with the number of sessions, not
 * with their size (see the stores README).
 */
async function listByActivity(
  access: FileAccess,
  root: string,
  query: { parentSessionId?: string | undefined; relationType?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<ListedSessionPage> {
  const position = query.cursor === undefined ? undefined : parseActivityCursor(query.cursor);
  const sessionsDirectory = join(root, SESSIONS_DIRECTORY);
  const names = (await access.listDirectory(sessionsDirectory)).filter((name) => encodedNameOrder(name) !== undefined);
  const sessions: ListedSession[] = [];
  for (let start = 0; start < names.length; start += READ_BATCH_SIZE) {
    const listed = await Promise.all(
      names.slice(start, start + READ_BATCH_SIZE).map((name) => readListedSession(access, sessionsDirectory, name)),
    );
    for (const session of listed) {
      if (session === undefined) continue;
      if (query.parentSessionId !== undefined && session.meta?.parentSessionId !== query.parentSessionId) continue;
      if (query.relationType !== undefined && session.meta?.relation.type !== query.relationType) continue;
      if (position !== undefined) {
        const after = compareByActivity(
          { sessionId: position.sessionId, headRevision: 0, lastActivityAt: position.lastActivityAt },
          session,
        );
        if (after >= 0) continue;
      }
      sessions.push(session);
    }
  }
  sessions.sort(compareByActivity);
  const page = sessions.slice(0, query.limit);
  const last = page.at(-1);
  return sessions.length > query.limit && last !== undefined
    ? { sessions: page, nextCursor: JSON.stringify([last.lastActivityAt ?? "", last.sessionId]) }
    : { sessions: page };
}
