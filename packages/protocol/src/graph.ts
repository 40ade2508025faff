import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { messageSchema } from "./messages.js";
import { toolCallRecordSchema } from "./tools.js";
import { turnStopSchema } from "./turn-stop.js";

/**
 * What a graph node holds:
 * - `message`: a conversation message (node id = message id);
 * - `tool_invocation`: a completed tool call (node id = `tool:{stableKey}`);
 * - `mode_event`: an execution mode's own record (node id = `mode:{uuid}`);
 * - `plugin`: a plugin's record (node id = `plugin:{uuid}`);
 * - `turn_stopped`: a turn that ended stopped (cancelled, a budget, a failure), appended after its
 *   partial output so a reloaded session still shows why that turn ended (node id = `turn:{turnId}`).
 *   Finished turns have none: their answer says it.
 */
export const sessionNodePayloadSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("message"),
    /** The message. */
    message: messageSchema,
  }),
  z.object({
    kind: z.literal("tool_invocation"),
    /** The call id, or `anon-` and a digest of the tool, arguments and output for a call without one. */
    stableKey: z.string(),
    /** The completed call. */
    record: toolCallRecordSchema,
  }),
  z.object({
    kind: z.literal("mode_event"),
    /** The mode's record, opaque to core. */
    event: jsonValueSchema,
  }),
  z.object({
    kind: z.literal("plugin"),
    /** The kind of record, as the plugin names it. */
    pluginType: z.string(),
    /** The record, opaque to core. */
    body: jsonValueSchema,
  }),
  z.object({
    kind: z.literal("turn_stopped"),
    /** The stopped turn's id. */
    turnId: z.string(),
    /** The stopped turn's index in the session (1 for the first turn). */
    turnIndex: z.number().int(),
    /** Why it stopped. */
    stop: turnStopSchema,
  }),
]);
export type SessionNodePayload = z.infer<typeof sessionNodePayloadSchema>;

/** One node of the append-only session graph (a tree through `parentNodeId`). */
export const sessionNodeRecordSchema = z.object({
  /** Unique within the session, tombstoned nodes included (see the payload kinds for the id forms). */
  nodeId: z.string().min(1),
  /** The node this one follows; absent for a root. */
  parentNodeId: z.string().optional(),
  /** When the node was appended, ISO-8601 UTC. */
  timestamp: z.string(),
  /** What the node holds. */
  payload: sessionNodePayloadSchema,
});
export type SessionNodeRecord = z.infer<typeof sessionNodeRecordSchema>;

/**
 * The session graph: every node ever appended (in append order) and the leaf that selects the
 * active branch. The active path is the walk from the leaf through `parentNodeId` to the root.
 */
export const sessionGraphSchema = z.object({
  /** Every node, in append order. */
  nodes: z.array(sessionNodeRecordSchema),
  /** The last node of the active branch; absent for an empty graph. */
  leafNodeId: z.string().optional(),
});
export type SessionGraph = z.infer<typeof sessionGraphSchema>;
