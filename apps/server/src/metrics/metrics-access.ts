import { createHash, timingSafeEqual } from "node:crypto";
import { errorResponse, HttpError } from "../http/http-error.js";

/**
 * Who may read `GET /metrics`. The exposition's labels name no tenant, session, key or turn (see
 * `ServerMetrics`), so by default it is served without credentials, like the probes: a Prometheus
 * server scrapes it as it scrapes any service. It still shows how busy the server is; a host that
 * listens beyond loopback and does not want that known sets a `bearerToken` (Prometheus sends it
 * with `authorization: { credentials: ... }`), or turns the route off.
 */
export interface MetricsOptions {
  /** When set, `/metrics` needs `Authorization: Bearer <token>` (a token of its own: tenants' API keys are never accepted). */
  readonly bearerToken?: string;
}

/** A header value longer than this is no token of ours. */
const MAX_AUTHORIZATION_LENGTH = 1024;

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Undefined when the request may read the metrics, else the 401 to answer. Tokens are compared as
 * SHA-256 digests in constant time, so the comparison tells nothing about the token's length or prefix.
 */
export function refuseMetricsRequest(options: MetricsOptions, authorization: string | undefined): Response | undefined {
  const expected = options.bearerToken;
  if (expected === undefined) return undefined;
  const match =
    authorization !== undefined && authorization.length <= MAX_AUTHORIZATION_LENGTH ? /^bearer +(\S+) *$/i.exec(authorization) : null;
  const given = match?.[1];
  if (given !== undefined && timingSafeEqual(digest(given), digest(expected))) return undefined;
  const response = errorResponse(
    new HttpError("unauthorized", "the metrics need this server's metrics token: `Authorization: Bearer <token>`"),
  );
  response.headers.set("www-authenticate", 'Bearer realm="lash-metrics"');
  return response;
}
