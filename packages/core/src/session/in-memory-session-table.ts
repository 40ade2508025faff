import type {
  PersistedSessionConfig,
  SessionCheckpoint,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  TokenLedgerEntry,
} from "@lash/protocol";
import { LashError, sessionMetaSchema } from "@lash/protocol";
import { jsonCopy, type StoredCommit } from "./in-memory-commit-content.js";
import { type ListableSession, listSessionPage, type StoredSummary } from "./in-memory-session-listing.js";

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
  /** Key of the head's checkpoint in `blobs`. */
  checkpointRef: string;
}

/** Everything stored for one session. */
export interface StoredSession {
  head: StoredHead | undefined;
  nodes: StoredNode[];
  positions: Map<string, number>;
  usage: TokenLedgerEntry[];
  commits: Map<string, StoredCommit>;
  meta: SessionMeta | undefined;
  /**
   * Checkpoints, each stored once (the SQL and filesystem stores keep them as blobs too): a commit
   * whose checkpoint equals the head's shares the head's, and `gcUnreachable` deletes all but the head's.
   */
  blobs: Map<string, SessionCheckpoint>;
  /** The number in the key of the next new blob. */
  nextBlob: number;
  /** What a listing shows without reading the session; absent before the first commit or meta. */
  summary: StoredSummary | undefined;
}

export function emptyStoredSession(): StoredSession {
  return {
    head: undefined,
    nodes: [],
    positions: new Map(),
    usage: [],
    commits: new Map(),
    meta: undefined,
    blobs: new Map(),
    nextBlob: 1,
    summary: undefined,
  };
}

/** `meta` parsed by its schema (a copy); an invalid meta is an `invalid_argument` error. */
export function validatedSessionMeta(meta: SessionMeta): SessionMeta {
  const parsed = sessionMetaSchema.safeParse(meta);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError("invalid_argument", `invalid session meta at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`);
  }
  // A deep copy: the stored meta must not share nested objects (handoff metadata) with the caller's.
  return jsonCopy(parsed.data, "the session meta");
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

  /** One page of the sessions (see `listSessionPage`): by id, or newest activity first. */
  listSessions(query: SessionListQuery = {}): SessionListPage {
    const sessions: ListableSession[] = [];
    for (const [sessionId, stored] of this.#sessions) {
      sessions.push({ sessionId, headRevision: stored.head?.revision, meta: stored.meta, summary: stored.summary });
    }
    return listSessionPage(sessions, query);
  }
}
