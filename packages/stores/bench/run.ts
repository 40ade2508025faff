// `pnpm bench` in packages/stores: the cost of a turn commit on every backend next to a raw
// better-sqlite3 transaction, the heap of parked sessions, and resume time per residency.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatMicros, median } from "./bench-stats.js";
import { type CommitBenchRow, runCommitBench } from "./commit-bench.js";
import { measureParkedHeap, measureResume } from "./park-bench.js";

const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARKED_SESSIONS = Number(process.env.BENCH_PARKED ?? 10_000);
const RESUME_MESSAGES = 1_000;

async function main(): Promise<void> {
  console.log(
    `lash store benchmark: node ${process.version}, ${WARMUP} warm-up + ${ITERATIONS} timed commits per side, median of ${ROUNDS} rounds`,
  );
  console.log(
    "one final turn commit: 4 nodes (user, assistant tool call, tool invocation, answer) + usage, appended to a growing session\n",
  );
  const rounds: CommitBenchRow[][] = [];
  for (let round = 0; round < ROUNDS; round += 1) rounds.push(await runCommitBench(WARMUP, ITERATIONS));
  const names = rounds[0]?.map((row) => row.name) ?? [];
  const summary = names.map((name) => {
    const rows = rounds.map((round) => round.find((row) => row.name === name));
    const skipped = rows.find((row) => row?.skipped !== undefined)?.skipped;
    const stats = rows.flatMap((row) => (row?.stats ? [row.stats] : []));
    return {
      name,
      skipped,
      mean: median(stats.map((entry) => entry.mean)),
      p50: median(stats.map((entry) => entry.p50)),
      p95: median(stats.map((entry) => entry.p95)),
    };
  });
  const raw = summary.find((row) => row.name.startsWith("raw"))?.mean ?? Number.NaN;
  console.log(`${"side".padEnd(34)}${"mean".padStart(12)}${"p50".padStart(12)}${"p95".padStart(12)}   mean vs raw SQLite`);
  for (const row of summary) {
    if (row.skipped !== undefined) {
      console.log(`${row.name.padEnd(34)}skipped: ${row.skipped}`);
      continue;
    }
    console.log(
      `${row.name.padEnd(34)}${formatMicros(row.mean)}${formatMicros(row.p50)}${formatMicros(row.p95)}   ${(row.mean / raw).toFixed(2)}x`,
    );
  }
  const sqlite = summary.find((row) => row.name === "lash SQLite store")?.mean ?? Number.NaN;
  console.log(`goal: SQLite store commit within 1.5x of the raw transaction (measured ${(sqlite / raw).toFixed(2)}x)\n`);

  const folder = await mkdtemp(join(tmpdir(), "lash-park-bench-"));
  try {
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
