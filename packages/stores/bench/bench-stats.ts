import { performance } from "node:perf_hooks";

export interface Stats {
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/** Collects garbage between sides (with --expose-gc) so no side pays for another's. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs `operation(index)` `warmup` times, then times `iterations` runs; microseconds per run. */
export async function measure(operation: (index: number) => Promise<void> | void, warmup: number, iterations: number): Promise<Stats> {
  for (let index = 0; index < warmup; index += 1) await operation(index);
  collectGarbage();
  const samples = new Array<number>(iterations);
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await operation(warmup + index);
    samples[index] = (performance.now() - started) * 1000;
  }
  samples.sort((left, right) => left - right);
  return {
    mean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
  };
}

export function formatMicros(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(2)} ms`.padStart(12) : `${value.toFixed(1)} µs`.padStart(12);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
