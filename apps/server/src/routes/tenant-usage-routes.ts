import { SessionUsageReport } from "@lash/observability";
import type { SessionSummary, TokenLedgerEntry } from "@lash/protocol";
import { type TenantUsageReport, tenantUsageQuerySchema } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { singleQueryParameters } from "../http/query-parameters.js";
import { invalidRequest } from "../http/validation-error.js";
import type { ServerContext } from "../server-context.js";
import { listTenantSessions } from "../sessions/tenant-sessions.js";
import type { ServerStore } from "../store/server-store.js";
import { sessionUsageReport } from "./session-usage.js";

/** The most sessions one tenant report reads (each is one read of its ledger). */
export const MAX_TENANT_USAGE_SESSIONS = 500;
const DEFAULT_DAYS = 30;
/** Ledgers read at once. */
const READ_CONCURRENCY = 8;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Up to `max` of the tenant's root sessions, and whether more exist. */
async function tenantSummaries(
  store: ServerStore,
  tenant: string,
  max: number,
): Promise<{ summaries: SessionSummary[]; truncated: boolean }> {
  const summaries: SessionSummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listTenantSessions(store, tenant, { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    for (const summary of page.sessions) {
      if (summaries.length === max) return { summaries, truncated: true };
      summaries.push(summary);
    }
    if (page.nextCursor === undefined) return { summaries, truncated: false };
    cursor = page.nextCursor;
  }
}

/** The session's ledger as the store holds it; empty for a session without a commit or one that cannot be read. */
async function ledgerOf(store: ServerStore, sessionId: string): Promise<readonly TokenLedgerEntry[]> {
  try {
    const read = await store.openSession(sessionId).loadSession({ type: "active_path" });
    return read?.tokenLedger ?? [];
  } catch {
    // A damaged session is listed with its problem elsewhere; it adds nothing here.
    return [];
  }
}

/** One ledger row per (source, model, price table date): the sessions' rows summed. */
function mergeLedgers(ledgers: readonly (readonly TokenLedgerEntry[])[]): TokenLedgerEntry[] {
  const merged = new Map<string, TokenLedgerEntry>();
  for (const ledger of ledgers) {
    for (const entry of ledger) {
      const key = `${entry.source}\u0000${entry.model}\u0000${entry.priceTableDate ?? ""}`;
      const known = merged.get(key);
      if (known === undefined) {
        merged.set(key, { ...entry, usage: { ...entry.usage } });
        continue;
      }
      known.usage.inputTokens += entry.usage.inputTokens;
      known.usage.outputTokens += entry.usage.outputTokens;
      known.usage.cachedInputTokens += entry.usage.cachedInputTokens;
      known.usage.reasoningTokens += entry.usage.reasoningTokens;
    }
  }
  return [...merged.values()];
}

function utcDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** `GET /v1/usage`: the caller's usage over its sessions, with cost and tokens per day. */
export function registerTenantUsageRoutes(app: Hono, context: ServerContext): void {
  app.get("/v1/usage", async (c) => {
    const parsed = tenantUsageQuerySchema.safeParse(singleQueryParameters(c.req.url));
    if (!parsed.success) throw invalidRequest("the query", parsed.error);
    const days = parsed.data.days ?? DEFAULT_DAYS;
    const { summaries, truncated } = await tenantSummaries(context.store, tenantOf(c), MAX_TENANT_USAGE_SESSIONS);
    const ledgers: (readonly TokenLedgerEntry[])[] = [];
    for (let start = 0; start < summaries.length; start += READ_CONCURRENCY) {
      const batch = summaries.slice(start, start + READ_CONCURRENCY);
      ledgers.push(...(await Promise.all(batch.map((summary) => ledgerOf(context.store, summary.sessionId)))));
    }
    const report = sessionUsageReport(SessionUsageReport.fromEntries(mergeLedgers(ledgers)), context.prices);

    const today = Date.parse(`${utcDate(Date.now())}T00:00:00Z`);
    const daily = Array.from({ length: days }, (_, index) => ({
      date: utcDate(today - (days - 1 - index) * DAY_MS),
      totalTokens: 0,
      sessions: 0,
    }));
    const byDate = new Map(daily.map((day) => [day.date, day]));
    summaries.forEach((summary, index) => {
      const when = summary.lastActivityAt ?? summary.meta?.createdAt;
      const day = when === undefined ? undefined : byDate.get(when.slice(0, 10));
      if (day === undefined) return;
      const usage = summary.tokenUsage;
      const total =
        usage === undefined
          ? (ledgers[index] ?? []).reduce(
              (sum, entry) => sum + entry.usage.inputTokens + entry.usage.outputTokens + entry.usage.reasoningTokens,
              0,
            )
          : usage.inputTokens + usage.outputTokens + usage.reasoningTokens;
      day.totalTokens += total;
      day.sessions += 1;
    });
    const response: TenantUsageReport = {
      ...report,
      sessionCount: summaries.length,
      truncated,
      maxSessions: MAX_TENANT_USAGE_SESSIONS,
      daily,
    };
    return c.json(response);
  });
}
