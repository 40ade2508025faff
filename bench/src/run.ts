// The benchmark: every runtime of the table on W1 and W2, then the listing and resume figures; the
// report and its table. src/main.ts runs it and prints; src/bench.test.ts runs it as a smoke test.
import { availableParallelism, cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { type BenchRuntime, errorText } from "./bench-runtime.js";
import { type FigureRow, listingAndResumeFigures } from "./listing-resume.js";
import { collectGarbage, formatMicros, type MeasurePlan, measure, median, type Stats } from "./measure.js";
import { aiGenerateText, aiStreamText } from "./runtimes/ai-sdk.js";
import { langGraphSqlite } from "./runtimes/langgraph.js";
import { lashInMemory, lashNoStore, lashPostgres, lashSqlite } from "./runtimes/lash.js";
import { mastraLibsql } from "./runtimes/mastra.js";
import { openAiAgentsRun, openAiAgentsStream } from "./runtimes/openai-agents.js";
import { rawSqliteFloor } from "./runtimes/raw-sqlite.js";
import { expectWork, WORKLOADS, type WorkloadName } from "./workload.js";

/** Every runtime of the table, in row order; the first is the reference of the ratio column. */
export const RUNTIMES: readonly BenchRuntime[] = [
  lashNoStore,
  lashInMemory,
  lashSqlite,
  lashPostgres,
  rawSqliteFloor,
  aiStreamText,
  aiGenerateText,
  openAiAgentsStream,
  openAiAgentsRun,
  langGraphSqlite,
  mastraLibsql,
];

/** How a run is shaped. */
export interface BenchOptions {
  /** A smoke run: a few turns per cell, a smaller listing database; numbers not worth reading. */
  readonly quick: boolean;
  readonly rounds: number;
  readonly plan: MeasurePlan;
  /** Whether to measure the listing and resume figures. */
  readonly figures: boolean;
  readonly runtimes: readonly BenchRuntime[];
}

/** The options from the environment (see src/main.ts). */
export function benchOptionsFromEnvironment(): BenchOptions {
  const quick = process.env.LASH_BENCH_QUICK === "1";
  const number = (value: string | undefined, fallback: number): number => (value === undefined || value === "" ? fallback : Number(value));
  const only = process.env.LASH_BENCH_ONLY?.split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return {
    quick,
    rounds: number(process.env.BENCH_ROUNDS, quick ? 1 : 3),
    plan: {
      warmup: number(process.env.BENCH_WARMUP, quick ? 2 : 20),
      maxIterations: number(process.env.BENCH_ITERATIONS, quick ? 5 : 3_000),
      budgetMs: number(process.env.BENCH_BUDGET_MS, quick ? 0 : 1_000),
      minIterations: quick ? 3 : 30,
    },
    figures: process.env.LASH_BENCH_SKIP_FIGURES !== "1",
    runtimes: only && only.length > 0 ? RUNTIMES.filter((runtime) => only.some((prefix) => runtime.id.startsWith(prefix))) : RUNTIMES,
  };
}

export interface CellResult {
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  /** Timed turns over all rounds. */
  readonly iterations: number;
}

export interface RuntimeResult {
  readonly id: string;
  readonly name: string;
  readonly kind: BenchRuntime["kind"];
  readonly note?: string;
  readonly skipped?: string;
  readonly workloads: Partial<Record<WorkloadName, CellResult>>;
}

/** Opens a runtime, runs each workload once and checks the work (so nothing is timed that did not do it). */
async function verify(runtime: BenchRuntime): Promise<{ note?: string; skipped?: string }> {
  let opened: Awaited<ReturnType<BenchRuntime["open"]>>;
  try {
    opened = await runtime.open();
  } catch (error) {
    return { skipped: `cannot start here: ${errorText(error)}` };
  }
  if ("skipped" in opened) return { skipped: opened.skipped };
  try {
    for (const workload of WORKLOADS) {
      const check = await opened.turn(workload);
      if (check) expectWork(runtime.name, workload, check);
    }
  } finally {
    await opened.close();
  }
  return opened.note === undefined ? {} : { note: opened.note };
}

/** One round of one runtime on one workload: a fresh open, warm-up, timed turns, close. */
async function measureCell(runtime: BenchRuntime, workload: WorkloadName, plan: MeasurePlan): Promise<Stats> {
  const opened = await runtime.open();
  if ("skipped" in opened) throw new Error(`${runtime.name} became unavailable: ${opened.skipped}`);
  try {
    collectGarbage();
    return await measure(() => opened.turn(workload), plan);
  } finally {
    await opened.close();
  }
}

export interface BenchReport {
  readonly node: string;
  readonly cpus: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly plan: MeasurePlan;
  readonly runtimes: readonly RuntimeResult[];
  readonly figures: readonly FigureRow[];
  readonly seconds: number;
}

/** Runs the whole benchmark; `log` receives progress lines (stderr by default). */
export async function runBench(
  options: BenchOptions = benchOptionsFromEnvironment(),
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BenchReport> {
  const { runtimes, rounds, plan } = options;
  const started = performance.now();
  const prepared: { runtime: BenchRuntime; note?: string; skipped?: string }[] = [];
  for (const runtime of runtimes) {
    const verdict = await verify(runtime);
    log(verdict.skipped ? `  ${runtime.name}: skipped (${verdict.skipped})` : `  ${runtime.name}: did the W1 and W2 work`);
    prepared.push({ runtime, ...verdict });
  }
  const samples = new Map<string, Stats[]>();
  for (let round = 0; round < rounds; round += 1) {
    // Runtimes alternate within each round, so that noise of the (shared) machine spreads over all.
    for (const workload of WORKLOADS) {
      for (const { runtime, skipped } of prepared) {
        if (skipped) continue;
        const stats = await measureCell(runtime, workload, plan);
        const key = `${runtime.id}/${workload}`;
        samples.set(key, [...(samples.get(key) ?? []), stats]);
        log(`  round ${round + 1}/${rounds} ${workload} ${runtime.name}: ${formatMicros(stats.mean)} mean over ${stats.iterations}`);
      }
    }
  }
  const results: RuntimeResult[] = prepared.map(({ runtime, note, skipped }) => {
    const workloads: Partial<Record<WorkloadName, CellResult>> = {};
    for (const workload of WORKLOADS) {
      const rounds = samples.get(`${runtime.id}/${workload}`);
      if (!rounds) continue;
      workloads[workload] = {
        mean: median(rounds.map((stats) => stats.mean)),
        p50: median(rounds.map((stats) => stats.p50)),
        p95: median(rounds.map((stats) => stats.p95)),
        iterations: rounds.reduce((sum, stats) => sum + stats.iterations, 0),
      };
    }
    return {
      id: runtime.id,
      name: runtime.name,
      kind: runtime.kind,
      ...(note === undefined ? {} : { note }),
      ...(skipped === undefined ? {} : { skipped }),
      workloads,
    };
  });
  let figures: FigureRow[] = [];
  if (options.figures) {
    log("  listing and resume figures (writing the listed sessions first)");
    figures = await listingAndResumeFigures(options.quick);
  }
  return {
    node: process.version,
    cpus: `${availableParallelism()} × ${cpus()[0]?.model ?? "unknown CPU"}`,
    quick: options.quick,
    rounds,
    plan,
    runtimes: results,
    figures,
    seconds: (performance.now() - started) / 1000,
  };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** W2 ratios among the durable rows: lash SQLite against its floor and against the durable peers. */
function durableComparison(report: BenchReport): string[] {
  const w2 = (id: string): number | undefined => report.runtimes.find((runtime) => runtime.id === id)?.workloads.W2?.mean;
  const sqlite = w2("lash.sqlite");
  if (sqlite === undefined) return [];
  const parts: string[] = [];
  const floor = w2("floor.raw-sqlite");
  if (floor !== undefined) parts.push(`lash SQLite = ${(sqlite / floor).toFixed(1)}x the raw SQLite floor`);
  for (const [id, name] of [
    ["langgraph.sqlite-saver.stream", "LangGraph + SqliteSaver"],
    ["mastra.libsql.stream", "Mastra + LibSQL"],
  ] as const) {
    const peer = w2(id);
    if (peer !== undefined) parts.push(`${name} = ${(peer / sqlite).toFixed(1)}x lash SQLite`);
  }
  return parts;
}

/** The report as the table printed to stdout. */
export function formatReport(report: BenchReport): string {
  const reference = report.runtimes.find((runtime) => runtime.id === "lash.no-store");
  const lines: string[] = [];
  lines.push(
    `lash benchmark: node ${report.node}, ${report.cpus}; ${report.rounds} round(s), each cell ${report.plan.warmup} warm-up turns then up to ${report.plan.maxIterations} timed turns or ${report.plan.budgetMs} ms; figures are the median of the rounds${report.quick ? " (LASH_BENCH_QUICK: a smoke run, not a measurement)" : ""}`,
  );
  lines.push(
    "W1: one model call streaming 10 text deltas. W2: call 1 streams 5 deltas and calls add({a:1,b:2}); call 2 streams 50 deltas. Zero-latency fake models; µs per turn; ratio = mean / lash no-store mean.",
  );
  lines.push("");
  const nameWidth = Math.max(...report.runtimes.map((runtime) => runtime.name.length), 10) + 2;
  const header = [
    pad("runtime", nameWidth),
    pad("W1 mean", 10, true),
    pad("W1 p50", 10, true),
    pad("W1 ratio", 9, true),
    pad("W2 mean", 10, true),
    pad("W2 p50", 10, true),
    pad("W2 ratio", 9, true),
  ].join(" ");
  lines.push(header);
  lines.push("-".repeat(header.length));
  const notes: string[] = [];
  for (const runtime of report.runtimes) {
    if (runtime.skipped) {
      lines.push(`${pad(runtime.name, nameWidth)} skipped: ${runtime.skipped}`);
      continue;
    }
    const cells = WORKLOADS.flatMap((workload) => {
      const cell = runtime.workloads[workload];
      const base = reference?.workloads[workload]?.mean;
      const ratio = cell && base ? `${(cell.mean / base).toFixed(1)}x` : "–";
      return [
        pad(formatMicros(cell?.mean ?? Number.NaN), 10, true),
        pad(formatMicros(cell?.p50 ?? Number.NaN), 10, true),
        pad(ratio, 9, true),
      ];
    });
    lines.push([pad(runtime.name, nameWidth), ...cells].join(" "));
    if (runtime.note) notes.push(`  ${runtime.name}: ${runtime.note}`);
  }
  if (notes.length > 0) {
    lines.push("");
    lines.push("setup:");
    lines.push(...notes);
  }
  if (report.figures.length > 0) {
    lines.push("");
    const figureWidth = Math.max(...report.figures.map((figure) => figure.name.length)) + 2;
    lines.push(`${pad("figure", figureWidth)}${pad("median", 10, true)} ${pad("mean", 10, true)} ${pad("goal", 10, true)}`);
    lines.push("-".repeat(figureWidth + 33));
    for (const figure of report.figures) {
      if (figure.skipped !== undefined || figure.median === undefined || figure.mean === undefined) {
        lines.push(`${pad(figure.name, figureWidth)}skipped: ${figure.skipped ?? "no result"}`);
        continue;
      }
      lines.push(
        `${pad(figure.name, figureWidth)}${pad(formatMicros(figure.median), 10, true)} ${pad(formatMicros(figure.mean), 10, true)} ${pad(`≤ ${formatMicros(figure.goal)}`, 10, true)}`,
      );
      if (figure.detail) lines.push(`  ${figure.detail}; ${figure.repetitions} timed repetitions`);
    }
  }
  const durable = durableComparison(report);
  if (durable.length > 0) {
    lines.push("");
    lines.push(`durable, W2 mean: ${durable.join("; ")}`);
  }
  lines.push("");
  lines.push(
    `goals (issue 17, W2 mean): no store ≤ 45 µs, in-memory ≤ 120 µs, SQLite ≤ 600 µs, PostgreSQL ≤ 3 ms. Whole run: ${report.seconds.toFixed(0)} s.`,
  );
  return lines.join("\n");
}
