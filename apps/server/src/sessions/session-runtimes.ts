import { LashRuntime, type ParkedSession } from "@lash/core";
import type { SessionStore } from "@lash/protocol";
import { LOCAL_TENANT } from "../auth/tenant-name.js";
import { HttpError } from "../http/http-error.js";
import type { PreparedProfile, ProfileEnvironments } from "../profiles/profile-environments.js";
import { RecencyMap } from "../recency-map.js";
import type { ServerStore } from "../store/server-store.js";
import { estimateRuntimeBytes, RUNTIME_BASE_BYTES, type RuntimeSizeEstimate } from "./runtime-size.js";
import { foreignSessionRecord, initialSessionState, readServerRecord, type ServerSessionRecord } from "./server-session-record.js";

/** A session's live runtime, with what the server knows about the session. */
export interface LiveSession {
  readonly sessionId: string;
  readonly runtime: LashRuntime;
  readonly profile: PreparedProfile;
  /** The server's record; `createdAt` is absent for a session created outside the server. */
  readonly record: Omit<ServerSessionRecord, "createdAt"> & { readonly createdAt?: string };
}

/** The use of a live runtime by one request (or one running turn); `release` hands it back. */
export interface SessionLease {
  readonly session: LiveSession;
  /** Hands the runtime back; resolves once the pool is within its bounds again (idle runtimes parked). */
  release(): Promise<void>;
}

/** Bounds of the pool. */
export interface SessionRuntimeLimits {
  /**
   * Live runtimes kept between requests (default 1,024); 0 parks every runtime after its request.
   * Sessions in use beyond it are parked and resumed (on SQL stores, read again) at every request:
   * it should exceed the sessions a server serves at once, while `maxLiveRuntimeBytes` bounds memory.
   */
  readonly maxLiveRuntimes: number;
  /**
   * The estimated memory of the live runtimes kept between requests (default 256 MiB;
   * `estimateRuntimeBytes`): past it, idle runtimes are parked least recently used first, so a few
   * sessions with long histories cannot hold more than this however few they are. A runtime in use
   * is never parked, so the pool may pass the bound while its requests and turns run.
   */
  readonly maxLiveRuntimeBytes: number;
  /** Parked sessions remembered, so that their next request resumes without reading their record (default 10,000). */
  readonly maxParkedSessions: number;
}

export const DEFAULT_SESSION_RUNTIME_LIMITS: SessionRuntimeLimits = {
  maxLiveRuntimes: 1_024,
  maxLiveRuntimeBytes: 256 * 1024 * 1024,
  maxParkedSessions: 10_000,
};

/** The owner of a session whose parent chain leads nowhere: no tenant has this name, so no request reaches it. */
const NO_TENANT = "";
/** How many parents are followed to find a child session's owner (subagents of subagents). */
const MAX_PARENT_DEPTH = 16;

/**
 * Another tenant's session is answered exactly as a session that does not exist: a 404 never
 * tells a tenant which ids are taken.
 */
function sessionNotFound(sessionId: string): HttpError {
  return new HttpError("session_not_found", `no session ${sessionId}`, { details: { sessionId } });
}

/**
 * True when the session's store holds nothing any more (no head, no listing data): another
 * instance on the store deleted it. A store without the cheap head probe is not asked (a full load
 * on every request would cost more than this check is worth).
 */
async function deletedElsewhere(store: SessionStore): Promise<boolean> {
  if (store.loadHeadRevision === undefined || (await store.loadHeadRevision()) !== undefined) return false;
  return (await store.loadSessionMeta()) === undefined;
}

interface Entry {
  readonly sessionId: string;
  state: "loading" | "live" | "parking";
  readonly ready: Promise<LiveSession>;
  session: LiveSession | undefined;
  /** Requests and running turns using the runtime: a leased runtime is never parked. */
  leases: number;
  /**
   * The runtime's estimated memory (`estimateRuntimeBytes`), updated when its last lease is released
   * (the next estimate goes on from it); before the first, `RUNTIME_BASE_BYTES` (see `bytesOf`).
   */
  estimate: RuntimeSizeEstimate | undefined;
  /** True while the entry is in the pool's live count and bytes (in the map, not parking). */
  counted: boolean;
  parking: Promise<void> | undefined;
}

/** What an entry counts for in the pool's bytes. */
function bytesOf(entry: Entry): number {
  return entry.estimate?.bytes ?? RUNTIME_BASE_BYTES;
}

interface Remembered {
  readonly parked: ParkedSession;
  readonly record: LiveSession["record"];
}

/**
 * The live runtimes of the server, per session: a request leases a session's runtime (resuming a
 * parked session, or loading one from the store), and hands it back when it is done. Idle runtimes
 * beyond `maxLiveRuntimes` are parked, least recently used first, so a server with many idle
 * sessions holds only their `ParkedSession`s (id, store handle, policy). A runtime that is leased
 * (a request uses it, or one of its turns runs) is never parked.
 */
export class SessionRuntimes {
  /** In least-recently-used order: an entry is moved to the end whenever it is leased. */
  readonly #entries = new RecencyMap<string, Entry>();
  readonly #parked = new RecencyMap<string, Remembered>();
  readonly #store: ServerStore;
  readonly #profiles: ProfileEnvironments;
  readonly #limits: SessionRuntimeLimits;

  constructor(store: ServerStore, profiles: ProfileEnvironments, limits: SessionRuntimeLimits) {
    this.#store = store;
    this.#profiles = profiles;
    this.#limits = limits;
  }

  /** Runtimes held live now (loading or loaded; parking ones are on their way out). */
  get liveCount(): number {
    return this.#liveCount;
  }

  /** The estimated memory of the live runtimes (see `maxLiveRuntimeBytes`). */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  // Kept as entries come and go, so a request's release does not walk the pool.
  #liveCount = 0;
  #liveBytes = 0;

  #count(entry: Entry): void {
    if (entry.counted) return;
    entry.counted = true;
    this.#liveCount += 1;
    this.#liveBytes += bytesOf(entry);
  }

  #uncount(entry: Entry): void {
    if (!entry.counted) return;
    entry.counted = false;
    this.#liveCount -= 1;
    this.#liveBytes -= bytesOf(entry);
  }

  #setEstimate(entry: Entry, estimate: RuntimeSizeEstimate): void {
    if (entry.counted) this.#liveBytes += estimate.bytes - bytesOf(entry);
    entry.estimate = estimate;
  }

  /** Parked sessions remembered. */
  get parkedCount(): number {
    return this.#parked.size;
  }

  /**
   * Creates a session: an empty session with the server's record (profile, metadata, tenant) among
   * its snapshots, committed at once (so it exists, with its owner, for every instance on the
   * store), with listing data. Its owner is recorded in the access store first, so that no session
   * is ever missing from its tenant's listing (an owner whose session was never written is skipped
   * by listings). Its runtime is parked and remembered: the next request resumes it.
   */
  async create(sessionId: string, profile: PreparedProfile, record: ServerSessionRecord): Promise<void> {
    await this.#store.access.assignSession(sessionId, record.tenant);
    try {
      await this.#createSession(sessionId, profile, record);
    } catch (error) {
      await this.#store.access.unassignSession(sessionId).catch(() => undefined);
      throw error;
    }
  }

  async #createSession(sessionId: string, profile: PreparedProfile, record: ServerSessionRecord): Promise<void> {
    const store = this.#store.openSession(sessionId);
    const runtime = await LashRuntime.builder()
      .withEnvironment(profile.environment)
      .withSessionId(sessionId)
      .withStore(store)
      .withPolicy({ model: profile.model, providerId: profile.providerId, maxContextTokens: profile.maxContextTokens })
      .withInitialState(initialSessionState(sessionId, record))
      .build();
    const parked = await runtime.park();
    await store.saveSessionMeta({
      sessionId,
      sessionName: sessionId,
      createdAt: record.createdAt,
      model: profile.model,
      relation: { type: "root" },
    });
    this.#remember(sessionId, { parked, record });
  }

  /**
   * Leases the runtime of `sessionId` for a request of `tenant`, building it when it is not live:
   * from its parked form, else from the store. A session the store does not have, or that another
   * tenant owns, is a 404 `session_not_found`. A runtime this instance kept live first catches up
   * with the store, since other instances on it may have committed turns or decisions, or deleted
   * the session, since; `refresh: false` leaves that out (a turn reads the store's head itself).
   */
  async acquire(sessionId: string, tenant: string, options: { readonly refresh?: boolean } = {}): Promise<SessionLease> {
    // A parked session's owner is known without resuming it.
    const parkedOwner = this.#parked.get(sessionId)?.record.tenant;
    if (parkedOwner !== undefined && parkedOwner !== tenant) throw sessionNotFound(sessionId);
    const { lease, kept } = await this.#lease(sessionId);
    if (lease.session.record.tenant !== tenant) {
      await lease.release();
      throw sessionNotFound(sessionId);
    }
    if (kept && options.refresh !== false) {
      try {
        const store = lease.session.runtime.store;
        if (store !== undefined && (await deletedElsewhere(store))) {
          await this.forget(sessionId);
          throw sessionNotFound(sessionId);
        }
        // The runtime's public read of the store: it adopts a head another writer moved (and leaves a runtime whose turn runs as it is).
        await lease.session.runtime.pendingApprovals();
      } catch (error) {
        await lease.release();
        throw error;
      }
    }
    return lease;
  }

  /**
   * Resolves when `sessionId` exists and `tenant` owns it, else 404 `session_not_found`: for
   * routes that check the owner before touching anything else (a turn's events, cancel, delete).
   * A live or parked session answers from memory; another is loaded (and stays live).
   */
  async assertOwner(sessionId: string, tenant: string): Promise<void> {
    const entry = this.#entries.get(sessionId);
    const known = entry?.session?.record.tenant ?? this.#parked.get(sessionId)?.record.tenant;
    if (known !== undefined) {
      if (known !== tenant) throw sessionNotFound(sessionId);
      return;
    }
    const lease = await this.acquire(sessionId, tenant, { refresh: false });
    await lease.release();
  }

  /** A lease, and whether the runtime was already live here (`kept`) rather than loaded or resumed for it. */
  async #lease(sessionId: string): Promise<{ lease: SessionLease; kept: boolean }> {
    for (;;) {
      const existing = this.#entries.get(sessionId);
      if (existing?.state === "parking") {
        await existing.parking;
        continue;
      }
      const kept = existing?.state === "live";
      const entry = existing ?? this.#load(sessionId);
      entry.leases += 1;
      this.#entries.set(sessionId, entry);
      this.#count(entry);
      let session: LiveSession;
      try {
        session = await entry.ready;
      } catch (error) {
        entry.leases -= 1;
        throw error;
      }
      let released = false;
      const lease: SessionLease = {
        session,
        release: async () => {
          if (released) return;
          released = true;
          entry.leases -= 1;
          // Measured when the runtime goes idle: what it holds changes only while it is used.
          if (entry.leases === 0 && entry.session !== undefined) {
            this.#setEstimate(entry, estimateRuntimeBytes(entry.session.runtime, entry.estimate));
          }
          await this.#parkIdle();
        },
      };
      return { lease, kept };
    }
  }

  /**
   * Forgets a session (it was deleted): its runtime is dropped without parking, since parking
   * would write it again. The caller checked that no turn of it runs.
   */
  async forget(sessionId: string): Promise<void> {
    this.#parked.delete(sessionId);
    const entry = this.#entries.get(sessionId);
    if (entry === undefined) return;
    this.#entries.delete(sessionId);
    this.#uncount(entry);
    await entry.ready.catch(() => undefined);
    await entry.parking?.catch(() => undefined);
    this.#parked.delete(sessionId);
  }

  /** Parks every idle live runtime (at shutdown, after the running turns ended). */
  async parkAll(): Promise<void> {
    const idle = [...this.#entries.values()].filter((entry) => entry.state === "live" && entry.leases === 0);
    await Promise.all(idle.map((entry) => this.#park(entry)));
  }

  #load(sessionId: string): Entry {
    const entry: Entry = {
      sessionId,
      state: "loading",
      ready: this.#open(sessionId),
      session: undefined,
      leases: 0,
      estimate: undefined,
      counted: false,
      parking: undefined,
    };
    entry.ready.then(
      (session) => {
        entry.session = session;
        entry.state = "live";
      },
      () => {
        if (this.#entries.get(sessionId) === entry) this.#entries.delete(sessionId);
        this.#uncount(entry);
      },
    );
    return entry;
  }

  async #open(sessionId: string): Promise<LiveSession> {
    const remembered = this.#parked.get(sessionId);
    if (remembered !== undefined) {
      this.#parked.delete(sessionId);
      // Resuming a session deleted through another instance would start it again, empty.
      if (await deletedElsewhere(remembered.parked.store)) throw sessionNotFound(sessionId);
      const profile = this.#profiles.forSession(remembered.record.profile);
      const runtime = await LashRuntime.resume(remembered.parked, profile.environment);
      return { sessionId, runtime, profile, record: remembered.record };
    }
    // Not parked here (another instance created it, this one restarted, or it was forgotten):
    // its record lives in its checkpoint, which says which profile's environment to build with.
    const store = this.#store.openSession(sessionId);
    const read = await store.loadSession({ type: "active_path" });
    const record =
      readServerRecord(read?.checkpoint?.pluginSnapshots) ??
      foreignSessionRecord(await this.#ownerOfForeignSession(sessionId, store, read !== undefined));
    const profile = this.#profiles.forSession(record.profile);
    const runtime = await LashRuntime.builder()
      .withEnvironment(profile.environment)
      .withStore(store)
      .withPolicy({ model: profile.model, providerId: profile.providerId, maxContextTokens: profile.maxContextTokens })
      .build();
    return { sessionId, runtime, profile, record };
  }

  /**
   * The owner of a session without the server's record: a child session (a subagent's) belongs to
   * the owner of its parent, found through the parents' owners or records; a root session created
   * elsewhere (by the `lash` command) to `local`. A parent that no longer exists leaves its
   * children to no tenant. A session that does not exist is a 404.
   */
  async #ownerOfForeignSession(sessionId: string, store: SessionStore, committed: boolean): Promise<string> {
    let meta = await store.loadSessionMeta();
    if (!committed && meta === undefined) throw sessionNotFound(sessionId);
    for (let depth = 0; depth < MAX_PARENT_DEPTH; depth += 1) {
      const parentId = meta?.parentSessionId;
      if (parentId === undefined) return LOCAL_TENANT;
      const known = this.#parked.get(parentId)?.record.tenant ?? (await this.#store.access.ownersOf([parentId])).get(parentId);
      if (known !== undefined) return known;
      const parentStore = this.#store.openSession(parentId);
      const parentRead = await parentStore.loadSession({ type: "active_path" });
      const parentRecord = readServerRecord(parentRead?.checkpoint?.pluginSnapshots);
      if (parentRecord !== undefined) return parentRecord.tenant;
      meta = await parentStore.loadSessionMeta();
      if (parentRead === undefined && meta === undefined) return NO_TENANT;
    }
    return NO_TENANT;
  }

  /** True when the live runtimes pass `maxLiveRuntimes` or `maxLiveRuntimeBytes`. */
  #overBounds(): boolean {
    return this.#liveCount > this.#limits.maxLiveRuntimes || this.#liveBytes > this.#limits.maxLiveRuntimeBytes;
  }

  /** Parks the least recently used idle runtimes until the pool is within `maxLiveRuntimes` and `maxLiveRuntimeBytes`. */
  async #parkIdle(): Promise<void> {
    const tried = new Set<Entry>();
    while (this.#overBounds()) {
      // The pool itself is walked, from its least recently used entry (a full pool parks one runtime per new session).
      const victim = this.#entries.findOldest((entry) => entry.state === "live" && entry.leases === 0 && !tried.has(entry));
      if (victim === undefined) return;
      tried.add(victim);
      await this.#park(victim);
    }
  }

  async #park(entry: Entry): Promise<void> {
    const session = entry.session;
    if (session === undefined || entry.state !== "live") return;
    entry.state = "parking";
    this.#uncount(entry);
    entry.parking = (async () => {
      try {
        const parked = await session.runtime.park();
        this.#remember(entry.sessionId, { parked, record: session.record });
        if (this.#entries.get(entry.sessionId) === entry) this.#entries.delete(entry.sessionId);
      } catch {
        // `park_failed`: nothing was lost and the runtime stays usable; it is parked again later.
        entry.state = "live";
        if (this.#entries.get(entry.sessionId) === entry) this.#count(entry);
      }
    })();
    await entry.parking;
    entry.parking = undefined;
  }

  #remember(sessionId: string, remembered: Remembered): void {
    this.#parked.set(sessionId, remembered);
    // Forgetting the oldest costs its next request one read of its record; nothing is lost.
    while (this.#parked.size > this.#limits.maxParkedSessions) {
      const oldest = this.#parked.oldestKey();
      if (oldest === undefined) break;
      this.#parked.delete(oldest);
    }
  }
}
