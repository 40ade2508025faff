import type {
  PersistedSessionConfig,
  SessionCheckpoint,
  SessionCommitResult,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  SessionStore,
  SessionStoreCreateRequest,
  SessionStoreFactory,
  TokenLedgerEntry,
} from "@lash/protocol";
import { compareCodePoints, defaultSessionMeta, LashError, sessionListQuerySchema, sessionMetaSchema } from "@lash/protocol";
import { InMemorySessionStore } from "./in-memory-session-store.js";

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
 * A process-local backend holding many sessions: stores opened on it share one listing, like the SQL
 * and filesystem backends. It is also a `SessionStoreFactory`, so child sessions created at runtime
 * land next to their parent. Data lives as long as the object does.
 */
export class InMemorySessionDatabase implements SessionStoreFactory {
  readonly #sessions = new Map<string, StoredSession>();

  /** A store bound to `sessionId` (its data, when it exists, is the session's existing data). */
  openSession(sessionId: string): InMemorySessionStore {
    return new InMemorySessionStore({ sessionId, database: this });
  }

  async createStore(request: SessionStoreCreateRequest): Promise<SessionStore> {
    // Like the SQL and filesystem factories (and the reference): `cwd` is where the host ran.
    const meta = defaultSessionMeta(request, { createdAt: new Date().toISOString(), cwd: process.cwd() });
    const validated = validatedSessionMeta(meta);
    // The check and the write are one synchronous step: with an `await` between them, a meta the host
    // saves in that gap would be overwritten, and the contract says existing meta is kept.
    const stored = this.session(request.sessionId);
    if (stored.meta === undefined) stored.meta = validated;
    return this.openSession(request.sessionId);
  }

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
      throw new LashError("invalid_argument", `invalid session list query at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`);
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
