import type { PriceTable } from "@lash/observability";
import { HttpError } from "./http/http-error.js";
import type { ProfileEnvironments } from "./profiles/profile-environments.js";
import type { SessionRuntimes } from "./sessions/session-runtimes.js";
import type { ServerStore } from "./store/server-store.js";
import type { TurnRegistry } from "./turns/turn-registry.js";

/** What the server reports about itself, for tests and, later, metrics. */
export interface ServerStats {
  /** Runtimes held live now. */
  readonly liveRuntimes: number;
  /** Their estimated memory, in bytes (the `maxLiveRuntimeBytes` bound counts it). */
  readonly liveRuntimeBytes: number;
  /** Parked sessions remembered. */
  readonly parkedSessions: number;
  /** Turns running now. */
  readonly runningTurns: number;
  /** Requests waiting for a session's running turn to end (`enqueue`, `interrupt`). */
  readonly queuedTurns: number;
}

/** Everything the routes share. */
export interface ServerContext {
  readonly store: ServerStore;
  readonly profiles: ProfileEnvironments;
  readonly runtimes: SessionRuntimes;
  readonly turns: TurnRegistry;
  readonly maxBodyBytes: number;
  readonly heartbeatMs: number;
  /** Who the runtime records as the decider of approvals made over HTTP. */
  readonly decidedBy: string;
  /** The server's version, in the OpenAPI document. */
  readonly version: string;
  /** True once shutdown began: no new sessions, turns or decisions. */
  draining: boolean;
  /** The price history usage reports are priced with (see `ServerAppOptions.prices`). */
  readonly prices: readonly PriceTable[];
}

/** Refuses new work once the server is shutting down (503 `shutting_down`). */
export function assertAcceptingWork(context: ServerContext): void {
  if (context.draining) throw new HttpError("shutting_down", "the server is shutting down and takes no new work");
}
