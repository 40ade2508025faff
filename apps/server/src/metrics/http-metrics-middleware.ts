import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { toHttpError } from "../http/http-error.js";
import { codeLabel, methodLabel, type ServerMetrics } from "./server-metrics.js";

/** An error body larger than this is not read for its code (the server's own are a few hundred bytes). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The route pattern that served a request (`/v1/sessions/:sessionId`), never the path itself: ids
 * in paths would make one series per session. Middleware patterns (`*`, `/v1/*`) are skipped; a
 * path no route serves is `unmatched`, whatever it was.
 */
function routeLabel(c: Context): string {
  for (const route of matchedRoutes(c)) if (!route.path.endsWith("*")) return route.path;
  return "unmatched";
}

/**
 * The error code of an error response: the thrown error's when a route threw (as `onError` answers
 * it), else the `error.code` of its JSON body (responses built without throwing: 401, 429, a turn's
 * failure, the OpenAI route's errors). `unknown` when neither says.
 */
async function errorCodeOf(c: Context): Promise<string> {
  if (c.error !== undefined) return codeLabel(toHttpError(c.error).code);
  const response = c.res;
  const length = Number(response.headers.get("content-length") ?? "0");
  if (!(response.headers.get("content-type") ?? "").includes("application/json") || length > MAX_ERROR_BODY_BYTES) return "unknown";
  try {
    const text = await response.clone().text();
    if (text.length > MAX_ERROR_BODY_BYTES) return "unknown";
    const body = JSON.parse(text) as { error?: { code?: unknown } } | null;
    const code = body?.error?.code;
    return typeof code === "string" ? codeLabel(code) : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Counts and times every request: the first middleware, so the time includes authentication and
 * what the route does until its response starts (an event stream's later events are not waited for).
 */
export function httpMetricsMiddleware(metrics: ServerMetrics, now: () => number = () => performance.now()): MiddlewareHandler {
  return async (c, next) => {
    const started = now();
    try {
      await next();
    } finally {
      const method = methodLabel(c.req.method);
      const route = routeLabel(c);
      const status = c.res.status;
      metrics.httpRequests.add([method, route, String(status)]);
      metrics.httpLatency.observe([method, route], (now() - started) / 1000);
      if (status >= 400) metrics.errors.add([await errorCodeOf(c)]);
    }
  };
}
