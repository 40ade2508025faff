import type { PriceTable } from "@lash/observability";
import type { BackgroundTaskHost } from "@lash/protocol";
import { Hono } from "hono";
import { accessMiddleware, type ServerAccessOptions } from "./auth/access-middleware.js";
import { type CorsOptions, corsMiddleware } from "./auth/cors-middleware.js";
import type { TurnCluster } from "./cluster/turn-cluster.js";
import { newestPriceTable, priceHistory } from "./config/price-history.js";
import { errorResponse, HttpError, toHttpError } from "./http/http-error.js";
import { fetchOnNode } from "./http/node-writers.js";
import { DEFAULT_MAX_BODY_BYTES } from "./http/read-json-body.js";
import { httpMetricsMiddleware } from "./metrics/http-metrics-middleware.js";
import { MeteredTurnRegistry } from "./metrics/metered-turn-registry.js";
import type { MetricsOptions } from "./metrics/metrics-access.js";
import { ServerMetrics } from "./metrics/server-metrics.js";
import type { AgentProfile } from "./profiles/agent-profile.js";
import { ProfileEnvironments } from "./profiles/profile-environments.js";
import { registerApprovalRoutes } from "./routes/approval-routes.js";
import { registerAttachmentRoutes } from "./routes/attachment-routes.js";
import { type ConsoleOptions, registerConsoleRoutes } from "./routes/console-routes.js";
import { registerOpenAiChatRoutes } from "./routes/openai-chat-routes.js";
import { registerSessionGraphRoutes } from "./routes/session-graph-routes.js";
import { registerSessionRoutes } from "./routes/session-routes.js";
import { registerSystemRoutes, serverStats } from "./routes/system-routes.js";
import { registerTaskRoutes } from "./routes/task-routes.js";
import { registerTenantUsageRoutes } from "./routes/tenant-usage-routes.js";
import { DEFAULT_MAX_IMAGE_BODY_BYTES, registerTurnRoutes } from "./routes/turn-routes.js";
import { registerUiChatRoutes } from "./routes/ui-chat-routes.js";
import type { ServerContext, ServerStats } from "./server-context.js";
import { DEFAULT_SESSION_RUNTIME_LIMITS, type SessionRuntimeLimits, SessionRuntimes } from "./sessions/session-runtimes.js";
import type { ServerStore } from "./store/server-store.js";
import { profilesTracedInto } from "./traces/profile-tracing.js";
import { DEFAULT_TURN_TRACE_LIMITS, type TurnTraceLimits, TurnTraceRecorder } from "./traces/turn-trace-recorder.js";
import { DEFAULT_HEARTBEAT_MS } from "./turns/event-stream-response.js";
import { DEFAULT_TURN_REGISTRY_LIMITS, type TurnRegistryLimits } from "./turns/turn-registry.js";

/** Every bound of the server; each has a default. */
export interface ServerLimits extends SessionRuntimeLimits, TurnRegistryLimits, TurnTraceLimits {
  /** The largest request body, in bytes (default 1 MiB). */
  readonly maxBodyBytes: number;
  /** The largest turn request that carries images, in bytes, base64 included (default 20 MiB). */
  readonly maxImageBodyBytes: number;
  /** How often an idle event stream sends a keep-alive comment, in milliseconds (default 15 s). */
  readonly heartbeatMs: number;
}

/** The bounds a server gets for each limit it is not given. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  ...DEFAULT_SESSION_RUNTIME_LIMITS,
  ...DEFAULT_TURN_REGISTRY_LIMITS,
  ...DEFAULT_TURN_TRACE_LIMITS,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxImageBodyBytes: DEFAULT_MAX_IMAGE_BODY_BYTES,
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
};

/** Options of `createServerApp`. */
export interface ServerAppOptions {
  /** Where sessions live. The app does not close it: whoever opened it does (`startServer` does when it opened it). */
  readonly store: ServerStore;
  /** The agent profiles by name; `default` is required (sessions created without a profile get it). */
  readonly profiles: Readonly<Record<string, AgentProfile>>;
  /** Bounds of bodies, live runtimes and kept turns; each one left out keeps its default (`DEFAULT_SERVER_LIMITS`). */
  readonly limits?: Partial<ServerLimits>;
  /** Recorded as `decidedBy` of approval decisions made over HTTP (default `api`). */
  readonly decidedBy?: string;
  /** The server's version, in the OpenAPI document (default `0.0.0`). */
  readonly version?: string;
  /** Where unexpected failures (500s) are reported (default: `console.error`). */
  readonly onUnexpectedError?: (error: unknown) => void;
  /**
   * API keys and rate limits (keys live in `store.access`). Default: no keys, every request acts
   * for the tenant `local` (`startServer` requires keys when the store holds an active one).
   */
  readonly access?: ServerAccessOptions;
  /** Cross-origin access for browser front ends; absent (the default): no CORS headers at all. */
  readonly cors?: CorsOptions;
  /** Who may read `GET /metrics` (default: anyone who reaches the server, as the probes); `false` leaves the route out. */
  readonly metrics?: MetricsOptions | false;
  /**
   * The other server instances on the same store (`createPostgresTurnCluster`): they learn of this
   * instance's turns, cancel them through it, and serve them once ended. Absent: this instance
   * knows only its own turns. The app does not close it.
   */
  readonly cluster?: TurnCluster;
  /**
   * Where the subagents of profiles with `subagents` run (the durable PostgreSQL host, to share
   * tasks with other instances). Absent: an in-process host of the app's own. The app does not close a given one.
   */
  readonly backgroundTaskHost?: BackgroundTaskHost;
  /**
   * Price tables beside `@lash/observability`'s default one (a table with the default's date
   * replaces it). The newest is in force: its date is recorded with the usage of every turn, and
   * `GET /v1/sessions/{id}/usage` prices each turn's tokens at the table in force when it ran.
   */
  readonly prices?: readonly PriceTable[];
  /**
   * The console, the web view served at `/` (`@lash/console`'s build). Default: found beside the
   * server or in the repository checkout it runs from (`findConsoleDirectory`); when none is found,
   * `/` says how to build it. `false` serves no console (`/` is a 404).
   */
  readonly console?: ConsoleOptions | false;
}

/** The server as a Hono application, testable in-process with `app.request(...)` or `fetch`. */
export interface LashServerApp {
  /** The Hono application: mount it in a larger app, or add routes and middleware of your own. */
  readonly app: Hono;
  /** Answers one request (the Fetch API's signature, for any server that takes one). */
  readonly fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** Live runtimes, parked sessions and running turns, now. */
  stats(): ServerStats;
  /**
   * Stops taking new work (new sessions, turns and decisions are 503 `shutting_down`), lets the
   * running turns finish for up to `gracePeriodMs`, cancels the rest (their partial output is
   * committed) and waits for them, then parks every live runtime.
   */
  drain(options: { readonly gracePeriodMs: number }): Promise<void>;
}

const ROUTE_METHODS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["/healthz", ["GET"]],
  ["/readyz", ["GET"]],
  ["/openapi.json", ["GET"]],
  ["/reference", ["GET"]],
  ["/v1/tasks", ["GET"]],
  ["/v1/tasks/:taskId/cancel", ["POST"]],
  ["/v1/sessions", ["GET", "POST"]],
  ["/v1/sessions/:sessionId", ["GET", "DELETE"]],
  ["/v1/sessions/:sessionId/usage", ["GET"]],
  ["/v1/sessions/:sessionId/graph", ["GET"]],
  ["/v1/sessions/:sessionId/attachments/:attachmentId", ["GET"]],
  ["/v1/sessions/:sessionId/traces", ["GET"]],
  ["/v1/sessions/:sessionId/turns/:turnId/trace", ["GET"]],
  ["/v1/usage", ["GET"]],
  ["/v1/sessions/:sessionId/turns", ["POST"]],
  ["/v1/sessions/:sessionId/turns/:turnId/events", ["GET"]],
  ["/v1/sessions/:sessionId/turns/:turnId/cancel", ["POST"]],
  ["/v1/sessions/:sessionId/approvals", ["GET"]],
  ["/v1/sessions/:sessionId/approvals/:approvalId", ["POST"]],
  ["/v1/sessions/:sessionId/chat", ["POST"]],
  ["/v1/sessions/:sessionId/chat/:chatId/stream", ["GET"]],
  ["/v1/chat/completions", ["POST"]],
];

/**
 * Builds the server's HTTP application over `options.store`, with one runtime environment per
 * agent profile. Nothing listens: `startServer` serves it, and tests call `fetch` directly.
 */
export function createServerApp(options: ServerAppOptions): LashServerApp {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const prices = priceHistory(options.prices ?? []);
  // Every profile's turns leave their trace records here, for the trace routes and the console.
  const traces = new TurnTraceRecorder(limits);
  // `maxTracedTurns: 0` keeps no traces, and spares the turns the cost of building trace records.
  const tracedProfiles = limits.maxTracedTurns > 0 ? profilesTracedInto(options.profiles, traces) : options.profiles;
  const profiles = new ProfileEnvironments(tracedProfiles, options.store, {
    backgroundTaskHost: options.backgroundTaskHost,
    priceTableDate: newestPriceTable(prices).effectiveDate,
  });
  const metrics = new ServerMetrics();
  const context: ServerContext = {
    store: options.store,
    profiles,
    runtimes: new SessionRuntimes(options.store, profiles, limits),
    turns: new MeteredTurnRegistry(limits, metrics),
    maxBodyBytes: limits.maxBodyBytes,
    heartbeatMs: limits.heartbeatMs,
    decidedBy: options.decidedBy ?? "api",
    version: options.version ?? "0.0.0",
    draining: false,
    prices,
  };
  if (options.cluster !== undefined) context.turns.joinCluster(options.cluster);
  const report = options.onUnexpectedError ?? ((error: unknown) => console.error("lash-server: unexpected failure:", error));

  const app = new Hono();
  // First: every request is counted and timed, refused ones included.
  app.use("*", httpMetricsMiddleware(metrics));
  // Before every route: CORS answers preflights (which carry no key), then every /v1 request is authenticated.
  if (options.cors !== undefined && options.cors.origins.length > 0) app.use("*", corsMiddleware(options.cors));
  app.use("/v1/*", accessMiddleware(options.store.access, options.access));
  registerSystemRoutes(app, context, { metrics, options: options.metrics ?? {} });
  registerSessionRoutes(app, context);
  registerTurnRoutes(app, context, { maxImageBodyBytes: limits.maxImageBodyBytes });
  registerApprovalRoutes(app, context);
  registerUiChatRoutes(app, context);
  registerOpenAiChatRoutes(app, context, report);
  registerTaskRoutes(app, context);
  registerSessionGraphRoutes(app, context, traces);
  registerAttachmentRoutes(app, context);
  registerTenantUsageRoutes(app, context);
  if (options.console !== false) registerConsoleRoutes(app, options.console ?? {});
  // A known path with another method is a 405 naming the allowed ones, not a 404.
  for (const [path, methods] of ROUTE_METHODS) {
    app.all(path, () => {
      throw new HttpError("method_not_allowed", `use ${methods.join(" or ")} on this path`, { details: { allowed: [...methods] } });
    });
  }
  app.notFound(() => errorResponse(new HttpError("not_found", "no such route")));
  app.onError((error) => {
    const failure = toHttpError(error);
    if (failure.status >= 500 && failure.code === "internal_error") report(error);
    const response = errorResponse(failure);
    if (failure.code === "method_not_allowed") response.headers.set("allow", ((failure.details?.allowed ?? []) as string[]).join(", "));
    return response;
  });

  let draining: Promise<void> | undefined;
  return {
    app,
    // Under `@hono/node-server`, `env` holds the Node request and response: event streams are written to it directly.
    fetch: (request, env) => (env === undefined ? app.fetch(request) : fetchOnNode(app.fetch, request, env)),
    stats: () => serverStats(context),
    drain: (drainOptions) => {
      draining ??= drain(context, drainOptions.gracePeriodMs);
      return draining;
    },
  };
}

async function drain(context: ServerContext, gracePeriodMs: number): Promise<void> {
  context.draining = true;
  const running = context.turns.runningTurns();
  if (running.length > 0) {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, gracePeriodMs);
    });
    await Promise.race([Promise.all(running.map((record) => record.settled())), grace]);
    clearTimeout(timer);
    for (const record of context.turns.runningTurns()) record.cancel("the server is shutting down");
  }
  // Every turn task releases its runtime when it ends; only then can every runtime be parked.
  await context.turns.idle();
  await context.runtimes.parkAll();
  await context.profiles.close();
}
