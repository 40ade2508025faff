import { randomUUID } from "node:crypto";
import pg from "pg";

/** The PostgreSQL server the tests use (`DATABASE_URL`, else the local test database). */
export const POSTGRES_URL = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

/** Under CI an unreachable server fails the tests; elsewhere they skip and say why. */
export const POSTGRES_REQUIRED = process.env["CI"] === "true";

let probe: Promise<string | undefined> | undefined;

/** The connection string without its password, for messages. */
function redacted(connection: string): string {
  try {
    const url = new URL(connection);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "<unparsable DATABASE_URL>";
  }
}

/**
 * Why PostgreSQL cannot be used, or `undefined` when it answers. Probed once per test file with a
 * short connect timeout; an unreachable server is announced on stderr, so that skipped tests never
 * pass unnoticed.
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
    return `PostgreSQL at ${redacted(POSTGRES_URL)} is unreachable (${detail}); set DATABASE_URL to run these tests`;
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

/** A schema name no other test run uses. */
export function freshSchemaName(): string {
  return `lash_bg_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
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

/** Drops a test schema and everything in it. */
export function dropSchema(schema: string): Promise<void> {
  return runAdminStatement(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
}
