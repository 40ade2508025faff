import { z } from "zod";
import { sessionGraphSchema, sessionNodeRecordSchema } from "./graph.js";
import { jsonValueSchema } from "./json.js";
import { persistedSessionConfigSchema, persistedTurnStateSchema, sessionPolicySchema, sessionRelationSchema } from "./session.js";
import { tokenLedgerEntrySchema, tokenUsageSchema } from "./usage.js";

/** Which part of the graph a load returns: every node, or only the active path to a leaf. */
export const sessionReadScopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("full_graph") }),
  z.object({
    type: z.literal("active_path"),
    /** The leaf whose path to load; absent = the head's leaf. */
    leafNodeId: z.string().optional(),
  }),
]);
export type SessionReadScope = z.infer<typeof sessionReadScopeSchema>;

/** The turn counters and opaque snapshots written with every commit. */
export const sessionCheckpointSchema = z.object({
  /** The checkpoint format's version (1). */
  schemaVersion: z.literal(1),
  /** The turn counters and usage. */
  turnState: persistedTurnStateSchema,
  /** The execution mode's state, opaque to the store; absent when the mode keeps none. */
  executionState: jsonValueSchema.optional(),
  /** Plugin snapshots keyed by plugin id, opaque to the store; absent when no plugin keeps one. */
  pluginSnapshots: z.record(z.string(), jsonValueSchema).optional(),
});
export type SessionCheckpoint = z.infer<typeof sessionCheckpointSchema>;

/**
 * How a commit changes the graph: `unchanged` (only moves or keeps the leaf), `append` (inserts new
 * nodes; an id that already exists is an error), `replace_full` (replaces every node of the session).
 */
export const graphCommitDeltaSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("unchanged"),
    /** The new leaf (an existing live node); absent keeps the head's leaf. */
    leafNodeId: z.string().optional(),
  }),
  z.object({
    type: z.literal("append"),
    /** The new nodes, in append order (parents before children). */
    nodes: z.array(sessionNodeRecordSchema),
    /** The new leaf (a live node after the append); absent keeps the head's leaf. */
    leafNodeId: z.string().optional(),
  }),
  z.object({
    type: z.literal("replace_full"),
    /** The whole new graph, leaf included. */
    graph: sessionGraphSchema,
  }),
]);
export type GraphCommitDelta = z.infer<typeof graphCommitDeltaSchema>;

/**
 * How durable a commit must be once `commit` returns (docs/decisions/0030-durability-levels.md):
 * - `turn`: it survives a power loss or an operating-system crash (the end of a turn, a suspension,
 *   an approval decision, a park);
 * - `checkpoint`: it survives the writer's process being killed, and becomes power-loss durable with
 *   the next `turn` commit of the same store (the runtime's prepared and progress checkpoints).
 * A store may always make a commit more durable than asked; a store that knows one level only treats
 * every commit as `turn`.
 */
export const sessionCommitDurabilitySchema = z.enum(["checkpoint", "turn"]);
export type SessionCommitDurability = z.infer<typeof sessionCommitDurabilitySchema>;

/**
 * One atomic write of a session: graph delta, checkpoint, config and usage deltas land together or
 * not at all.
 */
export const sessionCommitSchema = z.object({
  /** The session written; must be the store's bound session. */
  sessionId: z.string().min(1),
  /**
   * The head revision the writer last saw. `undefined` means "this session must not exist yet".
   * A mismatch throws `HeadRevisionConflictError` and writes nothing.
   */
  expectedHeadRevision: z.number().int().nonnegative().optional(),
  /**
   * Idempotency key (the runtime uses `{turnId}:{phase}`). Re-sending a commit with the same id and
   * the same content returns the stored result without writing; the same id with different content
   * throws `CommitIdConflictError`.
   */
  commitId: z.string().min(1),
  /** The session's configuration; it replaces the head's. */
  config: persistedSessionConfigSchema,
  /** How the graph changes. */
  graph: graphCommitDeltaSchema,
  /** The checkpoint; it replaces the head's. */
  checkpoint: sessionCheckpointSchema,
  /** Usage to add to the session's ledger; empty usages (all four counts zero) are dropped. */
  usageDeltas: z.array(tokenLedgerEntrySchema),
  /**
   * How durable the commit must be when `commit` returns; absent = `"turn"`. It says how the commit
   * is written, not what it writes: the stores of this repository leave it out of the content they
   * compare for idempotency, so a re-sent commit is a replay at either level.
   */
  durability: sessionCommitDurabilitySchema.optional(),
});
export type SessionCommit = z.infer<typeof sessionCommitSchema>;

/** The result of a commit. */
export const sessionCommitResultSchema = z.object({
  /** The new head revision (the first commit of a session gets 1). */
  headRevision: z.number().int().positive(),
  /** The commit's id. */
  commitId: z.string(),
  /** True when the commit id had already been applied and nothing was written this time. */
  replayed: z.boolean(),
});
export type SessionCommitResult = z.infer<typeof sessionCommitResultSchema>;

/** What a store returns for a session. */
export const persistedSessionReadSchema = z.object({
  /** The session's id. */
  sessionId: z.string(),
  /** The head revision the read reflects (1 after the first commit). */
  headRevision: z.number().int().nonnegative(),
  /** The configuration of the last commit. */
  config: persistedSessionConfigSchema,
  /** The nodes the read scope selects, and the leaf. */
  graph: sessionGraphSchema,
  /** The checkpoint of the last commit; absent for a store that keeps none. */
  checkpoint: sessionCheckpointSchema.optional(),
  /** The merged ledger: one row per `(source, model)`. */
  tokenLedger: z.array(tokenLedgerEntrySchema),
});
export type PersistedSessionRead = z.infer<typeof persistedSessionReadSchema>;

/** Parameters of `SessionStoreFactory.createStore`. */
export const sessionStoreCreateRequestSchema = z.object({
  /** The session the store is bound to. */
  sessionId: z.string().min(1),
  /** The session that created it; absent for a root session. */
  parentSessionId: z.string().optional(),
  /** How it relates to its parent. */
  relation: sessionRelationSchema,
  /** Its configuration (the meta takes the model from it). */
  policy: sessionPolicySchema,
});
export type SessionStoreCreateRequest = z.infer<typeof sessionStoreCreateRequestSchema>;

/**
 * Listing data of a session, kept apart from its head. Written once when a store is created for a
 * session (or by the host); reopening keeps the existing meta.
 */
export const sessionMetaSchema = z.object({
  /** The session's id. */
  sessionId: z.string().min(1),
  /** A display name; the session id when the host gives none. */
  sessionName: z.string(),
  /** ISO 8601 UTC timestamp of the session's creation. */
  createdAt: z.string(),
  /** The model the session was created with. */
  model: z.string(),
  /** The working directory the host ran in; absent when it gave none. */
  cwd: z.string().optional(),
  /** The session that created it; absent for a root session. */
  parentSessionId: z.string().optional(),
  /** How it relates to its parent. */
  relation: sessionRelationSchema,
});
export type SessionMeta = z.infer<typeof sessionMetaSchema>;

/**
 * A page request for `SessionStore.listSessions`. Sessions are listed in ascending code-point order
 * of their id unless `orderBy` says otherwise; `cursor` is the `nextCursor` of the previous page.
 */
export const sessionListQuerySchema = z.object({
  /** Only sessions whose meta names this parent. */
  parentSessionId: z.string().optional(),
  /** Only sessions whose meta relation has this type. */
  relationType: z.enum(["root", "child", "handoff"]).optional(),
  /** Page size, 1 to 1000 (default 100). */
  limit: z.number().int().min(1).max(1000).optional(),
  /**
   * Where the page starts: the previous page's `nextCursor` (of a query with the same `orderBy`);
   * absent = the first page.
   */
  cursor: z.string().optional(),
  /**
   * The order of the listing: `sessionId` (default), ascending code-point order of id; or
   * `lastActivity`, newest `lastActivityAt` first (ties in descending code-point order of id). A store
   * that keeps no activity times lists in id order whatever this says.
   */
  orderBy: z.enum(["sessionId", "lastActivity"]).optional(),
});
export type SessionListQuery = z.infer<typeof sessionListQuerySchema>;

/** One listed session: every session that has a head or a meta. */
export const sessionSummarySchema = z.object({
  /** The session's id. */
  sessionId: z.string(),
  /** 0 when the session has a meta but no commit yet. */
  headRevision: z.number().int().nonnegative(),
  /** Its listing data; absent when none was saved (or when it could not be read: see `problem`). */
  meta: sessionMetaSchema.optional(),
  /**
   * The summary fields below are kept by the store with each commit, so a listing shows them
   * without loading any session. Each is absent when the store keeps no summary, before the first
   * commit (except `lastActivityAt`), or when it could not be read (see `problem`).
   *
   * The model of the last commit (its config); `meta.model` is the model the session was created with.
   */
  model: z.string().optional(),
  /** Completed turns: the turn counter of the last commit's checkpoint (a killed turn is not counted). */
  turnCount: z.number().int().nonnegative().optional(),
  /**
   * ISO 8601 UTC time of the session's last commit (by the committing process's clock); for a session
   * without a commit, its meta's `createdAt`.
   */
  lastActivityAt: z.string().optional(),
  /** Lifetime usage: the sum of every usage delta committed to the session, all sources and models. */
  tokenUsage: tokenUsageSchema.optional(),
  /**
   * Present when part of the stored session could not be read (a damaged row or file): which field,
   * and what is wrong. The session is still listed, with what could be read; loading it throws.
   */
  problem: z.object({ field: z.string(), message: z.string() }).optional(),
});
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

/** One page of `SessionStore.listSessions`. */
export const sessionListPageSchema = z.object({
  /** The page's sessions, in the query's order (default: ascending code-point order of id). */
  sessions: z.array(sessionSummarySchema),
  /** Present when more sessions follow; pass it as `cursor` to get the next page. */
  nextCursor: z.string().optional(),
});
export type SessionListPage = z.infer<typeof sessionListPageSchema>;

/** What `vacuum` removed: tombstoned nodes deleted for good. */
export const vacuumReportSchema = z.object({
  /** Tombstoned nodes deleted. */
  removedNodeCount: z.number().int().nonnegative(),
});
export type VacuumReport = z.infer<typeof vacuumReportSchema>;

/**
 * What `gcUnreachable` did to the session's content-addressed blobs: roots are the head's checkpoint
 * (0 or 1), retained blobs are reachable from it, every other blob of the session was deleted.
 */
export const gcReportSchema = z.object({
  /** Checkpoints the walk started from (0 or 1). */
  rootCount: z.number().int().nonnegative(),
  /** Blobs reachable from them, kept. */
  retainedBlobCount: z.number().int().nonnegative(),
  /** Blobs deleted. */
  deletedBlobCount: z.number().int().nonnegative(),
});
export type GcReport = z.infer<typeof gcReportSchema>;
