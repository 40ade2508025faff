import { z } from "zod";
import { sessionGraphSchema, sessionNodeRecordSchema } from "./graph.js";
import { jsonValueSchema } from "./json.js";
import { persistedSessionConfigSchema, persistedTurnStateSchema, sessionPolicySchema, sessionRelationSchema } from "./session.js";
import { tokenLedgerEntrySchema } from "./usage.js";

/** Which part of the graph a load returns: every node, or only the active path to a leaf. */
export const sessionReadScopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("full_graph") }),
  /** `leafNodeId` absent = the head's leaf. */
  z.object({ type: z.literal("active_path"), leafNodeId: z.string().optional() }),
]);
export type SessionReadScope = z.infer<typeof sessionReadScopeSchema>;

/** The turn counters and opaque snapshots written with every commit. */
export const sessionCheckpointSchema = z.object({
  schemaVersion: z.literal(1),
  turnState: persistedTurnStateSchema,
  executionState: jsonValueSchema.optional(),
  pluginSnapshots: z.record(z.string(), jsonValueSchema).optional(),
});
export type SessionCheckpoint = z.infer<typeof sessionCheckpointSchema>;

/**
 * How a commit changes the graph: `unchanged` (only moves or keeps the leaf), `append` (inserts new
 * nodes; an id that already exists is an error), `replace_full` (replaces every node of the session).
 */
export const graphCommitDeltaSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("unchanged"), leafNodeId: z.string().optional() }),
  z.object({
    type: z.literal("append"),
    nodes: z.array(sessionNodeRecordSchema),
    leafNodeId: z.string().optional(),
  }),
  z.object({ type: z.literal("replace_full"), graph: sessionGraphSchema }),
]);
export type GraphCommitDelta = z.infer<typeof graphCommitDeltaSchema>;

/**
 * One atomic write of a session: graph delta, checkpoint, config and usage deltas land together or
 * not at all.
 */
export const sessionCommitSchema = z.object({
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
  config: persistedSessionConfigSchema,
  graph: graphCommitDeltaSchema,
  checkpoint: sessionCheckpointSchema,
  /** Usage to add to the session's ledger; empty usages (all four counts zero) are dropped. */
  usageDeltas: z.array(tokenLedgerEntrySchema),
});
export type SessionCommit = z.infer<typeof sessionCommitSchema>;

/** The result of a commit. */
export const sessionCommitResultSchema = z.object({
  /** The new head revision (the first commit of a session gets 1). */
  headRevision: z.number().int().positive(),
  commitId: z.string(),
  /** True when the commit id had already been applied and nothing was written this time. */
  replayed: z.boolean(),
});
export type SessionCommitResult = z.infer<typeof sessionCommitResultSchema>;

/** What a store returns for a session. */
export const persistedSessionReadSchema = z.object({
  sessionId: z.string(),
  headRevision: z.number().int().nonnegative(),
  config: persistedSessionConfigSchema,
  graph: sessionGraphSchema,
  checkpoint: sessionCheckpointSchema.optional(),
  /** The merged ledger: one row per `(source, model)`. */
  tokenLedger: z.array(tokenLedgerEntrySchema),
});
export type PersistedSessionRead = z.infer<typeof persistedSessionReadSchema>;

/** Parameters of `SessionStoreFactory.createStore`. */
export const sessionStoreCreateRequestSchema = z.object({
  sessionId: z.string().min(1),
  parentSessionId: z.string().optional(),
  relation: sessionRelationSchema,
  policy: sessionPolicySchema,
});
export type SessionStoreCreateRequest = z.infer<typeof sessionStoreCreateRequestSchema>;

/**
 * Listing data of a session, kept apart from its head. Written once when a store is created for a
 * session (or by the host); reopening keeps the existing meta.
 */
export const sessionMetaSchema = z.object({
  sessionId: z.string().min(1),
  /** A display name; the session id when the host gives none. */
  sessionName: z.string(),
  /** ISO 8601 UTC timestamp of the session's creation. */
  createdAt: z.string(),
  model: z.string(),
  cwd: z.string().optional(),
  parentSessionId: z.string().optional(),
  relation: sessionRelationSchema,
});
export type SessionMeta = z.infer<typeof sessionMetaSchema>;

/**
 * A page request for `SessionStore.listSessions`. Sessions are listed in ascending code-point order
 * of their id; `cursor` is the `nextCursor` of the previous page.
 */
export const sessionListQuerySchema = z.object({
  /** Only sessions whose meta names this parent. */
  parentSessionId: z.string().optional(),
  /** Only sessions whose meta relation has this type. */
  relationType: z.enum(["root", "child", "handoff"]).optional(),
  /** Page size, 1 to 1000 (default 100). */
  limit: z.number().int().min(1).max(1000).optional(),
  cursor: z.string().optional(),
});
export type SessionListQuery = z.infer<typeof sessionListQuerySchema>;

/** One listed session: every session that has a head or a meta. */
export const sessionSummarySchema = z.object({
  sessionId: z.string(),
  /** 0 when the session has a meta but no commit yet. */
  headRevision: z.number().int().nonnegative(),
  meta: sessionMetaSchema.optional(),
});
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

export const sessionListPageSchema = z.object({
  sessions: z.array(sessionSummarySchema),
  /** Present when more sessions follow; pass it as `cursor` to get the next page. */
  nextCursor: z.string().optional(),
});
export type SessionListPage = z.infer<typeof sessionListPageSchema>;

/** What `vacuum` removed: tombstoned nodes deleted for good. */
export const vacuumReportSchema = z.object({ removedNodeCount: z.number().int().nonnegative() });
export type VacuumReport = z.infer<typeof vacuumReportSchema>;

/**
 * What `gcUnreachable` did to the session's content-addressed blobs: roots are the head's checkpoint
 * (0 or 1), retained blobs are reachable from it, every other blob of the session was deleted.
 */
export const gcReportSchema = z.object({
  rootCount: z.number().int().nonnegative(),
  retainedBlobCount: z.number().int().nonnegative(),
  deletedBlobCount: z.number().int().nonnegative(),
});
export type GcReport = z.infer<typeof gcReportSchema>;
