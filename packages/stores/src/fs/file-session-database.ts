import { resolve } from "node:path";
import {
  attachmentByteLimit,
  defaultSessionMeta,
  LashError,
  type SessionListQuery,
  type SessionStoreCreateRequest,
  type SessionStoreFactory,
  sessionStoreCreateRequestSchema,
} from "@lash/protocol";
import type { ListedSessionPage } from "../shared/session-listing.js";
import { FileAccess, type FileSystemOperations } from "./file-access.js";
import { referencedAttachmentIds } from "./file-attachment-references.js";
import { FileAttachmentStore } from "./file-attachment-store.js";
import { FileSessionStore } from "./file-session-store.js";
import { GraphStateCache } from "./session-graph-state.js";
import { listSessions } from "./session-listing.js";

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_CACHED_SESSIONS = 64;

export interface FileSessionDatabaseOptions {
  /** The directory holding every session; created (with its parents) on the first write. */
  readonly root: string;
  /**
   * How long a write waits for the session's write lock (held by another writer of this process or
   * another process) before failing with `StoreUnavailableError`. Default 10 000 ms.
   */
  readonly lockTimeoutMs?: number;
  /**
   * How many sessions' graphs are kept in memory between calls, so that a commit or a load reads only
   * the head and the revisions it has not seen. Default 64.
   */
  readonly cachedSessions?: number;
  /**
   * The `node:fs/promises` functions to use. Only for tests that need a fault they cannot otherwise
   * cause (a full disk); the default is `node:fs/promises`.
   */
  readonly fileSystem?: FileSystemOperations;
  /**
   * The longest attachment (image) `attachments.put` accepts, in bytes. Default 20 MiB
   * (`DEFAULT_MAX_ATTACHMENT_BYTES`); a longer one is refused with `AttachmentTooLargeError`.
   */
  readonly maxAttachmentBytes?: number | undefined;
}

/**
 * Many sessions under one root directory, one directory per session: a `SessionStoreFactory` (child
 * sessions created at runtime land beside their parent) that also opens and lists sessions. Several
 * database objects, in one process or in several, may share a root: writes to a session hold its lock
 * file, and every commit is compare-and-set on the session's head.
 */
export class FileSessionDatabase implements SessionStoreFactory {
  /** The root directory, made absolute. */
  readonly root: string;
  /**
   * The attachment store under the same root (`<root>/attachments/`): where the images of the
   * sessions' messages are kept. A runtime built on this database or one of its stores uses it
   * unless the host gives another one, so images survive a restart with the messages that
   * reference them.
   */
  readonly attachments: FileAttachmentStore;
  readonly #access: FileAccess;
  readonly #cache: GraphStateCache;
  readonly #lockTimeoutMs: number;

  constructor(options: FileSessionDatabaseOptions) {
    if (typeof options.root !== "string" || options.root.length === 0) {
      throw new LashError("invalid_configuration", "createFileSessionDatabase needs a root directory");
    }
    const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (!Number.isFinite(lockTimeoutMs) || lockTimeoutMs < 0) {
      throw new LashError("invalid_configuration", `lockTimeoutMs must be a non-negative number of milliseconds, got ${lockTimeoutMs}`);
    }
    const cachedSessions = options.cachedSessions ?? DEFAULT_CACHED_SESSIONS;
    if (!Number.isInteger(cachedSessions) || cachedSessions < 0) {
      throw new LashError("invalid_configuration", `cachedSessions must be a non-negative integer, got ${cachedSessions}`);
    }
    this.root = resolve(options.root);
    this.#access = new FileAccess(options.fileSystem);
    this.#cache = new GraphStateCache(cachedSessions);
    this.#lockTimeoutMs = lockTimeoutMs;
    this.attachments = new FileAttachmentStore({
      root: this.root,
      access: this.#access,
      maxBytes: attachmentByteLimit(options.maxAttachmentBytes),
      references: () => referencedAttachmentIds(this.#access, this.root, (sessionId) => this.openSession(sessionId)),
    });
  }

  /**
   * A store bound to `sessionId` (its existing data, when there is any). Nothing is written until the
   * store writes. Throws `LashError("invalid_argument")` for an empty id.
   */
  openSession(sessionId: string): FileSessionStore {
    return new FileSessionStore(
      { root: this.root, access: this.#access, cache: this.#cache, lockTimeoutMs: this.#lockTimeoutMs, attachments: this.attachments },
      sessionId,
    );
  }

  /**
   * Opens the store of `request.sessionId` and, when the session has no meta yet, writes it: name =
   * session id, creation time, the policy's model, this process's working directory, parent and
   * relation. Existing meta is kept.
   */
  async createStore(request: SessionStoreCreateRequest): Promise<FileSessionStore> {
    const parsed = sessionStoreCreateRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LashError(
        "invalid_argument",
        `invalid store request at \`${issue?.path.map((segment) => String(segment)).join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
      );
    }
    const store = this.openSession(parsed.data.sessionId);
    const meta = defaultSessionMeta(parsed.data, { createdAt: new Date().toISOString(), cwd: process.cwd() });
    await store.saveSessionMetaIfAbsent(meta);
    return store;
  }

  /** Lists the sessions under the root (see `SessionStore.listSessions`). */
  async listSessions(query?: SessionListQuery): Promise<ListedSessionPage> {
    return listSessions(this.#access, this.root, query);
  }

  /** Drops the graphs kept in memory. The object stays usable; nothing on disk changes. */
  async close(): Promise<void> {
    this.#cache.clear();
  }
}

/**
 * A filesystem session database over `options.root` (see {@link FileSessionDatabase}).
 *
 * @example
 * const database = createFileSessionDatabase({ root: "./sessions" });
 * const store = database.openSession("session-1");
 */
export function createFileSessionDatabase(options: FileSessionDatabaseOptions): FileSessionDatabase {
  return new FileSessionDatabase(options);
}
