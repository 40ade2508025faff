import type { TokenLedgerEntry } from "@lash/protocol";
import { LashError, mergeTokenLedger } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { computeCostReport, formatMicroUsd } from "./cost-report.js";
import { DEFAULT_PRICE_TABLE } from "./default-price-table.js";
import { definePriceTable, lookupModelPrice, type PriceTable, priceTableSchema, withModelPrices } from "./price-table.js";
import { SessionUsageReport } from "./usage-report.js";

function entry(source: string, model: string, input: number, output: number, cached: number, reasoning: number): TokenLedgerEntry {
  return { source, model, usage: { inputTokens: input, outputTokens: output, cachedInputTokens: cached, reasoningTokens: reasoning } };
}

const table: PriceTable = definePriceTable({
  currency: "USD",
  effectiveDate: "2026-01-01",
  models: {
    inside: {
      microUsdPerMillionTokens: { input: 2_500_000, cachedInput: 1_250_000, output: 10_000_000, reasoning: 10_000_000 },
      inputIncludesCachedTokens: true,
    },
    beside: {
      microUsdPerMillionTokens: { input: 3_000_000, cachedInput: 300_000, output: 15_000_000, reasoning: 15_000_000 },
      inputIncludesCachedTokens: false,
    },
    tiny: { microUsdPerMillionTokens: { input: 1, cachedInput: 0, output: 3, reasoning: 0 }, inputIncludesCachedTokens: true },
  },
});

describe("computeCostReport", () => {
  it("prices each kind of token in integer micro-dollars; cached inside input is billed once", () => {
    // inside: (1000 - 400) * 2.5 + 400 * 1.25 + 200 * 10 + 100 * 10 per million = 1500 + 500 + 2000 + 1000
    const report = computeCostReport([entry("turn", "inside", 1000, 200, 400, 100)], table);
    expect(report.rows).toEqual([
      {
        source: "turn",
        model: "inside",
        priced: true,
        microUsd: 5000,
        breakdown: { input: 1500, cachedInput: 500, output: 2000, reasoning: 1000 },
        priceTableDate: "2026-01-01",
      },
    ]);
    expect(report.priceBasis).toBe("report_time");
    expect(report.totalMicroUsd).toBe(5000);
    expect(Number.isInteger(report.totalMicroUsd)).toBe(true);
  });

  describe("with a price history", () => {
    // The same model got cheaper on 2026-06-01: tokens spent before stay at the old price.
    const older = definePriceTable({
      currency: "USD",
      effectiveDate: "2025-10-01",
      models: {
        inside: {
          microUsdPerMillionTokens: { input: 5_000_000, cachedInput: 0, output: 0, reasoning: 0 },
          inputIncludesCachedTokens: true,
        },
      },
    });
    const newer = withModelPrices(
      older,
      {
        inside: {
          microUsdPerMillionTokens: { input: 1_000_000, cachedInput: 0, output: 0, reasoning: 0 },
          inputIncludesCachedTokens: true,
        },
      },
      "2026-06-01",
    );
    const dated = (date: string | undefined): TokenLedgerEntry => ({
      ...entry("turn", "inside", 1_000_000, 0, 0, 0),
      ...(date === undefined ? {} : { priceTableDate: date }),
    });

    it("prices a row that recorded its table's date with that table, whatever the newest table says", () => {
      const report = computeCostReport([dated("2025-10-01"), dated("2026-06-01")], [newer, older]);
      expect(report.rows.map((row) => (row.priced ? [row.microUsd, row.priceTableDate] : undefined))).toEqual([
        [5_000_000, "2025-10-01"],
        [1_000_000, "2026-06-01"],
      ]);
      expect(report).toMatchObject({ priceBasis: "recorded", priceTableDate: "2026-06-01", totalMicroUsd: 6_000_000 });
    });

    it("uses the newest table that took effect on or before a recorded date the history does not hold", () => {
      const report = computeCostReport([dated("2026-03-15")], [older, newer]);
      expect(report.rows[0]).toMatchObject({ priced: true, microUsd: 5_000_000, priceTableDate: "2025-10-01" });
    });

    it("prices rows without a date, or dated before every table, at the newest table and says the basis is mixed", () => {
      const report = computeCostReport([dated(undefined), dated("2020-01-01"), dated("2025-10-01")], [older, newer]);
      expect(report.rows.map((row) => (row.priced ? row.microUsd : undefined))).toEqual([1_000_000, 1_000_000, 5_000_000]);
      expect(report.priceBasis).toBe("mixed");
    });

    it("keeps rows of different dates apart when a ledger is merged", () => {
      const merged = mergeTokenLedger([], [dated("2025-10-01"), dated("2026-06-01"), dated("2025-10-01")]);
      expect(merged.map((row) => [row.priceTableDate, row.usage.inputTokens])).toEqual([
        ["2025-10-01", 2_000_000],
        ["2026-06-01", 1_000_000],
      ]);
    });

    it("refuses an empty price history with a typed error", () => {
      expect(() => computeCostReport([dated(undefined)], [])).toThrow(/at least one price table/);
    });
  });

  it("bills all input at the input price when cached tokens are reported beside it", () => {
    const report = computeCostReport([entry("turn", "beside", 1000, 0, 1000, 0)], table);
    expect(report.rows[0]).toMatchObject({ breakdown: { input: 3000, cachedInput: 300 } });
  });

  it("rounds each component half up, with no float drift over many rows", () => {
    // 1 token at 3 micro-dollars per million is 0.000003 µ$: rounds to 0; 500000 output tokens at 3 is 1.5 µ$: rounds to 2.
    expect(computeCostReport([entry("t", "tiny", 0, 500_000, 0, 0)], table).totalMicroUsd).toBe(2);
    const rows = Array.from({ length: 1000 }, (_, index) => entry(`s${index}`, "inside", 333, 77, 0, 0));
    const report = computeCostReport(rows, table);
    // each row: 333 * 2.5 = 832.5 -> 833, 77 * 10 = 770 -> 1603
    expect(report.totalMicroUsd).toBe(1_603_000);
  });

  it("is exact for counts whose product passes 2^53", () => {
    const report = computeCostReport([entry("t", "beside", 4_000_000_000, 0, 0, 0)], table);
    expect(report.totalMicroUsd).toBe(12_000_000_000);
  });

  it("lists unknown models as unpriced, never guessed, and leaves them out of the total", () => {
    const report = computeCostReport([
      entry("turn", "gpt-5.4-mini", 10, 2, 3, 1),
      entry("turn", "inside", 1000, 0, 0, 0),
      entry("child", "gpt-5.4-mini", 1, 0, 0, 0),
      entry("x", "gpt-4o-mini-turbo", 1, 0, 0, 0),
    ]);
    expect(report.unpricedModels).toEqual(["gpt-4o-mini-turbo", "gpt-5.4-mini", "inside"]);
    expect(report.rows.map((row) => row.priced)).toEqual([false, false, false, false]);
    expect(report.totalMicroUsd).toBe(0);
  });

  it("accepts a SessionUsageReport and gives the same answer as its ledger", () => {
    const ledger = [entry("turn", "inside", 1000, 200, 400, 100), entry("observer", "beside", 10, 10, 0, 0)];
    expect(computeCostReport(SessionUsageReport.fromEntries(ledger), table)).toEqual(computeCostReport(ledger, table));
  });

  it("uses the default table when none is given, with its date", () => {
    const report = computeCostReport([entry("turn", "gpt-4o", 1_000_000, 1_000_000, 0, 0)]);
    expect(report.priceTableDate).toBe(DEFAULT_PRICE_TABLE.effectiveDate);
    expect(report.totalMicroUsd).toBe(12_500_000);
  });

  it("rejects input that is neither a ledger nor a report", () => {
    expect(() => computeCostReport({} as never)).toThrow(LashError);
  });
});

describe("price tables", () => {
  it("the default table is valid and dated", () => {
    expect(priceTableSchema.parse(DEFAULT_PRICE_TABLE)).toEqual(DEFAULT_PRICE_TABLE);
    expect(DEFAULT_PRICE_TABLE.effectiveDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const model of ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"])
      expect(lookupModelPrice(DEFAULT_PRICE_TABLE, model)).toBeDefined();
  });

  it("matches dated snapshots exactly, nothing looser", () => {
    expect(lookupModelPrice(DEFAULT_PRICE_TABLE, "gpt-4o-2024-08-06")).toBe(DEFAULT_PRICE_TABLE.models["gpt-4o"]);
    expect(lookupModelPrice(DEFAULT_PRICE_TABLE, "claude-sonnet-4-5-20250929")).toBe(DEFAULT_PRICE_TABLE.models["claude-sonnet-4-5"]);
    expect(lookupModelPrice(DEFAULT_PRICE_TABLE, "gpt-4o-latest")).toBeUndefined();
    expect(lookupModelPrice(DEFAULT_PRICE_TABLE, "toString")).toBeUndefined();
  });

  it("a host overrides and extends the table without changing the default", () => {
    const custom = withModelPrices(
      DEFAULT_PRICE_TABLE,
      {
        "gpt-4o": {
          microUsdPerMillionTokens: { input: 1_000_000, cachedInput: 0, output: 0, reasoning: 0 },
          inputIncludesCachedTokens: true,
        },
        "in-house": {
          microUsdPerMillionTokens: { input: 500_000, cachedInput: 0, output: 0, reasoning: 0 },
          inputIncludesCachedTokens: true,
        },
      },
      "2026-02-01",
    );
    const ledger = [entry("turn", "gpt-4o", 1_000_000, 0, 0, 0), entry("turn", "in-house", 2_000_000, 0, 0, 0)];
    expect(computeCostReport(ledger, custom).totalMicroUsd).toBe(2_000_000);
    expect(computeCostReport(ledger, custom).priceTableDate).toBe("2026-02-01");
    expect(computeCostReport(ledger).unpricedModels).toEqual(["in-house"]);
  });

  it("a bad table is a configuration error naming the field", () => {
    const bad = {
      currency: "USD",
      effectiveDate: "2026-01-01",
      models: { m: { microUsdPerMillionTokens: { input: 1.5, cachedInput: 0, output: 0, reasoning: 0 }, inputIncludesCachedTokens: true } },
    };
    try {
      definePriceTable(bad as PriceTable);
      expect.unreachable();
    } catch (error) {
      expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
      expect((error as Error).message).toContain("models.m.microUsdPerMillionTokens.input");
    }
  });
});

describe("formatMicroUsd", () => {
  it("renders exact six-decimal dollars", () => {
    expect(formatMicroUsd(0)).toBe("0.000000");
    expect(formatMicroUsd(5000)).toBe("0.005000");
    expect(formatMicroUsd(12_500_000)).toBe("12.500000");
    expect(formatMicroUsd(-1)).toBe("-0.000001");
  });
});
