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
  z.object({ kind: z.literal("message"), message: messageSchema }),
  z.object({
    kind: z.literal("tool_invocation"),
    stableKey: z.string(),
    record: toolCallRecordSchema,
  }),
  z.object({ kind: z.literal("mode_event"), event: jsonValueSchema }),
  z.object({ kind: z.literal("plugin"), pluginType: z.string(), body: jsonValueSchema }),
  z.object({ kind: z.literal("turn_stopped"), turnId: z.string(), turnIndex: z.number().int(), stop: turnStopSchema }),
]);
export type SessionNodePayload = z.infer<typeof sessionNodePayloadSchema>;

/** One node of the append-only session graph (a tree through `parentNodeId`). */
export const sessionNodeRecordSchema = z.object({
  nodeId: z.string().min(1),
  parentNodeId: z.string().optional(),
  /** ISO-8601 UTC. */
  timestamp: z.string(),
  payload: sessionNodePayloadSchema,
});
export type SessionNodeRecord = z.infer<typeof sessionNodeRecordSchema>;

/**
 * The session graph: every node ever appended (in append order) and the leaf that selects the
 * active branch. The active path is the walk from the leaf through `parentNodeId` to the root.
 */
export const sessionGraphSchema = z.object({
  nodes: z.array(sessionNodeRecordSchema),
  leafNodeId: z.string().optional(),
});
export type SessionGraph = z.infer<typeof sessionGraphSchema>;
