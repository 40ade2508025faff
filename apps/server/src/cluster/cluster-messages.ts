import { createHash } from "node:crypto";
import { resourceIdSchema } from "@lash/remote-protocol";
import { z } from "zod";

/**
 * The largest notification payload read. Ours are under 200 bytes; anything larger was not sent by
 * a server instance and is dropped before it is parsed.
 */
export const MAX_CLUSTER_MESSAGE_BYTES = 1024;

/**
 * What instances tell each other over the channel: `cancel` asks the instance running a turn to
 * cancel it; `ended` says a turn's segment ended (its row is written), so a waiting canceller reads
 * it at once instead of at its next poll. Ids follow the API's id rules; nothing else is accepted.
 */
const clusterMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ v: z.literal(1), type: z.literal("cancel"), sessionId: resourceIdSchema, turnId: resourceIdSchema }),
  z.strictObject({ v: z.literal(1), type: z.literal("ended"), sessionId: resourceIdSchema, turnId: resourceIdSchema }),
]);

export type ClusterMessage = z.infer<typeof clusterMessageSchema>;

/**
 * Reads a notification payload. Anyone who can connect to the database can notify the channel, so
 * a payload is hostile until it parses: too long, not JSON, or not exactly one of the messages
 * above, and it is dropped (`undefined`).
 */
export function parseClusterMessage(payload: string | undefined): ClusterMessage | undefined {
  if (payload === undefined || payload.length > MAX_CLUSTER_MESSAGE_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = clusterMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** A message as a payload. */
export function formatClusterMessage(message: ClusterMessage): string {
  return JSON.stringify(message);
}

/**
 * The channel of the instances on one server schema. Notifications are database-wide, so servers
 * on other schemas of the same database must not hear each other: the name carries a digest of the
 * schema (a digest, since a channel name is an identifier of at most 63 bytes and a schema name may
 * already be that long).
 */
export function clusterChannelName(schema: string | undefined): string {
  const digest = createHash("sha256")
    .update(schema ?? "")
    .digest("hex")
    .slice(0, 16);
  return `lash_server_${digest}`;
}
