import pg from "pg";
import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { explainStoreError, openCliStore, splitPostgresSchema } from "../store/open-store.js";

/** Creates a PostgreSQL schema named in the store URL (`?schema=`) when it does not exist yet. */
async function ensurePostgresSchema(location: string): Promise<void> {
  const { connection, schema } = splitPostgresSchema(location);
  if (schema === undefined) return;
  const client = new pg.Client({ connectionString: connection, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`create schema if not exists ${client.escapeIdentifier(schema)}`);
  } finally {
    await client.end();
  }
}

/** `lash db migrate`: creates or updates the tables of a SQL store (idempotent). */
export async function dbMigrateCommand(flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  if (config.store.value.startsWith("fs:")) throw usageError("a filesystem store has no tables to migrate");
  const isPostgres = /^postgres(ql)?:\/\//.test(config.store.value);
  if (isPostgres) await ensurePostgresSchema(config.store.value);
  const store = await openCliStore(config.store.value, { migrateSqlite: false, env: io.env });
  try {
    // A locked or damaged store is explained as every other command explains it.
    const report = await store.migrate().catch((error: unknown) => {
      throw explainStoreError(error);
    });
    const applied = report?.appliedMigrations ?? [];
    io.stdout.write(
      applied.length === 0
        ? `${store.description} is up to date (${report?.latestMigration ?? "no migrations"})\n`
        : `${store.description}: applied ${applied.join(", ")}\n`,
    );
    return EXIT_CODES.finished;
  } finally {
    await store.close().catch(() => undefined);
  }
}
