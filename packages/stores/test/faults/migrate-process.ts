/**
 * A child process for the concurrent first-migration test: opens a SQLite file (new or not), waits
 * for `go` on stdin so that every process of a round starts migrating at the same moment, migrates,
 * commits one session of its own and prints one JSON line with what happened.
 *
 *   node migrate-process.mjs <file> <sessionId>
 */
import { once } from "node:events";
import { createSqlSessionDatabase } from "../../src/sql/index.js";

interface ErrorReport {
  readonly name: string;
  readonly code: unknown;
  readonly message: string;
  readonly cause?: { readonly code: unknown; readonly message: string } | undefined;
}

function describeError(error: unknown): ErrorReport {
  if (!(error instanceof Error)) return { name: typeof error, code: undefined, message: String(error) };
  const cause = error.cause instanceof Error ? { code: (error.cause as { code?: unknown }).code, message: error.cause.message } : undefined;
  return { name: error.name, code: (error as { code?: unknown }).code, message: error.message, cause };
}

async function main(): Promise<void> {
  const [file, sessionId] = process.argv.slice(2);
  if (!file || !sessionId) throw new Error("usage: migrate-process <file> <sessionId>");
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  process.stdout.write("ready\n");
  process.stdin.setEncoding("utf8");
  await once(process.stdin, "data");
  try {
    const report = await database.migrateToLatest();
    await database.openSession(sessionId).commit({
      sessionId,
      commitId: "t1",
      config: { providerId: "mock", model: "mock-model", contextWindow: 1000, executionMode: "standard" },
      graph: { type: "unchanged" },
      checkpoint: {
        schemaVersion: 1,
        turnState: { turnIndex: 1, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 } },
      },
      usageDeltas: [],
    });
    process.stdout.write(`${JSON.stringify({ ok: true, applied: report.appliedMigrations })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: describeError(error) })}\n`);
    process.exitCode = 1;
  } finally {
    await database.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
