import { randomUUID } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL server that tests of lash packages (and of third-party stores and hosts) use, with
 * the repository's rule: `DATABASE_URL`, else the local test database; a schema of their own per run;
 * an unreachable server skips the tests with a message, except under `CI=true`, where it fails them.
 * `pg` is an optional peer of `@lash/testkit`, needed only by this entry.
 */
export const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Under CI an unreachable server fails the tests; elsewhere they skip and say why. */
export const POSTGRES_REQUIRED = process.env.CI === "true";

/** A connection string without its password, for messages. */
export function redactedConnectionString(connection: string): string {
  try {
    const url = new URL(connection);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "<unparsable connection string>";
  }
}

let probe: Promise<string | undefined> | undefined;

/**
 * Why PostgreSQL cannot be used, or `undefined` when it answers. Probed once per test file (with a
 * short connect timeout, so a missing server costs seconds, not the suite). An unreachable server is
 * announced on stderr, so that skipped tests never pass unnoticed.
 */
export function postgresUnavailableReason(): Promise<string | undefined> {
  probe ??= probeReason().then((reason) => {
    if (reason !== undefined) {
      console.warn(`[lash] ${POSTGRES_REQUIRED ? "CI=true, so the PostgreSQL tests fail" : "PostgreSQL tests skipped"}: ${reason}`);
    }
    return reason;
  });
  return probe;
}

async function probeReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (error) {
    const detail = error instanceof Error && error.message !== "" ? error.message : ((error as { code?: string }).code ?? String(error));
    return `PostgreSQL at ${redactedConnectionString(POSTGRES_URL)} is unreachable (${detail}); set DATABASE_URL to run these tests`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the PostgreSQL tests of a file run: `true` when the server answers, `false` (skip, with the
 * reason on stderr) when it does not, and a thrown error under `CI=true`, so CI never goes green
 * without them.
 */
export async function postgresTestsEnabled(): Promise<boolean> {
  const reason = await postgresUnavailableReason();
  if (reason === undefined) return true;
  if (POSTGRES_REQUIRED) throw new Error(reason);
  return false;
}

/** A schema name no other test run uses (`prefix` plus 16 random hex digits). */
export function freshSchemaName(prefix = "lash_test_"): string {
  return `${prefix}${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Runs one statement on its own short-lived connection (schema setup and teardown). */
export async function runAdminStatement(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Drops schemas and everything in them. */
export async function dropSchema(...schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) await runAdminStatement(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
}
