// `pnpm bench` in packages/core: per-turn cost of lash vs the AI SDK on the same scripted steps,
// in one process, side by side. Every side is verified before it is timed.
//
// LASH_BENCH_BASELINE=<folder of another checkout, built> adds that build's turn (its own API) as a
// row, so a change is measured against the code before it in the same run.
import { performance } from "node:perf_hooks";
import { benchContextPreparation, formatContextPreparation } from "./context-preparation.js";
import {
  aiGenerateTurn,
  aiStreamTurn,
  bareLoopTurn,
  baselineTurn,
  lashIteratedTurn,
  lashSinkTurn,
  loadBaselineLash,
  type TurnCheck,
  type WorkloadName,
} from "./workloads.js";

type Runner = (workload: WorkloadName) => Promise<TurnCheck>;

const baselineRoot = process.env.LASH_BENCH_BASELINE;
const baseline = baselineRoot ? await loadBaselineLash(baselineRoot) : undefined;

const RUNNERS: readonly { name: string; run: Runner }[] = [
  { name: "lash for-await", run: lashIteratedTurn },
  { name: "lash sink", run: lashSinkTurn },
  ...(baseline ? [{ name: "lash baseline (sink)", run: (workload: WorkloadName) => baselineTurn(baseline, workload) }] : []),
  { name: "AI SDK streamText", run: aiStreamTurn },
  { name: "AI SDK generateText", run: aiGenerateTurn },
  { name: "bare loop", run: bareLoopTurn },
];

const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function expectWork(name: string, workload: WorkloadName, check: TurnCheck): void {
  const expectedCalls = workload === "W1" ? 1 : 2;
  const expectedLength = workload === "W1" ? 10 * 3 : 50 * 4 - 10 * 1; // "b0 ".."b9 " are 3 chars, "b10 ".. are 4
  const problems: string[] = [];
  if (check.modelCalls !== expectedCalls) problems.push(`${check.modelCalls} model calls (expected ${expectedCalls})`);
  if (workload === "W2" && check.toolResult !== 3) problems.push(`tool result ${String(check.toolResult)} (expected 3)`);
  if (check.finalTextLength !== expectedLength) problems.push(`final text length ${check.finalTextLength} (expected ${expectedLength})`);
  if (check.consumed === 0) problems.push("nothing was consumed");
  if (problems.length > 0) throw new Error(`${name} ${workload} did not do the work: ${problems.join(", ")}`);
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

interface Stats {
  mean: number;
  p50: number;
  p95: number;
}

/** Collects garbage between runners (when run with --expose-gc) so no side pays for another's. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function measure(run: Runner, workload: WorkloadName): Promise<Stats> {
  for (let index = 0; index < WARMUP; index += 1) await run(workload);
  collectGarbage();
  const samples = new Array<number>(ITERATIONS);
  for (let index = 0; index < ITERATIONS; index += 1) {
    const started = performance.now();
    await run(workload);
    samples[index] = (performance.now() - started) * 1000;
  }
  samples.sort((left, right) => left - right);
  return {
    mean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const format = (microseconds: number): string => `${microseconds.toFixed(1).padStart(9)} µs`;

for (const workload of ["W1", "W2"] as const) {
  for (const runner of RUNNERS) expectWork(runner.name, workload, await runner.run(workload));
}
console.log(
  `lash turn benchmark: node ${process.version}, ${WARMUP} warm-up + ${ITERATIONS} timed turns per round, median of ${ROUNDS} rounds`,
);
console.log(
  "W1: one model call streaming 10 text deltas. W2: call 1 streams 5 deltas and calls add({a:1,b:2}); call 2 streams 50 deltas.\n",
);

for (const workload of ["W1", "W2"] as const) {
  const results = new Map<string, Stats[]>();
  for (let round = 0; round < ROUNDS; round += 1) {
    // Runners alternate within each round so that machine noise spreads over all of them.
    for (const runner of RUNNERS) {
      const list = results.get(runner.name) ?? [];
      list.push(await measure(runner.run, workload));
      results.set(runner.name, list);
    }
  }
  const summary = RUNNERS.map((runner) => {
    const rounds = results.get(runner.name) ?? [];
    return {
      name: runner.name,
      mean: median(rounds.map((stats) => stats.mean)),
      p50: median(rounds.map((stats) => stats.p50)),
      p95: median(rounds.map((stats) => stats.p95)),
    };
  });
  const lash = summary[0];
  console.log(`${workload}                        mean          p50          p95    mean vs lash`);
  for (const row of summary) {
    const ratio = lash ? row.mean / lash.mean : Number.NaN;
    console.log(`  ${row.name.padEnd(20)} ${format(row.mean)} ${format(row.p50)} ${format(row.p95)}    ${ratio.toFixed(2)}x`);
  }
  console.log("");
}
console.log("goal: lash W2 streaming in memory <= 300 µs per turn");
console.log(`\n${formatContextPreparation(benchContextPreparation())}`);
