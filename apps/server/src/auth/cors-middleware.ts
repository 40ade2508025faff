import type { MiddlewareHandler } from "hono";

/** Cross-origin access for browser front ends. */
export interface CorsOptions {
  /**
   * The origins whose pages may call the API (`https://app.example.com`, with a port when it has
   * one), or `*` for any. Empty: no CORS headers at all (the default).
   */
  readonly origins: readonly string[];
  /** How long a browser may cache a preflight's answer, in seconds (default 600). */
  readonly maxAgeSeconds?: number;
}

/** Headers a front end may read besides the safelisted ones. */
const EXPOSED_HEADERS = "lash-turn-id, location, retry-after, www-authenticate";
const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";
/** Requested header names are echoed back: bounded, and only header-name characters. */
const REQUESTED_HEADERS = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?: *, *[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const MAX_REQUESTED_HEADERS_LENGTH = 1024;

/** Checks an origin as configuration spells it: `*`, or `scheme://host[:port]` exactly (no path, no trailing slash). */
export function isCorsOrigin(origin: string): boolean {
  if (origin === "*") return true;
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === origin;
}

/**
 * Answers preflight requests and adds `Access-Control-Allow-Origin` to the responses of allowed
 * origins (their errors included, so a page can read a 401 or a 429). A request from any other
 * origin gets no CORS header, so the browser keeps the answer from the page. Runs before
 * authentication: a preflight carries no credentials. Credentials are bearer keys, never cookies,
 * so `Access-Control-Allow-Credentials` is never sent.
 */
export function corsMiddleware(options: CorsOptions): MiddlewareHandler {
  const anyOrigin = options.origins.includes("*");
  const allowed = new Set(options.origins);
  const maxAge = String(options.maxAgeSeconds ?? 600);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowOrigin = origin === undefined ? undefined : anyOrigin ? "*" : allowed.has(origin) ? origin : undefined;
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined) {
      const headers = new Headers();
      if (!anyOrigin) headers.set("vary", "Origin");
      if (allowOrigin !== undefined) {
        headers.set("access-control-allow-origin", allowOrigin);
        headers.set("access-control-allow-methods", ALLOWED_METHODS);
        const requested = c.req.header("access-control-request-headers")?.trim();
        if (requested !== undefined && requested.length <= MAX_REQUESTED_HEADERS_LENGTH && REQUESTED_HEADERS.test(requested)) {
          headers.set("access-control-allow-headers", requested);
        }
        headers.set("access-control-max-age", maxAge);
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    // The answer depends on the Origin header: caches must keep one copy per origin.
    if (!anyOrigin) c.res.headers.append("vary", "Origin");
    if (allowOrigin !== undefined) {
      c.res.headers.set("access-control-allow-origin", allowOrigin);
      c.res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    }
  };
}
