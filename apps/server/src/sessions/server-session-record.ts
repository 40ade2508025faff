import type { JsonValue, PersistedSessionState } from "@lash/protocol";
import { emptyTokenUsage } from "@lash/protocol";
import { z } from "zod";
import { LOCAL_TENANT } from "../auth/tenant-name.js";
import { DEFAULT_PROFILE_NAME } from "../profiles/agent-profile.js";

/**
 * The key of the server's own record in a session's checkpoint (`pluginSnapshots`). The runtime
 * carries every snapshot through each commit, park and resume without reading it, and every store
 * keeps it without a migration, so the profile and metadata live with the session itself: any
 * server instance on the same store reads them back, and deleting the session deletes them.
 */
export const SERVER_RECORD_KEY = "lash.server";

const serverSessionRecordSchema = z.object({
  /** The agent profile the session's turns run with. */
  profile: z.string(),
  /** The labels given when it was created. */
  metadata: z.record(z.string(), z.string()),
  /** When the server created it (ISO 8601 UTC). */
  createdAt: z.string(),
  /** The tenant that owns it; records written before tenants existed name none, and belong to `local`. */
  tenant: z.string().default(LOCAL_TENANT),
});

/** What the server keeps about a session it created. */
export type ServerSessionRecord = z.infer<typeof serverSessionRecordSchema>;

/**
 * The server's record in a session's plugin snapshots. A session the server did not create (one
 * the `lash` command made in the same store), or one whose record does not parse, runs with the
 * default profile and no metadata.
 */
export function readServerRecord(snapshots: Readonly<Record<string, JsonValue>> | undefined): ServerSessionRecord | undefined {
  const parsed = serverSessionRecordSchema.safeParse(snapshots?.[SERVER_RECORD_KEY]);
  return parsed.success ? parsed.data : undefined;
}

/** The record of a session created elsewhere: the default profile, no metadata, the owner its caller found. */
export function foreignSessionRecord(tenant: string): Omit<ServerSessionRecord, "createdAt"> & { readonly createdAt?: string } {
  return { profile: DEFAULT_PROFILE_NAME, metadata: {}, tenant };
}

/**
 * The initial state of a new session: empty, with the server's record among its snapshots. The
 * builder replaces its session id and policy with its own.
 */
export function initialSessionState(sessionId: string, record: ServerSessionRecord): PersistedSessionState {
  return {
    schemaVersion: 1,
    sessionId,
    policy: { sessionId, providerId: "unconfigured", model: "", maxContextTokens: 1, executionMode: "standard" },
    sessionGraph: { nodes: [] },
    turnIndex: 0,
    tokenUsage: emptyTokenUsage(),
    tokenLedger: [],
    pluginSnapshots: {
      [SERVER_RECORD_KEY]: {
        profile: record.profile,
        metadata: { ...record.metadata },
        createdAt: record.createdAt,
        tenant: record.tenant,
      },
    },
  };
}
