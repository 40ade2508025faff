/*
 * The Prometheus text exposition format (version 0.0.4), written by hand: three metric types with
 * fixed label names, enough for the server's own figures, without a client library.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** The content type of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values in the order of the family's label names. */
export type LabelValues = readonly string[];

/**
 * A label value as the format quotes it: backslash, double quote and line feed escaped. The values
 * are the server's own (route patterns, codes, outcomes), but a value is never trusted to be clean.
 */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** A number as the format writes it: `+Inf`, `-Inf`, `NaN`, else JavaScript's shortest round-trip form. */
export function formatSampleValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

function labelText(names: readonly string[], values: LabelValues, extra?: readonly [string, string]): string {
  const pairs = names.map((name, index) => `${name}="${escapeLabelValue(values[index] ?? "")}"`);
  if (extra !== undefined) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** The map key of a label set: the values joined by a character no label value the server makes contains. */
function keyOf(values: LabelValues): string {
  // One value is its own key (what the join gives too), without building a string per update.
  return values.length === 1 ? (values[0] ?? "") : values.join("\u0000");
}

abstract class MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract readonly type: "counter" | "gauge" | "histogram";

  protected header(): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
  }

  protected checkArity(values: LabelValues): void {
    // A wrong arity is a bug in the server: it would write samples Prometheus cannot parse.
    if (values.length !== this.labelNames.length) {
      throw new Error(`metric ${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
  }

  abstract render(): string[];
}

/** A value that only goes up (resets when the process restarts), per label set. */
export class Counter extends MetricFamily {
  protected readonly type = "counter";
  readonly #series = new Map<string, { readonly values: LabelValues; total: number }>();

  /** Adds `amount` (default 1; a negative or non-finite amount is ignored: counters never go down). */
  add(values: LabelValues, amount = 1): void {
    this.checkArity(values);
    if (!Number.isFinite(amount) || amount <= 0) return;
    const key = keyOf(values);
    const series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, { values: [...values], total: amount });
    else series.total += amount;
  }

  /** The current total of a label set (0 when it never moved). */
  value(values: LabelValues): number {
    return this.#series.get(keyOf(values))?.total ?? 0;
  }

  render(): string[] {
    const lines = this.header();
    for (const series of this.#series.values()) {
      lines.push(`${this.name}${labelText(this.labelNames, series.values)} ${formatSampleValue(series.total)}`);
    }
    return lines;
  }
}

/** A value read when the metrics are scraped (it can go down). */
export class Gauge extends MetricFamily {
  protected readonly type = "gauge";
  readonly #read: () => ReadonlyArray<readonly [LabelValues, number]>;

  /** `read` gives each label set's value at scrape time. */
  constructor(name: string, help: string, labelNames: readonly string[], read: () => ReadonlyArray<readonly [LabelValues, number]>) {
    super(name, help, labelNames);
    this.#read = read;
  }

  render(): string[] {
    const lines = this.header();
    for (const [values, value] of this.#read()) {
      this.checkArity(values);
      lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatSampleValue(value)}`);
    }
    return lines;
  }
}

interface HistogramSeries {
  readonly values: LabelValues;
  /** Observations per bucket (not cumulative; summed when rendered), the last one for `+Inf`. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into buckets with fixed upper bounds, per label set (the `le` label is added). */
export class Histogram extends MetricFamily {
  protected readonly type = "histogram";
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  /** `bounds`: the buckets' upper bounds, ascending; `+Inf` is always added. */
  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    for (let index = 1; index < bounds.length; index += 1) {
      if ((bounds[index] ?? 0) <= (bounds[index - 1] ?? 0)) throw new Error(`histogram ${name}: bucket bounds must ascend`);
    }
    this.#bounds = [...bounds];
  }

  /** Counts one observation (a negative or non-finite one is ignored: durations are never negative). */
  observe(values: LabelValues, observed: number): void {
    this.checkArity(values);
    if (!Number.isFinite(observed) || observed < 0) return;
    const key = keyOf(values);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { values: [...values], counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const bucket = this.#bounds.findIndex((bound) => observed <= bound);
    const index = bucket === -1 ? this.#bounds.length : bucket;
    series.counts[index] = (series.counts[index] ?? 0) + 1;
    series.sum += observed;
    series.count += 1;
  }

  /** How many observations a label set has (0 when none). */
  count(values: LabelValues): number {
    return this.#series.get(keyOf(values))?.count ?? 0;
  }

  render(): string[] {
    const lines = this.header();
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (const [index, bound] of [...this.#bounds, Number.POSITIVE_INFINITY].entries()) {
        cumulative += series.counts[index] ?? 0;
        lines.push(`${this.name}_bucket${labelText(this.labelNames, series.values, ["le", formatSampleValue(bound)])} ${cumulative}`);
      }
      lines.push(`${this.name}_sum${labelText(this.labelNames, series.values)} ${formatSampleValue(series.sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, series.values)} ${series.count}`);
    }
    return lines;
  }
}

/** The exposition of `families`, in order, ending with a line feed. */
export function renderExposition(families: readonly { render(): string[] }[]): string {
  return `${families.flatMap((family) => family.render()).join("\n")}\n`;
}
