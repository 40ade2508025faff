import { describe, expect, it } from "vitest";
import { Counter, escapeLabelValue, formatSampleValue, Gauge, Histogram, renderExposition } from "./prometheus-text.js";

describe("the Prometheus text exposition", () => {
  it("escapes backslash, double quote and line feed in label values, and nothing else", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue("/v1/sessions/:sessionId")).toBe("/v1/sessions/:sessionId");
    const counter = new Counter("lash_test_total", "A test\ncounter with a \\ in its help.", ["route"]);
    counter.add(['/x"}\nlash_fake 1']);
    const text = renderExposition([counter]);
    expect(text).toBe(
      [
        "# HELP lash_test_total A test\\ncounter with a \\\\ in its help.",
        "# TYPE lash_test_total counter",
        'lash_test_total{route="/x\\"}\\nlash_fake 1"} 1',
        "",
      ].join("\n"),
    );
    // A hostile value cannot start a line of its own.
    expect(text.split("\n").some((line) => line.startsWith("lash_fake"))).toBe(false);
  });

  it("counts per label set and never goes down", () => {
    const counter = new Counter("lash_test_total", "Test.", ["code"]);
    counter.add(["a"]);
    counter.add(["a"], 2);
    counter.add(["b"], -5);
    counter.add(["b"], Number.NaN);
    expect(counter.value(["a"])).toBe(3);
    expect(counter.value(["b"])).toBe(0);
    expect(() => counter.add([])).toThrow(/takes 1 label values/);
  });

  it("writes cumulative histogram buckets ending with +Inf, then the sum and count", () => {
    const histogram = new Histogram("lash_test_seconds", "Test.", ["route"], [0.1, 1]);
    for (const value of [0.05, 0.1, 0.5, 7]) histogram.observe(["/r"], value);
    histogram.observe(["/r"], -1);
    expect(renderExposition([histogram]).split("\n").slice(2, -1)).toEqual([
      'lash_test_seconds_bucket{route="/r",le="0.1"} 2',
      'lash_test_seconds_bucket{route="/r",le="1"} 3',
      'lash_test_seconds_bucket{route="/r",le="+Inf"} 4',
      'lash_test_seconds_sum{route="/r"} 7.65',
      'lash_test_seconds_count{route="/r"} 4',
    ]);
    expect(() => new Histogram("lash_bad", "Test.", [], [1, 1])).toThrow(/ascend/);
  });

  it("reads gauges when rendered, and writes special values as the format spells them", () => {
    let live = 1;
    const gauge = new Gauge("lash_test_live", "Test.", [], () => [[[], live]]);
    expect(renderExposition([gauge])).toContain("\nlash_test_live 1\n");
    live = 0;
    expect(renderExposition([gauge])).toContain("\nlash_test_live 0\n");
    expect([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0.25].map(formatSampleValue)).toEqual([
      "+Inf",
      "-Inf",
      "NaN",
      "0.25",
    ]);
  });
});
