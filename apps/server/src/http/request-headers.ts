import { IncomingMessage } from "node:http";

/**
 * The headers Node parsed for a request that came through `@hono/node-server`, kept on its web
 * `Request` by `fetchOnNode`. The adapter builds a web `Headers` object (a copy of every header,
 * validated one by one) the first time a request's `headers` are read; the few headers the hot
 * routes need are read from Node's own object instead, which the adapter has already built.
 */
const NODE_HEADERS = Symbol("lash.nodeHeaders");

type CarriesNodeHeaders = { [NODE_HEADERS]?: IncomingMessage["headers"] };

/** Keeps the Node headers of `env.incoming` (the adapter's `IncomingMessage`) on `request`. */
export function keepNodeHeaders(request: Request, env: unknown): void {
  const incoming = typeof env === "object" && env !== null ? (env as { incoming?: unknown }).incoming : undefined;
  if (incoming instanceof IncomingMessage) (request as Request & CarriesNodeHeaders)[NODE_HEADERS] = incoming.headers;
}

/**
 * A request header's value, as `request.headers.get(name)` gives it (`name` in lower case).
 * Repeated headers read as Node joins them: with ", " (as the web `Headers` does), except those
 * Node keeps the first of (`content-type`, `content-length`, `authorization` and a few more, which
 * a client sends once).
 */
export function requestHeader(request: Request, name: string): string | null {
  const nodeHeaders = (request as Request & CarriesNodeHeaders)[NODE_HEADERS];
  if (nodeHeaders === undefined) return request.headers.get(name);
  const value = nodeHeaders[name];
  if (value === undefined) return null;
  return typeof value === "string" ? value : value.join(", ");
}
