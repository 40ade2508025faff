import { performance } from "node:perf_hooks";

/** Microseconds per operation over one timed run. */
export interface Stats {
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly iterations: number;
}

/** How long, and how often, one runtime runs one workload in one round. */
export interface MeasurePlan {
  readonly warmup: number;
  /** Timed iterations stop at this count, */
  readonly maxIterations: number;
  /** or once this much time was spent timing, */
  readonly budgetMs: number;
  /** but never before this count. */
  readonly minIterations: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/** Collects garbage (when run with --expose-gc) so that no runtime pays for another's. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Warms `operation` up, then times it within the plan's count and time limits. */
export async function measure(operation: () => Promise<unknown>, plan: MeasurePlan): Promise<Stats> {
  for (let index = 0; index < plan.warmup; index += 1) await operation();
  collectGarbage();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < plan.minIterations || (samples.length < plan.maxIterations && performance.now() - started < plan.budgetMs)) {
    const before = performance.now();
    await operation();
    samples.push((performance.now() - before) * 1000);
  }
  const sorted = samples.sort((left, right) => left - right);
  return {
    mean: sorted.reduce((sum, sample) => sum + sample, 0) / sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    iterations: sorted.length,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A duration in microseconds, for the table: µs below 10 ms, ms above. */
export function formatMicros(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} ms`;
  return `${Math.round(value).toLocaleString("en-US")} µs`;
}
