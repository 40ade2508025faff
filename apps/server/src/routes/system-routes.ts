import { createOpenApiDocument, type HealthResponse, type ReadinessResponse, renderApiReferencePage } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { HttpError, toHttpError } from "../http/http-error.js";
import { type MetricsOptions, refuseMetricsRequest } from "../metrics/metrics-access.js";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/prometheus-text.js";
import type { ServerMetrics } from "../metrics/server-metrics.js";
import type { ServerContext, ServerStats } from "../server-context.js";

/** Live runtimes, parked sessions, running and queued turns, now. */
export function serverStats(context: ServerContext): ServerStats {
  return {
    liveRuntimes: context.runtimes.liveCount,
    liveRuntimeBytes: context.runtimes.liveBytes,
    parkedSessions: context.runtimes.parkedCount,
    runningTurns: context.turns.runningTurns().length,
    queuedTurns: context.turns.queuedTotal,
  };
}

/** What `/metrics` serves, and to whom; `options: false` leaves the route out. */
export interface MetricsRoute {
  readonly metrics: ServerMetrics;
  readonly options: MetricsOptions | false;
}

/** The probes, the metrics and the API document. */
export function registerSystemRoutes(app: Hono, context: ServerContext, metricsRoute?: MetricsRoute): void {
  // Built once: it depends on the schemas only.
  let document: ReturnType<typeof createOpenApiDocument> | undefined;

  app.get("/healthz", (c) => c.json({ status: "ok" } satisfies HealthResponse));

  app.get("/readyz", async (c) => {
    if (context.draining) throw new HttpError("shutting_down", "the server is shutting down");
    try {
      await context.store.checkReady();
    } catch (error) {
      const failure = toHttpError(error);
      // Whatever the store threw, a store that does not answer means "not ready", which is 503.
      throw new HttpError("store_unavailable", `the store ${context.store.description} does not answer: ${failure.message}`, {
        status: 503,
      });
    }
    return c.json({ status: "ready" } satisfies ReadinessResponse);
  });

  if (metricsRoute !== undefined && metricsRoute.options !== false) {
    const { metrics, options } = metricsRoute;
    // Served while draining too: a scrape during shutdown shows the turns finishing.
    app.get("/metrics", (c) => {
      const refusal = refuseMetricsRequest(options, c.req.header("authorization"));
      if (refusal !== undefined) return refusal;
      return new Response(
        metrics.render(() => serverStats(context)),
        { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } },
      );
    });
    // Here rather than with the other routes' 405s: a server without the route answers 404 for it.
    app.all("/metrics", () => {
      throw new HttpError("method_not_allowed", "use GET on this path", { details: { allowed: ["GET"] } });
    });
  }

  app.get("/openapi.json", (c) => {
    document ??= createOpenApiDocument({ version: context.version });
    return c.json(document);
  });

  // The same document as a page to read: self-contained HTML, no script.
  let reference: string | undefined;
  app.get("/reference", (c) => {
    document ??= createOpenApiDocument({ version: context.version });
    reference ??= renderApiReferencePage(document);
    return c.html(reference, 200, { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" });
  });
}
