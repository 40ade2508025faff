import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  dropSchema,
  freshSchemaName,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresUnavailableReason,
} from "@lash/test-infrastructure/postgres";
import { createSqlSessionDatabase } from "../../src/sql/index.js";
import type { FaultBackendKind } from "./fault-backends.js";

/** Storage for one fault test: `location` is what a writer process opens (a file, a folder, a schema). */
export interface FaultLocation {
  readonly location: string;
  cleanup(): Promise<void>;
}

/** Why a backend's fault tests skip (PostgreSQL unreachable outside CI), or undefined when they run. */
export async function faultSkipReason(kind: FaultBackendKind): Promise<string | undefined> {
  // Under CI an unreachable server must fail the tests, so they run (and fail) instead of skipping.
  if (kind !== "postgres" || POSTGRES_REQUIRED) return undefined;
  return postgresUnavailableReason();
}

/** Creates (and migrates) fresh storage of `kind`. */
export async function prepareFaultLocation(kind: FaultBackendKind): Promise<FaultLocation> {
  if (kind === "postgres") {
    const schema = freshSchemaName();
    const database = createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: 1 });
    await database.migrateToLatest();
    await database.destroy();
    return { location: schema, cleanup: () => dropSchema(schema) };
  }
  const folder = await mkdtemp(join(tmpdir(), `lash-faults-${kind}-`));
  const cleanup = (): Promise<void> => rm(folder, { recursive: true, force: true });
  if (kind === "fs") return { location: join(folder, "sessions"), cleanup };
  const file = join(folder, "lash.db");
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  await database.migrateToLatest();
  await database.destroy();
  return { location: file, cleanup };
}
