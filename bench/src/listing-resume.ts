// The listing and resume figures of issue 17: listing the newest 50 of 10,000 sessions through the
// store's `listSessions`, and `LashRuntime.resume` of a session with 1,000 active messages plus a
// 1,000-message abandoned branch under `keep_all`. The data is written with bulk commits through the
// store API (no model turns).
import { performance } from "node:perf_hooks";
import { InMemorySessionDatabase, LashRuntime, type ParkedSession, RuntimeEnvironment } from "@lash/core";
import type { SessionCommit, SessionNodeRecord, SessionStore } from "@lash/protocol";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlSessionDatabase } from "@lash/stores/sql";
import { POSTGRES_URL } from "@lash/test-infrastructure/postgres";
import { ScriptedProvider, textStep } from "@lash/testkit";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { errorText } from "./bench-runtime.js";
import { collectGarbage, median } from "./measure.js";
import { temporaryPostgresDatabase, temporarySqliteDatabase } from "./runtimes/lash.js";

const MODEL = "bench-model";
const POLICY = { model: MODEL, maxContextTokens: 200_000 };
const CONFIG = { providerId: "scripted", model: MODEL, contextWindow: 200_000, executionMode: "standard" as const };
const TIMESTAMP = "2026-11-01T00:00:00.000Z";

export interface FigureRow {
  readonly id: string;
  readonly name: string;
  /** Median and mean in microseconds over `repetitions`; absent when skipped. */
  readonly median?: number;
  readonly mean?: number;
  readonly repetitions?: number;
  /** The goal for this figure, in microseconds. */
  readonly goal: number;
  readonly detail?: string;
  readonly skipped?: string;
}

function messageNode(nodeId: string, parentNodeId: string | undefined, role: "user" | "assistant", content: string): SessionNodeRecord {
  const part =
    role === "user" ? { kind: "text" as const, id: `${nodeId}.p0`, content } : { kind: "prose" as const, id: `${nodeId}.p0`, content };
  return {
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp: TIMESTAMP,
    payload: { kind: "message", message: { id: nodeId, role, parts: [part] } },
  };
}

/** The first commit of a session: `nodes`, leaf `leaf`, `turns` completed turns, some usage. */
function seedCommit(sessionId: string, nodes: SessionNodeRecord[], leaf: string | undefined, turns: number): SessionCommit {
  return {
    sessionId,
    expectedHeadRevision: undefined,
    commitId: `seed-${sessionId}`,
    config: CONFIG,
    graph: { type: "append", nodes, ...(leaf === undefined ? {} : { leafNodeId: leaf }) },
    checkpoint: {
      schemaVersion: 1,
      turnState: {
        turnIndex: turns,
        tokenUsage: { inputTokens: 100 * turns, outputTokens: 20 * turns, cachedInputTokens: 0, reasoningTokens: 0 },
      },
    },
    usageDeltas: [
      {
        source: "main",
        model: MODEL,
        usage: { inputTokens: 100 * turns, outputTokens: 20 * turns, cachedInputTokens: 0, reasoningTokens: 0 },
      },
    ],
  };
}

// ---- listing ----

const PAGE = 50;

/**
 * Writes `count` sessions of one turn each (a question and an answer) with their meta, `parallel`
 * commits at a time (PostgreSQL takes several; SQLite has one writer anyway).
 */
async function seedSessions(database: SqlSessionDatabase, count: number, parallel: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      const sessionId = `listed-${String(index).padStart(5, "0")}`;
      const store = await database.createStore({
        sessionId,
        policy: { ...POLICY, sessionId } as Parameters<SqlSessionDatabase["createStore"]>[0]["policy"],
        relation: { type: "root" },
      });
      const question = messageNode(`${sessionId}-q`, undefined, "user", `question ${index}`);
      const answer = messageNode(`${sessionId}-a`, question.nodeId, "assistant", `answer ${index}`);
      await store.commit(seedCommit(sessionId, [question, answer], answer.nodeId, 1));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * A second handle on a SQLite file for writing the listed sessions fast: the store over a Kysely
 * instance of our own whose connection skips fsync (`synchronous = OFF`). Only the data is written
 * this way; the listing is measured through the store as shipped.
 */
function sqliteSeedingDatabase(file: string): { database: SqlSessionDatabase; release: () => Promise<void> } {
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
  return { database: createSqlSessionDatabase({ kysely, dialect: "sqlite" }), release: () => kysely.destroy() };
}

/** Likewise for PostgreSQL: the same schema through connections with `synchronous_commit = off`. */
function postgresSeedingDatabase(schema: string): { database: SqlSessionDatabase; release: () => Promise<void> } {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("options", "-c synchronous_commit=off");
  const database = createSqlSessionDatabase({ connection: url.toString(), schema, maxConnections: 8 });
  return { database, release: () => database.destroy() };
}

async function measureListing(
  id: string,
  name: string,
  database: SqlSessionDatabase,
  seeding: { database: SqlSessionDatabase; release: () => Promise<void> },
  sessions: number,
  parallel: number,
  repetitions: number,
): Promise<FigureRow> {
  const seeded = performance.now();
  try {
    await seedSessions(seeding.database, sessions, parallel);
  } finally {
    await seeding.release();
  }
  const seedSeconds = (performance.now() - seeded) / 1000;
  const samples: number[] = [];
  let listed = 0;
  let newest: string | undefined;
  for (let repetition = 0; repetition < repetitions + 2; repetition += 1) {
    const started = performance.now();
    const page = await database.listSessions({ limit: PAGE, orderBy: "lastActivity" });
    const elapsed = (performance.now() - started) * 1000;
    if (repetition >= 2) samples.push(elapsed);
    listed = page.sessions.length;
    newest = page.sessions[0]?.sessionId;
    const first = page.sessions[0];
    if (first?.turnCount === undefined || first.tokenUsage === undefined || first.lastActivityAt === undefined || first.model === undefined)
      throw new Error(`${name}: a listed session lacks its summary (turns, tokens, activity, model): ${JSON.stringify(first)}`);
  }
  if (listed !== PAGE) throw new Error(`${name}: listed ${listed} sessions, expected ${PAGE}`);
  return {
    id,
    name,
    median: median(samples),
    mean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
    repetitions: samples.length,
    goal: 20_000,
    detail: `newest first (${newest}); ${sessions.toLocaleString("en-US")} sessions written in ${seedSeconds.toFixed(1)} s through the store API, without fsync`,
  };
}

// ---- resume ----

const RESUME_MESSAGES = 1_000;

/** A session with `messages` messages on its active path and an abandoned branch of the same size. */
async function seedLongSession(store: SessionStore, sessionId: string, messages: number): Promise<void> {
  const nodes: SessionNodeRecord[] = [];
  const chain = (prefix: string): string | undefined => {
    let leaf: string | undefined;
    for (let index = 0; index < messages; index += 1) {
      const node = messageNode(
        `${prefix}-${index}`,
        leaf,
        index % 2 === 0 ? "user" : "assistant",
        `${prefix} message ${index}: ${"lorem ipsum ".repeat(8)}`,
      );
      nodes.push(node);
      leaf = node.nodeId;
    }
    return leaf;
  };
  chain("abandoned");
  const leaf = chain("active");
  await store.commit(seedCommit(sessionId, nodes, leaf, messages / 2));
}

async function measureResume(id: string, name: string, store: SessionStore, repetitions: number): Promise<FigureRow> {
  const sessionId = "long-session";
  await seedLongSession(store, sessionId, RESUME_MESSAGES);
  const environment = RuntimeEnvironment.builder()
    .withProvider(new ScriptedProvider([textStep("noted")], { repeat: true, recordRequests: false }))
    .withResidency("keep_all")
    .build();
  const parked: ParkedSession = { sessionId, store, policy: { ...POLICY, sessionId } as ParkedSession["policy"] };
  const samples: number[] = [];
  for (let repetition = 0; repetition < repetitions + 2; repetition += 1) {
    collectGarbage();
    const started = performance.now();
    const runtime = await LashRuntime.resume(parked, environment);
    const elapsed = (performance.now() - started) * 1000;
    if (repetition >= 2) samples.push(elapsed);
    const active = runtime.activeMessages().length;
    if (active !== RESUME_MESSAGES) throw new Error(`${name}: resumed ${active} active messages, expected ${RESUME_MESSAGES}`);
  }
  return {
    id,
    name,
    median: median(samples),
    mean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
    repetitions: samples.length,
    goal: 5_000,
    detail: `${RESUME_MESSAGES} active messages resident after resume`,
  };
}

/** Runs `measure` on a resource, releasing it whatever happens; a failure becomes a skipped row. */
async function guarded(id: string, name: string, goal: number, run: () => Promise<FigureRow>): Promise<FigureRow> {
  try {
    return await run();
  } catch (error) {
    return { id, name, goal, skipped: `failed: ${errorText(error)}` };
  }
}

/** Every listing and resume figure, SQLite and in-memory always, PostgreSQL when it answers. */
export async function listingAndResumeFigures(quick: boolean): Promise<FigureRow[]> {
  const repetitions = quick ? 3 : 20;
  // A smoke run lists fewer sessions: writing 10,000 takes several seconds per store.
  const sessions = quick ? 500 : 10_000;
  const rows: FigureRow[] = [];
  const listingName = (store: string) => `listSessions, newest ${PAGE} of ${sessions.toLocaleString("en-US")} sessions, ${store}`;
  const resumeName = (store: string) => `LashRuntime.resume, 1,000 active + 1,000 abandoned messages, keep_all, ${store}`;

  rows.push(
    await guarded("listing.sqlite", listingName("SQLite"), 20_000, async () => {
      const { database, file, release } = await temporarySqliteDatabase("listing");
      try {
        const seeding = sqliteSeedingDatabase(file);
        return await measureListing("listing.sqlite", listingName("SQLite"), database, seeding, sessions, 1, repetitions);
      } finally {
        await release();
      }
    }),
  );
  const postgresListing = await temporaryPostgresDatabase();
  if ("skipped" in postgresListing) {
    rows.push({ id: "listing.postgres", name: listingName("PostgreSQL"), goal: 20_000, skipped: postgresListing.skipped });
  } else {
    rows.push(
      await guarded("listing.postgres", listingName("PostgreSQL"), 20_000, async () => {
        try {
          const seeding = postgresSeedingDatabase(postgresListing.schema);
          return await measureListing(
            "listing.postgres",
            listingName("PostgreSQL"),
            postgresListing.database,
            seeding,
            sessions,
            8,
            repetitions,
          );
        } finally {
          await postgresListing.release();
        }
      }),
    );
  }

  rows.push(
    await guarded("resume.in-memory", resumeName("in-memory store"), 5_000, () =>
      measureResume(
        "resume.in-memory",
        resumeName("in-memory store"),
        new InMemorySessionDatabase().openSession("long-session"),
        repetitions,
      ),
    ),
  );
  rows.push(
    await guarded("resume.sqlite", resumeName("SQLite"), 5_000, async () => {
      const { database, release } = await temporarySqliteDatabase("resume");
      try {
        return await measureResume("resume.sqlite", resumeName("SQLite"), database.openSession("long-session"), repetitions);
      } finally {
        await release();
      }
    }),
  );
  const postgresResume = await temporaryPostgresDatabase();
  if ("skipped" in postgresResume) {
    rows.push({ id: "resume.postgres", name: resumeName("PostgreSQL"), goal: 5_000, skipped: postgresResume.skipped });
  } else {
    rows.push(
      await guarded("resume.postgres", resumeName("PostgreSQL"), 5_000, async () => {
        try {
          return await measureResume(
            "resume.postgres",
            resumeName("PostgreSQL"),
            postgresResume.database.openSession("long-session"),
            repetitions,
          );
        } finally {
          await postgresResume.release();
        }
      }),
    );
  }
  return rows;
}
