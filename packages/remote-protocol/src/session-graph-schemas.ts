import { sessionNodeRecordSchema, traceRecordSchema } from "@lash/protocol";
import { z } from "zod";

/** A subagent's child session, as its parent's graph lists it. */
export const childSessionSchema = z.object({
  /** The child session's id (readable with `GET /v1/sessions/{id}` and its other routes). */
  id: z.string(),
  /** Its display name (the task it was given, when the subagent tools named it so). */
  title: z.string().optional(),
  /** When it was created (ISO 8601 UTC). */
  createdAt: z.string().optional(),
  /** The model it was created with. */
  model: z.string().optional(),
  /** How it relates to its parent (`child`, `handoff`). */
  relation: z.string(),
});
export type ChildSession = z.infer<typeof childSessionSchema>;

/**
 * `GET /v1/sessions/{id}/graph`: the session graph, every branch of it. Nodes come in append order,
 * each naming the node it follows; `leafNodeId` is the last node of the active branch. A branch is
 * the walk from any node without followers up to the root: a client shows another branch by
 * walking from its leaf. Read-only: turns always continue the active branch.
 */
export const sessionGraphResponseSchema = z.object({
  /** The session's id. */
  sessionId: z.string(),
  /** The store's head revision the graph reflects. */
  headRevision: z.number().int().nonnegative(),
  /** The session's display name from its listing data, when it has one of its own (not its id). */
  title: z.string().optional(),
  /** When the session was created, from its listing data (ISO 8601 UTC); absent when the store has none. */
  createdAt: z.string().optional(),
  /** The last node of the active branch; absent for an empty graph. */
  leafNodeId: z.string().optional(),
  /** Every node, in append order: messages, completed tool calls, stopped turns, mode and plugin records. */
  nodes: z.array(sessionNodeRecordSchema),
  /** The subagents' child sessions this session created, oldest first (at most 100). */
  children: z.array(childSessionSchema),
});
export type SessionGraphResponse = z.infer<typeof sessionGraphResponseSchema>;

/**
 * `GET /v1/sessions/{id}/turns/{turnId}/trace`: the trace records of one turn, in the order they
 * happened (the `standard` level of `@lash/protocol`'s trace records: the turn, its prompt, model
 * calls with time to first token, retries, tool calls, commits). The server keeps them in memory for
 * the turns it ran (see `complete`); a turn it did not run, or no longer keeps, is a 404.
 */
export const turnTraceResponseSchema = z.object({
  /** The session's id. */
  sessionId: z.string(),
  /** The turn's id. */
  turnId: z.string(),
  /** True once the turn ended (`turn_completed` was recorded); false while it runs. */
  complete: z.boolean(),
  /** True when records were left out because the turn had more than the server keeps per turn. */
  truncated: z.boolean(),
  /** The records, oldest first. */
  records: z.array(traceRecordSchema),
});
export type TurnTraceResponse = z.infer<typeof turnTraceResponseSchema>;

/** `GET /v1/sessions/{id}/traces`: the turns of the session whose traces this server keeps, newest first. */
export const turnTraceListResponseSchema = z.object({
  turns: z.array(
    z.object({
      /** The turn's id. */
      turnId: z.string(),
      /** The turn's index in the session, when its `turn_started` record is kept. */
      turnIndex: z.number().int().nonnegative().optional(),
      /** When its first record was made (ISO 8601 UTC). */
      startedAt: z.string(),
      /** True once the turn ended. */
      complete: z.boolean(),
    }),
  ),
});
export type TurnTraceListResponse = z.infer<typeof turnTraceListResponseSchema>;
