import type { Context, MiddlewareHandler } from "hono";
import { errorResponse, HttpError } from "../http/http-error.js";
import type { ServerAccessStore } from "../store/access-store.js";
import { verifyApiKey } from "./api-keys.js";
import { DEFAULT_RATE_LIMIT, type RateLimit, RateLimiter } from "./rate-limiter.js";
import { LOCAL_TENANT } from "./tenant-name.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The tenant the request acts for, set by the access middleware on every `/v1` request. */
    lashTenant: string;
  }
}

/** Who may call the API, and how often. */
export interface ServerAccessOptions {
  /**
   * `true`: every `/v1` request needs an API key (`Authorization: Bearer <key>`) and acts for the
   * key's tenant. `false`: no credentials, every request acts for the tenant `local`. Default for
   * `createServerApp`: `false`; `startServer` requires keys when the store holds an active one.
   */
  readonly requireApiKeys?: boolean;
  /** Each key's token bucket (default `DEFAULT_RATE_LIMIT`); `false` turns rate limiting off. */
  readonly rateLimit?: RateLimit | false;
  /** The rate limiter's clock, in milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

/** A header value longer than this is no key of ours: refused before anything else is done with it. */
const MAX_AUTHORIZATION_LENGTH = 512;

/** The same answer for every failure: it never says whether a key, or its id, exists. */
function unauthorized(): Response {
  const response = errorResponse(
    new HttpError("unauthorized", "this server needs an API key: send `Authorization: Bearer <key>` with a key that is not revoked"),
  );
  response.headers.set("www-authenticate", 'Bearer realm="lash"');
  return response;
}

function rateLimited(retryAfterSeconds: number): Response {
  const response = errorResponse(
    new HttpError("rate_limited", `too many requests with this API key; retry in ${retryAfterSeconds} s`, {
      details: { retryAfterSeconds },
    }),
  );
  response.headers.set("retry-after", String(retryAfterSeconds));
  return response;
}

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), or `undefined`. */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const match = /^bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates every request it runs on: without keys, the request acts for `local`; with keys,
 * a missing, malformed, unknown or revoked key is 401 `unauthorized` (one answer for all), and a
 * valid one takes a token from its bucket (429 `rate_limited` with `Retry-After` when empty).
 * Routes read the tenant with `tenantOf`.
 */
export function accessMiddleware(access: ServerAccessStore, options: ServerAccessOptions = {}): MiddlewareHandler {
  const requireApiKeys = options.requireApiKeys === true;
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const limiter = rateLimit === false ? undefined : new RateLimiter(rateLimit, options.now ?? (() => performance.now()));
  return async (c, next) => {
    if (!requireApiKeys) {
      c.set("lashTenant", LOCAL_TENANT);
      return next();
    }
    const token = bearerToken(c.req.header("authorization"));
    const verified = token === undefined ? undefined : await verifyApiKey(access, token);
    if (verified === undefined) return unauthorized();
    const wait = limiter?.take(verified.keyId) ?? 0;
    if (wait > 0) return rateLimited(wait);
    c.set("lashTenant", verified.tenant);
    return next();
  };
}

/** The tenant the request acts for (set by `accessMiddleware`; a route outside it is a bug, answered 500). */
export function tenantOf(c: Context): string {
  const tenant = c.get("lashTenant");
  if (typeof tenant !== "string") throw new Error("the access middleware did not run for this route");
  return tenant;
}
