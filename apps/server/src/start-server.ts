import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createServerApp, type LashServerApp, type ServerAppOptions } from "./server-app.js";

/** The grace period running turns get at shutdown before they are cancelled (30 s). */
export const DEFAULT_GRACE_PERIOD_MS = 30_000;

/** How often idle connections are closed while the server shuts down. */
const CONNECTION_SWEEP_MS = 25;
/** How long connections may stay open after the turns ended, before they are cut. */
const CONNECTION_DRAIN_MS = 5_000;

/** Options of `startServer`. */
export interface StartServerOptions extends ServerAppOptions {
  /** The port (default 8787; 0 picks a free one, see `port` of the result). */
  readonly port?: number;
  /** The address to bind (default 127.0.0.1: loopback only). */
  readonly host?: string;
  /** How long `close()` lets running turns finish before cancelling them, in milliseconds (default 30 s). */
  readonly gracePeriodMs?: number;
  /** Close the store in `close()` (default `true`: the caller handed it over). */
  readonly closeStore?: boolean;
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port`, with the bound port. */
  readonly url: string;
  /** The bound address. */
  readonly host: string;
  /** The bound port (the one picked when `port` was 0). */
  readonly port: number;
  /** The application it serves (its `stats()`, `drain()`). */
  readonly server: LashServerApp;
  /**
   * Stops accepting connections, lets running turns finish within the grace period, cancels the
   * rest (partial output committed), parks the runtimes, closes the connections and the store.
   */
  close(): Promise<void>;
}

/** Serves `createServerApp(options)` over HTTP on Node.js. Resolves once it listens. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const server = createServerApp(options);
  const host = options.host ?? "127.0.0.1";
  const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  const { listener, address } = await new Promise<{ listener: Server; address: AddressInfo }>((resolve, reject) => {
    // Without `createServer` options, `serve` makes a plain `node:http` server (its type also covers HTTP/2).
    const listening = serve({ fetch: server.fetch, port: options.port ?? 8787, hostname: host }, (info) =>
      resolve({ listener: listening as Server, address: info }),
    );
    listening.once("error", reject);
  });
  // An IPv6 address needs brackets in a URL.
  const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    // No new connections from here on; requests on open connections get 503 while draining.
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    await server.drain({ gracePeriodMs });
    // Every turn ended, so every event stream is ending: each connection is closed once its last
    // response is written (closing one mid-write would cut a client's final event). Connections
    // still open after a few seconds belong to clients that stopped reading: they are cut.
    const sweep = setInterval(() => listener.closeIdleConnections(), CONNECTION_SWEEP_MS);
    const cut = setTimeout(() => listener.closeAllConnections(), CONNECTION_DRAIN_MS);
    try {
      listener.closeIdleConnections();
      await closed;
    } finally {
      clearInterval(sweep);
      clearTimeout(cut);
    }
    if (options.closeStore !== false) await options.store.close();
  };
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    server,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
