// Listing the newest sessions of a large database: one page in the `lastActivity` order, read from
// the session summaries, on SQLite and PostgreSQL.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SessionCommit } from "@lash/protocol";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresUnavailableReason } from "@lash/test-infrastructure/postgres";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createSqlSessionDatabase, type LashSqlSchema, type SqlSessionDatabase } from "../src/sql/index.js";
import { turnCommit } from "../test/faults/turn-commits.js";
import { collectGarbage, median } from "./bench-stats.js";

export interface ListingTiming {
  readonly backend: string;
  readonly sessions: number;
  readonly page: number;
  /** Median of the timed listings, in microseconds; undefined when skipped. */
  readonly newestMicros?: number;
  /** The newest root sessions (`relationType: "root"`, what `lash sessions list` shows). */
  readonly newestRootsMicros?: number;
  /** The same page in id order, for reference. */
  readonly byIdMicros?: number;
  readonly skipped?: string;
}

/** Sessions written at once while seeding (PostgreSQL commits go over a pool of this many connections). */
const SEED_CONCURRENCY = 8;

/** Gives `database` `count` sessions, each with a meta and one turn (checkpoint level: seeding is not what is measured). */
async function seed(database: SqlSessionDatabase, count: number): Promise<void> {
  for (let start = 0; start < count; start += SEED_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SEED_CONCURRENCY, count - start) }, (_, offset) => start + offset);
    await Promise.all(
      batch.map(async (index) => {
        const sessionId = `session-${String(index).padStart(6, "0")}`;
        const store = database.openSession(sessionId);
        await store.saveSessionMeta({
          sessionId,
          sessionName: `Session ${index}`,
          createdAt: new Date().toISOString(),
          model: "scripted-model",
          relation: { type: "root" },
        });
        const commit: SessionCommit = {
          ...turnCommit({ sessionId, writer: "seed", turn: 1, expectedHeadRevision: undefined, parentNodeId: undefined }),
          durability: "checkpoint",
        };
        await store.commit(commit);
      }),
    );
  }
}

/** Times `repetitions` listings of the newest `page` sessions (all, then roots only) and of the first page by id. */
async function timeListing(
  database: SqlSessionDatabase,
  page: number,
  repetitions: number,
): Promise<{ newest: number; newestRoots: number; byId: number }> {
  const samples = { newest: [] as number[], newestRoots: [] as number[], byId: [] as number[] };
  const queries = {
    newest: { orderBy: "lastActivity", limit: page },
    newestRoots: { orderBy: "lastActivity", relationType: "root", limit: page },
    byId: { limit: page },
  } as const;
  const entries = Object.entries(queries) as [keyof typeof queries, (typeof queries)[keyof typeof queries]][];
  // Warmed up, and garbage collected once before the timed runs (as `measure` does): a collection
  // right before each listing would time the code it discards.
  for (let warmup = 0; warmup < 5; warmup += 1) for (const [, query] of entries) await database.listSessions(query);
  collectGarbage();
  for (let repetition = 0; repetition < repetitions; repetition += 1) {
    for (const [name, query] of entries) {
      const started = performance.now();
      const listed = await database.listSessions(query);
      samples[name].push((performance.now() - started) * 1000);
      if (
        listed.sessions.length !== page ||
        listed.sessions.some((session) => session.turnCount !== 1 || session.tokenUsage === undefined)
      ) {
        throw new Error("the listing did not return a full page of summaries");
      }
    }
  }
  return { newest: median(samples.newest), newestRoots: median(samples.newestRoots), byId: median(samples.byId) };
}

/** The listing benchmark on SQLite (a file in `folder`) and, when reachable, PostgreSQL. */
export async function runListingBench(folder: string, sessions: number, page: number, repetitions: number): Promise<ListingTiming[]> {
  const timings: ListingTiming[] = [];
  const file = join(folder, "listing.db");
  // Seeded through a connection that does not wait for the disk (seeding is not what is measured),
  // then listed through the store's own connection.
  const seedingHandle = new Database(file);
  seedingHandle.pragma("journal_mode = WAL");
  seedingHandle.pragma("synchronous = OFF");
  const seedingKysely = new Kysely<LashSqlSchema>({ dialect: new SqliteDialect({ database: seedingHandle }) });
  const seeding = createSqlSessionDatabase({ kysely: seedingKysely, dialect: "sqlite" });
  await seeding.migrateToLatest();
  await seed(seeding, sessions);
  await seedingKysely.destroy();
  const sqlite = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  try {
    const { newest, newestRoots, byId } = await timeListing(sqlite, page, repetitions);
    timings.push({ backend: "SQLite", sessions, page, newestMicros: newest, newestRootsMicros: newestRoots, byIdMicros: byId });
  } finally {
    await sqlite.destroy();
  }
  const reason = await postgresUnavailableReason();
  if (reason !== undefined) {
    timings.push({ backend: "PostgreSQL", sessions, page, skipped: reason });
    return timings;
  }
  const schema = freshSchemaName();
  const postgres = createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: SEED_CONCURRENCY });
  try {
    await postgres.migrateToLatest();
    await seed(postgres, sessions);
    const { newest, newestRoots, byId } = await timeListing(postgres, page, repetitions);
    timings.push({ backend: "PostgreSQL", sessions, page, newestMicros: newest, newestRootsMicros: newestRoots, byIdMicros: byId });
  } finally {
    await postgres.destroy();
    await dropSchema(schema);
  }
  return timings;
}
