import type { TokenLedgerEntry, TokenUsage } from "@lash/protocol";
import { addTokenUsage, compareCodePoints, isEmptyTokenUsage, mergeTokenLedger } from "@lash/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffTokenLedger } from "./usage-diff.js";
import type { SessionUsageReportJson } from "./usage-report.js";
import { SessionUsageReport } from "./usage-report.js";

const count = fc.integer({ min: 0, max: 1_000_000 });
const usage: fc.Arbitrary<TokenUsage> = fc.record({
  inputTokens: count,
  outputTokens: count,
  cachedInputTokens: count,
  reasoningTokens: count,
});
const name = fc.constantFrom("turn", "child", "subagent", "Observer", "é", "z");
const model = fc.constantFrom("gpt-5", "claude-sonnet-4-5", "m", "M");
const entry: fc.Arbitrary<TokenLedgerEntry> = fc.record({ source: name, model, usage });
/** A ledger as the runtime keeps it: one row per pair, no empty rows. */
const ledger = fc.array(entry, { maxLength: 12 }).map((entries) => mergeTokenLedger([], entries));

function sorted(entries: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  const key = (entry: TokenLedgerEntry): string => JSON.stringify([entry.source, entry.model]);
  return [...entries].sort((left, right) => (key(left) < key(right) ? -1 : key(left) > key(right) ? 1 : 0));
}

describe("usage properties", () => {
  it("diff(a, a + d) == d (as a set of non-empty pairs)", () => {
    fc.assert(
      fc.property(ledger, ledger, (a, d) => {
        const after = mergeTokenLedger(a, d);
        const diff = diffTokenLedger(a, after);
        expect(sorted(diff)).toEqual(sorted(d.filter((row) => !isEmptyTokenUsage(row.usage))));
      }),
    );
  });

  it("diff(a, a) is empty", () => {
    fc.assert(
      fc.property(ledger, (a) => {
        expect(diffTokenLedger(a, a)).toEqual([]);
      }),
    );
  });

  it("report totals equal the sum of its rows, and of the per-source and per-model sums", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 15 }), (entries) => {
        const report = SessionUsageReport.fromEntries(entries);
        const fields = [
          "inputTokens",
          "outputTokens",
          "cachedInputTokens",
          "reasoningTokens",
          "totalTokens",
          "contextTotalTokens",
        ] as const;
        for (const field of fields) {
          const rows = report.bySourceModel.reduce((sum, row) => sum + row.usage[field], 0);
          const sources = [...report.bySource.values()].reduce((sum, totals) => sum + totals[field], 0);
          const models = [...report.byModel.values()].reduce((sum, totals) => sum + totals[field], 0);
          expect([rows, sources, models]).toEqual([report.usage[field], report.usage[field], report.usage[field]]);
        }
        expect(report.usage.contextTotalTokens).toBe(report.usage.totalTokens + report.usage.cachedInputTokens);
      }),
    );
  });

  it("the totals and keyed sums do not depend on the order of the entries", () => {
    fc.assert(
      fc.property(
        fc
          .array(entry, { maxLength: 15 })
          .chain((entries) =>
            fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })),
          ),
        ([entries, shuffled]) => {
          const left = SessionUsageReport.fromEntries(entries);
          const right = SessionUsageReport.fromEntries(shuffled);
          expect(right.usage).toEqual(left.usage);
          expect(right.bySource).toEqual(left.bySource);
          expect(right.byModel).toEqual(left.byModel);
          // Map equality ignores order, so the order is compared on its own.
          expect([...right.bySource.keys()]).toEqual([...left.bySource.keys()]);
          expect([...right.byModel.keys()]).toEqual([...left.byModel.keys()]);
          // The JSON form too, minus the ledger rows, which follow the input's order on purpose.
          const { bySourceModel: _rightRows, ...rightJson } = right.toJSON();
          const { bySourceModel: _leftRows, ...leftJson } = left.toJSON();
          expect(JSON.stringify(rightJson)).toBe(JSON.stringify(leftJson));
        },
      ),
    );
  });

  it("the keyed sums iterate, and serialise, in code-point order of any keys", () => {
    // Integer-like strings are the keys a plain object would have reordered.
    const key = fc.oneof(fc.string({ unit: "grapheme", maxLength: 4 }), fc.nat({ max: 200 }).map(String));
    const anyEntry: fc.Arbitrary<TokenLedgerEntry> = fc.record({ source: key, model: key, usage });
    fc.assert(
      fc.property(fc.array(anyEntry, { maxLength: 15 }), (entries) => {
        const report = SessionUsageReport.fromEntries(entries);
        const sources = [...new Set(entries.map((row) => row.source))].sort(compareCodePoints);
        const models = [...new Set(entries.map((row) => row.model))].sort(compareCodePoints);
        expect([...report.bySource.keys()]).toEqual(sources);
        expect([...report.byModel.keys()]).toEqual(models);
        const json = JSON.parse(JSON.stringify(report)) as SessionUsageReportJson;
        expect(json.bySource.map((row) => row.source)).toEqual(sources);
        expect(json.byModel.map((row) => row.model)).toEqual(models);
      }),
    );
  });

  it("the diff does not depend on the order of either ledger", () => {
    fc.assert(
      fc.property(ledger, ledger, fc.integer(), (a, d, seed) => {
        const after = mergeTokenLedger(a, d);
        const rotate = <T>(items: readonly T[]): T[] =>
          items.length === 0 ? [] : [...items.slice(Math.abs(seed) % items.length), ...items.slice(0, Math.abs(seed) % items.length)];
        expect(diffTokenLedger(rotate(a), rotate(after))).toEqual(diffTokenLedger(a, after));
      }),
    );
  });

  it("a report of a merged ledger has the total of the merged entries", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 10 }), (entries) => {
        const total = entries.reduce((sum, row) => addTokenUsage(sum, row.usage), {
          inputTokens: 0,
          outputTokens: 0,
          cachedInputTokens: 0,
          reasoningTokens: 0,
        });
        const report = SessionUsageReport.fromEntries(mergeTokenLedger([], entries));
        expect(report.usage.inputTokens).toBe(total.inputTokens);
        expect(report.usage.cachedInputTokens).toBe(total.cachedInputTokens);
      }),
    );
  });
});
