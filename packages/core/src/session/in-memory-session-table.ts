import type {
  PersistedSessionConfig,
  SessionCheckpoint,
  SessionCommitResult,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  TokenLedgerEntry,
} from "@lash/protocol";
import { compareCodePoints, LashError, sessionListQuerySchema, sessionMetaSchema } from "@lash/protocol";

/** One stored node; a tombstoned node is invisible but keeps its id taken until `vacuum`. */
export interface StoredNode {
  record: SessionNodeRecord;
  tombstoned: boolean;
}

export interface StoredHead {
  sessionId: string;
  revision: number;
  config: PersistedSessionConfig;
  leafNodeId: string | undefined;
  /** Content hash of the head's checkpoint in `blobs`. */
  checkpointRef: string;
}

/** Everything stored for one session. */
export interface StoredSession {
  head: StoredHead | undefined;
  nodes: StoredNode[];
  positions: Map<string, number>;
  usage: TokenLedgerEntry[];
  commits: Map<string, { hash: string; result: SessionCommitResult }>;
  meta: SessionMeta | undefined;
  /** Content-addressed checkpoints (the SQL and filesystem stores keep them as blobs too). */
  blobs: Map<string, SessionCheckpoint>;
}

export function emptyStoredSession(): StoredSession {
  return { head: undefined, nodes: [], positions: new Map(), usage: [], commits: new Map(), meta: undefined, blobs: new Map() };
}

const DEFAULT_PAGE_SIZE = 100;

/** `meta` parsed by its schema (a copy); an invalid meta is an `invalid_argument` error. */
export function validatedSessionMeta(meta: SessionMeta): SessionMeta {
  const parsed = sessionMetaSchema.safeParse(meta);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError("invalid_argument", `invalid session meta at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`);
  }
  // A deep copy: the stored meta must not share nested objects (handoff metadata) with the caller's.
  return structuredClone(parsed.data);
}

/**
 * The sessions of the in-memory backend: what its stores read and write, and its listing. Kept
 * apart from `InMemorySessionDatabase` (which opens stores on it) so that the store and the
 * database do not import each other.
 */
export class InMemorySessionTable {
  readonly #sessions = new Map<string, StoredSession>();

  /** The stored data of a session, or `undefined` when nothing of it is stored (reads never create it). */
  existingSession(sessionId: string): StoredSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** The stored data of a session, created empty for a write. */
  session(sessionId: string): StoredSession {
    let stored = this.#sessions.get(sessionId);
    if (!stored) {
      stored = emptyStoredSession();
      this.#sessions.set(sessionId, stored);
    }
    return stored;
  }

  deleteSession(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  listSessions(query: SessionListQuery = {}): SessionListPage {
    const parsed = sessionListQuerySchema.safeParse(query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LashError(
        "invalid_argument",
        `invalid session list query at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
      );
    }
    const { parentSessionId, relationType, cursor } = parsed.data;
    const limit = parsed.data.limit ?? DEFAULT_PAGE_SIZE;
    const matching = [...this.#sessions.entries()]
      .filter(([, stored]) => stored.head !== undefined || stored.meta !== undefined)
      .filter(([, stored]) => parentSessionId === undefined || stored.meta?.parentSessionId === parentSessionId)
      .filter(([, stored]) => relationType === undefined || stored.meta?.relation.type === relationType)
      .map(([sessionId]) => sessionId)
      .filter((sessionId) => cursor === undefined || compareCodePoints(sessionId, cursor) > 0)
      .sort(compareCodePoints);
    const page = matching.slice(0, limit);
    const sessions = page.map((sessionId) => {
      const stored = this.#sessions.get(sessionId) as StoredSession;
      return stored.meta
        ? { sessionId, headRevision: stored.head?.revision ?? 0, meta: structuredClone(stored.meta) }
        : { sessionId, headRevision: stored.head?.revision ?? 0 };
    });
    const last = page.at(-1);
    return matching.length > limit && last !== undefined ? { sessions, nextCursor: last } : { sessions };
  }
}
