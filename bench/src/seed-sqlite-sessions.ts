// Writes sessions into a SQLite store file, to measure commands that read many of them (`lash
// sessions list --store sqlite:<file>`): `node --conditions=@lash/source --import tsx
// src/seed-sqlite-sessions.ts <file> [count, default 10,000]`. Each session gets a meta (a title)
// and one commit of a question and an answer with its usage, through the store API, written over a
// connection that skips fsync (`synchronous = OFF`) so that 10,000 take seconds, not minutes.
import type { SessionCommit, SessionNodeRecord } from "@lash/protocol";
import { createSqlSessionDatabase, type LashSqlSchema } from "@lash/stores/sql";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";

const [file, countArgument] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: seed-sqlite-sessions.ts <file> [count]");
const count = Number(countArgument ?? 10_000);
if (!Number.isSafeInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${countArgument}`);

const MODEL = "scripted-model";
const CREATED_AT = "2026-11-01T00:00:00.000Z";
const USAGE = { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 };

function messageNode(nodeId: string, parentNodeId: string | undefined, role: "user" | "assistant", content: string): SessionNodeRecord {
  const part =
    role === "user" ? { kind: "text" as const, id: `${nodeId}.p0`, content } : { kind: "prose" as const, id: `${nodeId}.p0`, content };
  return {
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp: CREATED_AT,
    payload: { kind: "message", message: { id: nodeId, role, parts: [part] } },
  };
}

const migrated = createSqlSessionDatabase({ connection: `sqlite:${file}` });
await migrated.migrateToLatest();
await migrated.destroy();
const kysely = new Kysely<LashSqlSchema>({
  dialect: new SqliteDialect({
    database: async () => {
      const connection = new Database(file);
      connection.pragma("journal_mode = WAL");
      connection.pragma("synchronous = OFF");
      return connection;
    },
  }),
});
const database = createSqlSessionDatabase({ kysely, dialect: "sqlite" });
try {
  for (let index = 0; index < count; index += 1) {
    const sessionId = `seeded-${String(index).padStart(6, "0")}`;
    const store = database.openSession(sessionId);
    await store.saveSessionMeta({
      sessionId,
      sessionName: `Question number ${index}`,
      createdAt: CREATED_AT,
      model: MODEL,
      relation: { type: "root" },
    });
    const question = messageNode(`${sessionId}-q`, undefined, "user", `Question number ${index}, a few words long.`);
    const answer = messageNode(
      `${sessionId}-a`,
      question.nodeId,
      "assistant",
      `Answer number ${index}: a paragraph a little longer than the question.`,
    );
    const commit: SessionCommit = {
      sessionId,
      expectedHeadRevision: undefined,
      commitId: `seed-${sessionId}`,
      config: { providerId: "scripted", model: MODEL, contextWindow: 200_000, executionMode: "standard" },
      graph: { type: "append", nodes: [question, answer], leafNodeId: answer.nodeId },
      checkpoint: { schemaVersion: 1, turnState: { turnIndex: 1, tokenUsage: USAGE } },
      usageDeltas: [{ source: "turn", model: MODEL, usage: USAGE }],
    };
    await store.commit(commit);
  }
} finally {
  await kysely.destroy();
}
process.stdout.write(`wrote ${count} sessions to ${file}\n`);
