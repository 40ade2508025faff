// `pnpm bench` in packages/stores, side by side in one run:
// - W2 turns (packages/core/bench/workloads.ts) through a lash runtime on the in-memory, SQLite and
//   PostgreSQL stores, next to the raw better-sqlite3 floor (one FULL transaction per turn writing
//   the same rows), and the fsyncs per turn of the SQLite store and of the floor (strace, when
//   installed);
// - one final turn commit on every store next to a raw transaction writing the same rows;
// - listing the newest sessions of a large database on SQLite and PostgreSQL;
// - the heap of parked sessions, and resume time per residency.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatMicros, median, type Stats } from "./bench-stats.js";
import { type CommitBenchRow, runCommitBench } from "./commit-bench.js";
import { runListingBench } from "./listing-bench.js";
import { measureParkedHeap, measureResume } from "./park-bench.js";
import { runTurnBench, type TurnBenchRow } from "./turn-bench.js";

const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TURN_WARMUP = Number(process.env.BENCH_TURN_WARMUP ?? 100);
const TURN_ITERATIONS = Number(process.env.BENCH_TURN_ITERATIONS ?? 500);
const FSYNC_TURNS = Number(process.env.BENCH_FSYNC_TURNS ?? 200);
const LISTED_SESSIONS = Number(process.env.BENCH_LISTED_SESSIONS ?? 10_000);
const LISTING_PAGE = 50;
const PARKED_SESSIONS = Number(process.env.BENCH_PARKED ?? 10_000);
const RESUME_MESSAGES = 1_000;

interface SummaryRow {
  readonly name: string;
  readonly skipped?: string | undefined;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
}

/** The median over rounds of each side's mean, p50 and p95. */
function summarize(rounds: readonly (readonly { name: string; stats?: Stats; skipped?: string }[])[]): SummaryRow[] {
  const names = rounds[0]?.map((row) => row.name) ?? [];
  return names.map((name) => {
    const rows = rounds.map((round) => round.find((row) => row.name === name));
    const stats = rows.flatMap((row) => (row?.stats ? [row.stats] : []));
    return {
      name,
      skipped: rows.find((row) => row?.skipped !== undefined)?.skipped,
      mean: median(stats.map((entry) => entry.mean)),
      p50: median(stats.map((entry) => entry.p50)),
      p95: median(stats.map((entry) => entry.p95)),
    };
  });
}

function printTable(rows: readonly SummaryRow[], reference: string, extra: (row: SummaryRow) => string = () => ""): void {
  const base = rows.find((row) => row.name === reference)?.mean ?? Number.NaN;
  console.log(`${"side".padEnd(36)}${"mean".padStart(12)}${"p50".padStart(12)}${"p95".padStart(12)}   mean vs ${reference}`);
  for (const row of rows) {
    if (row.skipped !== undefined) {
      console.log(`${row.name.padEnd(36)}skipped: ${row.skipped}`);
      continue;
    }
    console.log(
      `${row.name.padEnd(36)}${formatMicros(row.mean)}${formatMicros(row.p50)}${formatMicros(row.p95)}   ${(row.mean / base).toFixed(2)}x${extra(row)}`,
    );
  }
}

/**
 * fsync and fdatasync calls per W2 turn of `side`, counted with `strace -f -c` on a child process
 * (with N turns minus with none, over N); undefined when strace is not installed.
 */
async function fsyncsPerTurn(side: "store" | "floor", folder: string): Promise<number | undefined> {
  const probe = fileURLToPath(new URL("./fsync-probe.ts", import.meta.url));
  const count = async (turns: number): Promise<number | undefined> => {
    const output = join(folder, `strace-${side}-${turns}.txt`);
    const run = spawnSync(
      "strace",
      [
        "-f",
        "-c",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        output,
        process.execPath,
        "--conditions=@lash/source",
        "--import",
        "tsx",
        probe,
        side,
        String(turns),
        join(folder, `${side}-${turns}`),
      ],
      { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
    );
    if (run.error !== undefined || run.status !== 0) return undefined;
    const total = (await readFile(output, "utf8")).split("\n").find((line) => line.trim().endsWith("total"));
    const calls = Number(total?.trim().split(/\s+/)[3]);
    return Number.isFinite(calls) ? calls : undefined;
  };
  await mkdir(join(folder, `${side}-0`), { recursive: true });
  await mkdir(join(folder, `${side}-${FSYNC_TURNS}`), { recursive: true });
  const idle = await count(0);
  const busy = await count(FSYNC_TURNS);
  return idle === undefined || busy === undefined ? undefined : (busy - idle) / FSYNC_TURNS;
}

async function main(): Promise<void> {
  console.log(`lash store benchmark: node ${process.version}, median of ${ROUNDS} rounds\n`);
  const folder = await mkdtemp(join(tmpdir(), "lash-store-bench-"));
  try {
    console.log(
      `W2 turns (call 1 streams 5 deltas and calls add(1,2); call 2 streams 50 deltas), a lash runtime per turn on a new session; ${TURN_WARMUP} warm-up + ${TURN_ITERATIONS} timed turns per side`,
    );
    const turnRounds: TurnBenchRow[][] = [];
    for (let round = 0; round < ROUNDS; round += 1) turnRounds.push(await runTurnBench(folder, round, TURN_WARMUP, TURN_ITERATIONS));
    const fsyncs = new Map<string, number | undefined>([
      ["lash + SQLite store", await fsyncsPerTurn("store", folder)],
      ["raw better-sqlite3 floor (FULL)", await fsyncsPerTurn("floor", folder)],
    ]);
    printTable(summarize(turnRounds), "raw better-sqlite3 floor (FULL)", (row) => {
      if (!fsyncs.has(row.name)) return "";
      const value = fsyncs.get(row.name);
      return `   ${value === undefined ? "fsyncs per turn: n/a (no strace)" : `${value.toFixed(2)} fsyncs per turn`}`;
    });
    console.log("goal: W2 + SQLite store <= 600 µs mean per turn; W2 + PostgreSQL (local) <= 3 ms\n");

    console.log(
      `one final turn commit: 4 nodes (user, assistant tool call, tool invocation, answer) + usage, appended to a growing session; ${WARMUP} warm-up + ${ITERATIONS} timed commits per side`,
    );
    const commitRounds: CommitBenchRow[][] = [];
    for (let round = 0; round < ROUNDS; round += 1) commitRounds.push(await runCommitBench(WARMUP, ITERATIONS));
    printTable(summarize(commitRounds), "raw better-sqlite3 transaction");
    console.log("");

    const listings = await runListingBench(folder, LISTED_SESSIONS, LISTING_PAGE, 20);
    console.log(
      `listing the newest ${LISTING_PAGE} of ${LISTED_SESSIONS} sessions (title, model, turns, last activity, tokens), median of 20:`,
    );
    for (const timing of listings) {
      if (timing.skipped !== undefined) {
        console.log(`  ${timing.backend.padEnd(12)}skipped: ${timing.skipped}`);
        continue;
      }
      console.log(
        `  ${timing.backend.padEnd(12)}${formatMicros(timing.newestMicros ?? Number.NaN)}   (root sessions only: ${formatMicros(timing.newestRootsMicros ?? Number.NaN).trim()}; first ${LISTING_PAGE} by id: ${formatMicros(timing.byIdMicros ?? Number.NaN).trim()})`,
      );
    }
    console.log("goal: <= 20 ms on SQLite and PostgreSQL\n");

    const heap = await measureParkedHeap(folder, PARKED_SESSIONS);
    console.log(
      `parked sessions: ${heap.sessions} sessions (one turn each, SQLite) hold ${(heap.totalBytes / 1024 / 1024).toFixed(2)} MB of heap, ${heap.bytesPerSession.toFixed(0)} bytes each`,
    );
    console.log(`goal: ${PARKED_SESSIONS} parked sessions under 20 MB\n`);
    const resumes = await measureResume(folder, RESUME_MESSAGES, 20);
    console.log(
      `resume a session of ${RESUME_MESSAGES} active messages (+${RESUME_MESSAGES} on an abandoned branch), SQLite, median of 20:`,
    );
    for (const timing of resumes)
      console.log(
        `  ${timing.residency.padEnd(18)}${formatMicros(timing.medianMicros)}   (${timing.residentMessages} active messages resident)`,
      );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

await main();
