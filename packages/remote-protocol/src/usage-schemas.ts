import { z } from "zod";

const count = z.number().int().nonnegative();

/** Token totals: `totalTokens` is input + output + reasoning; `contextTotalTokens` adds cached input. */
export const usageTotalsSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  cachedInputTokens: count,
  reasoningTokens: count,
  totalTokens: count,
  contextTotalTokens: count,
});
export type UsageTotals = z.infer<typeof usageTotalsSchema>;

/** A price table's date, `YYYY-MM-DD`. */
const priceTableDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/**
 * Which prices a usage report's cost uses:
 * - `recorded`: each row at the price table in force when its tokens were spent (the date the server
 *   recorded with the usage when the turn committed, the row's `priceTableDate`), so a later price
 *   change does not rewrite the cost of past turns;
 * - `report_time`: every row at the newest table the server knows (`priceTableDate` of the report),
 *   because no row recorded a date (usage from before dates were recorded);
 * - `mixed`: some rows recorded their date and some did not.
 */
export const PRICE_BASES = ["report_time", "recorded", "mixed"] as const;
export type PriceBasis = (typeof PRICE_BASES)[number];

/** A cost in integer micro-units of USD, and the same as a decimal string. */
const costSchema = z.object({
  /** False when the model is not in the price table (then there is no amount). */
  priced: z.boolean(),
  microUsd: count.optional(),
  usd: z.string().optional(),
  /** The date of the price table that priced this row; absent when it is unpriced. */
  priceTableDate: priceTableDateSchema.optional(),
});

/**
 * `GET /v1/sessions/{id}/usage`: the session's lifetime usage per (source, model), and its cost at
 * list prices (see `PRICE_BASES` for which prices).
 */
export const usageReportSchema = z.object({
  /** The session's total. */
  usage: usageTotalsSchema,
  /** How many ledger rows were summed. */
  entryCount: count,
  /** One row per (source, model), sorted by source then model. */
  rows: z.array(
    z.object({
      source: z.string(),
      model: z.string(),
      /** The date of the price table in force when the row's tokens were spent, when the server recorded it. */
      priceTableDate: priceTableDateSchema.optional(),
      usage: usageTotalsSchema,
      cost: costSchema.optional(),
    }),
  ),
  /** Totals per source (`turn`, `subagent`, ...). */
  bySource: z.array(z.object({ source: z.string(), usage: usageTotalsSchema })),
  /** Totals per model. */
  byModel: z.array(z.object({ model: z.string(), usage: usageTotalsSchema })),
  /** The cost at the prices of the dated price table; models it does not know are listed, not counted. */
  cost: z
    .object({
      currency: z.literal("USD"),
      /** Which prices were used (see `PRICE_BASES`). */
      priceBasis: z.enum(PRICE_BASES),
      /** The date of the newest price table the server knows: what rows without a recorded date are priced at. */
      priceTableDate: z.string(),
      totalMicroUsd: count,
      totalUsd: z.string(),
      unpricedModels: z.array(z.string()),
    })
    .optional(),
});
export type UsageReport = z.infer<typeof usageReportSchema>;

/** `GET /healthz`: the process answers. */
export const healthResponseSchema = z.object({ status: z.literal("ok") });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

/** `GET /readyz`: the store answers too (else 503 with `store_unavailable`). */
export const readinessResponseSchema = z.object({ status: z.literal("ready") });
export type ReadinessResponse = z.infer<typeof readinessResponseSchema>;

/** `GET /v1/usage` query. Unknown parameters are refused. */
export const tenantUsageQuerySchema = z.strictObject({
  /** How many days the `daily` series covers, ending today (UTC), 1 to 366 (default 30). */
  days: z
    .string()
    .regex(/^[0-9]{1,3}$/, { error: "must be a whole number from 1 to 366" })
    .transform(Number)
    .pipe(z.number().int().min(1).max(366))
    .optional(),
});
export type TenantUsageQuery = z.infer<typeof tenantUsageQuerySchema>;

/**
 * `GET /v1/usage`: the caller's (the tenant's) usage over its root sessions, per (source, model)
 * with cost as in a session's report (subagents are in their parent's ledger, source `subagent`),
 * the sessions it covers, and tokens per day.
 */
export const tenantUsageReportSchema = usageReportSchema.extend({
  /** The sessions summed (at most `maxSessions`). */
  sessionCount: count,
  /** True when the tenant has more sessions than the report reads: the totals cover the first `maxSessions`. */
  truncated: z.boolean(),
  /** The most sessions one report reads. */
  maxSessions: count,
  /**
   * Tokens per UTC day, oldest first, one entry per day of the window (zero days included). A
   * session's lifetime tokens count on the day of its last activity: the stores keep usage per
   * session, not per turn, so a session active over several days shows on its latest one.
   */
  daily: z.array(
    z.object({
      /** `YYYY-MM-DD`. */
      date: z.string(),
      /** Input + output + reasoning tokens. */
      totalTokens: count,
      /** Sessions whose last activity was that day. */
      sessions: count,
    }),
  ),
});
export type TenantUsageReport = z.infer<typeof tenantUsageReportSchema>;
