import { join } from "node:path";
import {
  compareCodePoints,
  InvalidPersistedDataError,
  LashError,
  type SessionListPage,
  type SessionListQuery,
  type SessionSummary,
  sessionListQuerySchema,
} from "@lash/protocol";
import type { FileAccess } from "./file-access.js";
import { type EncodedNameOrder, encodedNameOrder, encodeIdAsFileName, idHex, sortsAtOrBeforeCursor } from "./file-name-encoding.js";
import { fileLabels, headFileSchema, metaFileSchema, readStoredFile, SESSIONS_DIRECTORY } from "./session-files.js";

const DEFAULT_PAGE_SIZE = 100;
/** Sessions whose files are read at once while filling a page. */
const READ_BATCH_SIZE = 32;

interface NamedEntry {
  readonly name: string;
  readonly order: EncodedNameOrder;
}

/** A listed session as read from its files, before filtering. */
interface ListedSession {
  readonly summary: SessionSummary;
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
 * Reads what listing shows of one session directory: its id (from its files, checked against the
 * directory name), head revision and meta. `undefined` for a directory with neither head nor meta
 * (created by a write that never finished).
 */
async function readListedSession(access: FileAccess, sessionsDirectory: string, name: string): Promise<ListedSession | undefined> {
  const directory = join(sessionsDirectory, name);
  const labelOf = (file: string): string => `${SESSIONS_DIRECTORY}/${name}/${file}`;
  const [head, metaFile] = await Promise.all([
    readStoredFile(access, undefined, join(directory, fileLabels.head), labelOf(fileLabels.head), headFileSchema),
    readStoredFile(access, undefined, join(directory, fileLabels.meta), labelOf(fileLabels.meta), metaFileSchema),
  ]);
  if (head === undefined && metaFile === undefined) return undefined;
  const sessionId = head?.sessionId ?? metaFile?.meta.sessionId ?? "";
  const label = labelOf(head === undefined ? `${fileLabels.meta}.meta` : fileLabels.head);
  if (encodeIdAsFileName(sessionId, "session id") !== name) {
    throw new InvalidPersistedDataError(sessionId, `${label}.sessionId`, `the id does not belong to the directory \`${name}\``);
  }
  if (head !== undefined && metaFile !== undefined && metaFile.meta.sessionId !== sessionId) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${labelOf(fileLabels.meta)}.meta.sessionId`,
      `the meta names session \`${metaFile.meta.sessionId}\``,
    );
  }
  const summary: SessionSummary =
    metaFile === undefined
      ? { sessionId, headRevision: head?.revision ?? 0 }
      : { sessionId, headRevision: head?.revision ?? 0, meta: metaFile.meta };
  return { summary };
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
 * page is full; with a filter, that may be every later session.
 */
export async function listSessions(access: FileAccess, root: string, query: SessionListQuery = {}): Promise<SessionListPage> {
  const { parentSessionId, relationType, cursor, limit = DEFAULT_PAGE_SIZE } = parseQuery(query);
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

  const matching: SessionSummary[] = [];
  for (let start = 0; start < entries.length && matching.length <= limit; ) {
    const batch = nextBatch(entries, start);
    start += batch.length;
    const listed = await Promise.all(batch.map((entry) => readListedSession(access, sessionsDirectory, entry.name)));
    const summaries = listed
      .flatMap((session) => (session === undefined ? [] : [session.summary]))
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
