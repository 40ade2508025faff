import type { Server } from "node:http";
import { type AddressInfo, BlockList, isIP } from "node:net";
import { serve } from "@hono/node-server";
import { hasActiveApiKeys } from "./auth/api-keys.js";
import { openSharedInstanceResources } from "./cluster/postgres-instances.js";
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
  /**
   * The address to bind (default 127.0.0.1: loopback only). Without API keys only a loopback
   * address (or `localhost`) is accepted, unless `insecureNoAuth` says otherwise.
   */
  readonly host?: string;
  /**
   * Serve without API keys on any address: anyone who reaches it acts for the tenant `local` and
   * can use every session of that tenant. For a network you trust completely (default `false`).
   */
  readonly insecureNoAuth?: boolean;
  /** How long `close()` lets running turns finish before cancelling them, in milliseconds (default 30 s). */
  readonly gracePeriodMs?: number;
  /**
   * Close the store in `close()`, with the `cluster` and the `backgroundTaskHost` when given
   * (default `true`: the caller handed them over).
   */
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
  /** True when every `/v1` request needs an API key; false when all act for the tenant `local`. */
  readonly requiresApiKeys: boolean;
  /** The application it serves (its `stats()`, `drain()`). */
  readonly server: LashServerApp;
  /**
   * Stops accepting connections, lets running turns finish within the grace period, cancels the
   * rest (partial output committed), parks the runtimes, closes the connections and the store.
   */
  close(): Promise<void>;
}

/** The server would listen beyond loopback without API keys: refused before anything listens. */
export class UnprotectedBindError extends Error {
  readonly host: string;
  constructor(host: string) {
    super(
      `refusing to listen on ${host} without API keys: anyone who can reach it could use every session. Create a key (lash-server keys create --tenant <name>) and start again, listen on 127.0.0.1, or pass --insecure-no-auth to serve without keys anyway`,
    );
    this.name = "UnprotectedBindError";
    this.host = host;
  }
}

/** The loopback ranges: 127.0.0.0/8 and ::1 (an IPv4-mapped IPv6 address is checked against the IPv4 range). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for an address only this machine can reach: 127.0.0.0/8, ::1 (bracketed or not), `localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (address === "localhost") return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Serves `createServerApp(options)` over HTTP on Node.js. Resolves once it listens. Unless
 * `options.access.requireApiKeys` says, keys are required exactly when the store holds an active
 * key (read once, here: a key created later takes effect at the next start). Without keys, only a
 * loopback address is served (`UnprotectedBindError` otherwise, unless `insecureNoAuth`). On a
 * PostgreSQL store (`store.postgres`), other processes may serve the same sessions: unless given
 * `cluster` and `backgroundTaskHost`, it opens the turn cluster (`createPostgresTurnCluster`) and,
 * for profiles with subagents, the durable task host in the same database, and closes them in `close()`.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const requiresApiKeys = options.access?.requireApiKeys ?? (await hasActiveApiKeys(options.store.access));
  if (!requiresApiKeys && options.insecureNoAuth !== true && !isLoopbackAddress(host)) throw new UnprotectedBindError(host);
  // On PostgreSQL, other processes may serve the same sessions: join them, unless the caller gave its own.
  const shared = await openSharedInstanceResources(options);
  const cluster = options.cluster ?? shared.cluster;
  const backgroundTaskHost = options.backgroundTaskHost ?? shared.backgroundTaskHost;
  const server = createServerApp({
    ...options,
    access: { ...options.access, requireApiKeys: requiresApiKeys },
    ...(cluster === undefined ? {} : { cluster }),
    ...(backgroundTaskHost === undefined ? {} : { backgroundTaskHost }),
  });
  const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  let listener: Server;
  let address: AddressInfo;
  try {
    ({ listener, address } = await new Promise<{ listener: Server; address: AddressInfo }>((resolve, reject) => {
      // Without `createServer` options, `serve` makes a plain `node:http` server (its type also covers HTTP/2).
      const listening = serve({ fetch: server.fetch, port: options.port ?? 8787, hostname: host }, (info) =>
        resolve({ listener: listening as Server, address: info }),
      );
      listening.once("error", reject);
    }));
    // `localhost` could name another address on a misconfigured machine: what was bound is what counts.
    if (!requiresApiKeys && options.insecureNoAuth !== true && !isLoopbackAddress(address.address)) {
      const bound = listener;
      await new Promise<void>((resolve) => bound.close(() => resolve()));
      throw new UnprotectedBindError(address.address);
    }
  } catch (error) {
    await shared.close().catch(() => undefined);
    throw error;
  }
  // An IPv6 address needs brackets in a URL.
  const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  // The hint other instances give for a turn running here.
  cluster?.announce(url);
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
    // After the drain: the turns' endings are written, and no subagent runs any more.
    await shared.close();
    if (options.closeStore !== false) {
      await options.cluster?.close();
      await options.backgroundTaskHost?.close();
      await options.store.close();
    }
  };
  return {
    url,
    host: address.address,
    port: address.port,
    requiresApiKeys,
    server,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
