import { compareCodePoints } from "@lash/protocol";

/**
 * An API key as it is stored: its public id, its tenant and the SHA-256 of the whole key. The key
 * itself is never stored: whoever reads the store cannot use what they read.
 */
export interface StoredApiKey {
  /** The public part of the key (12 hex digits), shown in listings and used to find the key. */
  readonly id: string;
  /** The tenant every request with the key acts for. */
  readonly tenant: string;
  /** A label for people (`ci`, `support-bot`); absent when none was given. */
  readonly name?: string;
  /** SHA-256 of the whole key, in lowercase hex. */
  readonly hash: string;
  /** When it was created (ISO 8601 UTC). */
  readonly createdAt: string;
  /** When it was revoked (ISO 8601 UTC); absent while it is active. */
  readonly revokedAt?: string;
}

/** A key id that is already taken (ids are random: the caller draws another). */
export class ApiKeyIdTakenError extends Error {
  constructor(id: string) {
    super(`an API key with id ${id} exists`);
    this.name = "ApiKeyIdTakenError";
  }
}

/**
 * The server's own records next to the sessions, in the same store: its API keys, and which tenant
 * owns which session (an index for listings; the session's own record, in its checkpoint, is what
 * decides access). Every method may be called from several server processes on the same store.
 */
export interface ServerAccessStore {
  /** Stores a new key; `ApiKeyIdTakenError` when its id exists. */
  insertApiKey(key: StoredApiKey): Promise<void>;
  /** The key with this id, revoked or not. */
  findApiKey(id: string): Promise<StoredApiKey | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<StoredApiKey[]>;
  /** Marks a key revoked (a revoked key stays revoked, with its first time); `undefined` when there is no such key. */
  revokeApiKey(id: string, revokedAt: string): Promise<StoredApiKey | undefined>;
  /** Records that `tenant` owns `sessionId` (before the session is written, so no session is ever missing from its tenant's listing). */
  assignSession(sessionId: string, tenant: string): Promise<void>;
  /** Forgets a session's owner (the session was deleted). */
  unassignSession(sessionId: string): Promise<void>;
  /** The owners of the sessions among `sessionIds` that have one recorded. */
  ownersOf(sessionIds: readonly string[]): Promise<Map<string, string>>;
  /** Up to `limit` ids of the tenant's sessions after `after`, in ascending code-point order. */
  tenantSessionIds(tenant: string, page: { readonly after?: string; readonly limit: number }): Promise<string[]>;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/**
 * The records in the process's memory: for the `memory:` store, `sqlite::memory:`, and hosts whose
 * store keeps none of its own. They last as long as the process.
 */
export function createMemoryAccessStore(): ServerAccessStore {
  const keys = new Map<string, StoredApiKey>();
  const owners = new Map<string, string>();
  return {
    insertApiKey: async (key) => {
      if (keys.has(key.id)) throw new ApiKeyIdTakenError(key.id);
      keys.set(key.id, { ...key });
    },
    findApiKey: async (id) => {
      const key = keys.get(id);
      return key === undefined ? undefined : { ...key };
    },
    listApiKeys: async () => [...keys.values()].map((key) => ({ ...key })),
    revokeApiKey: async (id, revokedAt) => {
      const key = keys.get(id);
      if (key === undefined) return undefined;
      const revoked = key.revokedAt === undefined ? { ...key, revokedAt } : key;
      keys.set(id, revoked);
      return { ...revoked };
    },
    assignSession: async (sessionId, tenant) => {
      owners.set(sessionId, tenant);
    },
    unassignSession: async (sessionId) => {
      owners.delete(sessionId);
    },
    ownersOf: async (sessionIds) => {
      const found = new Map<string, string>();
      for (const sessionId of sessionIds) {
        const owner = owners.get(sessionId);
        if (owner !== undefined) found.set(sessionId, owner);
      }
      return found;
    },
    // A scan of every session: fine for a store that lives in one process's memory.
    tenantSessionIds: async (tenant, page) =>
      [...owners]
        .filter(([sessionId, owner]) => owner === tenant && (page.after === undefined || compareCodePoints(sessionId, page.after) > 0))
        .map(([sessionId]) => sessionId)
        .sort(compareCodePoints)
        .slice(0, page.limit),
    close: async () => undefined,
  };
}
