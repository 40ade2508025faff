import type { TokenUsage } from "@lash/protocol";
import type { ServerStats } from "../server-context.js";
import { Counter, Gauge, Histogram, type LabelValues, renderExposition } from "./prometheus-text.js";

/** Upper bounds of the HTTP latency buckets, in seconds: from a probe's millisecond to a slow request. */
export const HTTP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** Upper bounds of the turn latency buckets, in seconds: a scripted turn's tenth of a second to a half-hour agent run. */
export const TURN_LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

/** The kinds of tokens counted, as the `kind` label spells them. */
export const TOKEN_KINDS = ["input", "output", "cached_input", "reasoning"] as const;

/**
 * How a turn segment ended, as the `outcome` label spells it: the runtime's outcomes (`finished`,
 * `handoff`, `stopped`), `failed` (an error instead of a result), `refused` (refused before its first
 * event: another turn runs, the session waits for approval).
 */
export type TurnOutcomeLabel = "finished" | "handoff" | "stopped" | "failed" | "refused";

/** A label value the server made from a code or a type name: kept when it looks like one, else `other`. */
export function codeLabel(value: string | undefined): string {
  if (value === undefined || value === "") return "none";
  return /^[a-z][a-z0-9_]{0,63}$/.test(value) ? value : "other";
}

/** The HTTP methods given a label of their own; any other is `OTHER`, so a client cannot mint label values. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The `method` label of a request method. */
export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : "OTHER";
}

/**
 * The server's metrics. Every label is the server's own vocabulary (route patterns, methods,
 * statuses, error codes, outcomes, token kinds): none names a tenant, a session, a key or a turn,
 * so one tenant's scrape, or a leaked exposition, shows volumes and nothing about whose they are.
 * Counters and histograms live as long as the process; gauges are read from the server at scrape time.
 */
export class ServerMetrics {
  readonly httpRequests = new Counter(
    "lash_http_requests_total",
    "HTTP requests answered, by method, route pattern (unmatched for paths no route serves) and status.",
    ["method", "route", "status"],
  );
  readonly httpLatency = new Histogram(
    "lash_http_request_duration_seconds",
    "Time from a request's arrival to its response's headers, in seconds (an event stream counts until it starts).",
    ["method", "route"],
    HTTP_LATENCY_BUCKETS,
  );
  readonly errors = new Counter("lash_errors_total", "Error responses (status 400 and above), by the error code of their body.", ["code"]);
  readonly turnsStarted = new Counter(
    "lash_turns_started_total",
    "Turn segments started: a new turn, or a turn resumed after an approval decision (resumed=true).",
    ["resumed"],
  );
  readonly turnsFinished = new Counter(
    "lash_turns_finished_total",
    "Turn segments ended, by outcome (finished, handoff, stopped, failed, refused) and reason (the finish or stop type, or the error code).",
    ["outcome", "reason"],
  );
  readonly turnLatency = new Histogram(
    "lash_turn_duration_seconds",
    "Time a turn segment ran, from its start to its result or failure, in seconds, by outcome.",
    ["outcome"],
    TURN_LATENCY_BUCKETS,
  );
  readonly tokens = new Counter(
    "lash_tokens_total",
    "Tokens the turns' results reported, subagents included, by kind (input, output, cached_input, reasoning).",
    ["kind"],
  );

  /** Adds a turn's tokens, each kind under its label. */
  addTokens(usage: TokenUsage): void {
    this.tokens.add(["input"], usage.inputTokens);
    this.tokens.add(["output"], usage.outputTokens);
    this.tokens.add(["cached_input"], usage.cachedInputTokens);
    this.tokens.add(["reasoning"], usage.reasoningTokens);
  }

  /** The exposition, with the gauges read from `stats` now. */
  render(stats: () => ServerStats): string {
    // One read for all four gauges, so they describe the same moment.
    let snapshot: ServerStats | undefined;
    const read = (pick: (current: ServerStats) => number) => (): ReadonlyArray<readonly [LabelValues, number]> => {
      snapshot ??= stats();
      return [[[], pick(snapshot)]];
    };
    return renderExposition([
      this.httpRequests,
      this.httpLatency,
      this.errors,
      this.turnsStarted,
      this.turnsFinished,
      this.turnLatency,
      this.tokens,
      new Gauge(
        "lash_live_runtimes",
        "Session runtimes held live now.",
        [],
        read((current) => current.liveRuntimes),
      ),
      new Gauge(
        "lash_live_runtime_bytes",
        "Estimated memory of the live session runtimes, in bytes (what maxLiveRuntimeBytes bounds).",
        [],
        read((current) => current.liveRuntimeBytes),
      ),
      new Gauge(
        "lash_parked_sessions",
        "Parked sessions this process remembers (resumed without reading their record).",
        [],
        read((current) => current.parkedSessions),
      ),
      new Gauge(
        "lash_running_turns",
        "Turns running now.",
        [],
        read((current) => current.runningTurns),
      ),
      new Gauge(
        "lash_queued_turns",
        "Turn requests waiting for their session's running turn to end.",
        [],
        read((current) => current.queuedTurns),
      ),
    ]);
  }
}
