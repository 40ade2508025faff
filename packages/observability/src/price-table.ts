import { LashError } from "@lash/protocol";
import { z } from "zod";

const microUsd = z.number().int().nonnegative();

/**
 * The price of one model, in integer micro-US-dollars per million tokens ($2.50 per million tokens
 * is `2_500_000`), so costs are computed without float drift.
 */
export const modelPriceSchema = z.object({
  microUsdPerMillionTokens: z.object({
    input: microUsd,
    /** Input tokens served from the provider's prompt cache. */
    cachedInput: microUsd,
    output: microUsd,
    reasoning: microUsd,
  }),
  /**
   * True when the provider's input count already includes the cached tokens (OpenAI, Google), so
   * only `input - cached` is billed at the input price; false when cached tokens are reported beside
   * input (Anthropic).
   */
  inputIncludesCachedTokens: z.boolean(),
  /** The day (`YYYY-MM-DD`) this price took effect, when it differs from the table's. */
  effectiveDate: z.string().optional(),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

/** Prices per model id, with the day they were taken from the providers' price pages. */
export const priceTableSchema = z.object({
  currency: z.literal("USD"),
  effectiveDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD"),
  models: z.record(z.string(), modelPriceSchema),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

/** Validates a host's price table; a bad one is a configuration error naming the field. */
export function definePriceTable(table: PriceTable): PriceTable {
  const parsed = priceTableSchema.safeParse(table);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new LashError(
    "invalid_configuration",
    `invalid price table at \`${issue?.path.map(String).join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
  );
}

/**
 * A table with some models added or replaced (the base is not modified). The result takes the
 * overrides' `effectiveDate` when given.
 */
export function withModelPrices(base: PriceTable, models: Readonly<Record<string, ModelPrice>>, effectiveDate?: string): PriceTable {
  return definePriceTable({ ...base, effectiveDate: effectiveDate ?? base.effectiveDate, models: { ...base.models, ...models } });
}

const datedSnapshot = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/**
 * The price of `model`: its exact id, else the id without a dated-snapshot suffix
 * (`gpt-4o-2024-08-06` -> `gpt-4o`, `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`). Anything
 * else is unpriced: a model is never priced by resemblance.
 */
export function lookupModelPrice(table: PriceTable, model: string): ModelPrice | undefined {
  if (Object.hasOwn(table.models, model)) return table.models[model];
  const base = model.replace(datedSnapshot, "");
  return base !== model && Object.hasOwn(table.models, base) ? table.models[base] : undefined;
}
