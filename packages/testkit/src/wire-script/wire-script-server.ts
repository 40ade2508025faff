import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { type RequestMatchOptions, requestMismatches } from "./request-match.js";
import { type ExchangeOutcome, type PlaybackState, playTimeline } from "./timeline-player.js";
import type { WireScript } from "./wire-script-schema.js";

/** Options of `startWireScriptServer`. */
export interface WireScriptServerOptions extends RequestMatchOptions {
  /**
   * Multiplies every `at` offset (default 1): `0.1` plays ten times faster, `0` sends everything
   * without waiting. Offsets count from the request's arrival; events recorded apart are still sent
   * at least a millisecond apart when playback runs late, so that each piece reaches the client in
   * its own read. Waits use Node's own timers, never the (possibly faked) global `setTimeout`.
   */
  readonly timeScale?: number;
  /** Request bodies larger than this are rejected with 413 and recorded as a mismatch (default 10 MiB). */
  readonly maxRequestBytes?: number;
}

/** One request the server received, as it arrived, with how its exchange went so far. */
export interface RecordedRequest {
  /** 0-based arrival order. */
  readonly index: number;
  readonly method: string;
  /** The request target: path and query. */
  readonly path: string;
  /** Lower-case names; repeated headers joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyText: string;
  /** The parsed JSON body; `undefined` when it was empty or not JSON. */
  readonly body: unknown;
  /** The script that answered, or `undefined` when a sequence had none left. */
  readonly scriptName: string | undefined;
  /** Why the request did not match its script (empty when it matched and the script was played). */
  readonly mismatches: readonly string[];
  /** How the exchange ended so far (updated while it runs). */
  readonly outcome: ExchangeOutcome;
  /** How many timeline events were sent. */
  readonly eventsPlayed: number;
  /** True once a `timeout` event left the connection open on purpose. */
  readonly heldOpen: boolean;
}

/** A running wire-script server. */
export interface WireScriptServer {
  /** `http://127.0.0.1:<port>`: point the adapter's base URL here. */
  readonly baseUrl: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Every mismatch of every request, prefixed with the request number and script name. */
  readonly mismatches: readonly string[];
  /** Resolves with request `index` (0-based) once it arrived. */
  requestArrived(index: number): Promise<RecordedRequest>;
  /**
   * Resolves with request `index` once its exchange is over: the response ended, the script
   * disconnected, the client closed the connection, or the server closed.
   */
  exchangeSettled(index: number): Promise<RecordedRequest>;
  /** Stops every playback, destroys open connections and closes the server. Idempotent. */
  close(): Promise<void>;
}

interface MutableRecordedRequest extends PlaybackState {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  bodyText: string;
  body: unknown;
  scriptName: string | undefined;
  mismatches: string[];
}

const DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024;

function recordHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/** The request body; `complete` is false when the client went away before sending all of it. */
function readBody(request: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const finish = (complete: boolean): void => resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge, complete });
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => finish(true));
    request.on("error", () => finish(false));
    request.on("close", () => finish(request.complete));
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function reject(response: ServerResponse, status: number, reasons: readonly string[]): void {
  const message = `wire script mismatch: ${reasons.join("; ")}`;
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { message, type: "wire_script_mismatch", code: "wire_script_mismatch" } }));
}

/**
 * Starts a loopback HTTP server (127.0.0.1, a free port) that answers with wire scripts.
 *
 * - One script: every request is answered with it.
 * - An array: a sequence; request 1 gets the first script, request 2 the second, and so on; a
 *   request past the end is answered 500 and recorded as a mismatch.
 *
 * A request whose method, path, body or headers do not match the script's `endpoint` and
 * `request_match` is answered 500 with the reasons (a JSON error body) and recorded in `mismatches`,
 * so a test that checks `mismatches` fails loudly. Every request is recorded in `requests`.
 *
 * @example
 * const server = await startWireScriptServer(script, { timeScale: 0 });
 * try {
 *   const response = await fetch(`${server.baseUrl}/chat/completions`, { method: "POST", body: "{}" });
 * } finally {
 *   await server.close();
 * }
 */
export async function startWireScriptServer(
  script: WireScript | readonly WireScript[],
  options: WireScriptServerOptions = {},
): Promise<WireScriptServer> {
  const sequence = Array.isArray(script) ? (script as readonly WireScript[]) : undefined;
  const single = Array.isArray(script) ? undefined : (script as WireScript);
  const timeScale = options.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale < 0) throw new RangeError(`timeScale must be a finite number ≥ 0; got ${timeScale}`);
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const requests: MutableRecordedRequest[] = [];
  const mismatches: string[] = [];
  const arrivalWaiters = new Map<number, ((request: RecordedRequest) => void)[]>();
  const settleWaiters = new Map<number, ((request: RecordedRequest) => void)[]>();
  const arrived = new Set<number>();
  const settled = new Set<number>();
  const cancelWaits = new Set<() => void>();
  let closing = false;

  const notify = (waiters: Map<number, ((request: RecordedRequest) => void)[]>, record: MutableRecordedRequest): void => {
    for (const resolve of waiters.get(record.index) ?? []) resolve(record);
    waiters.delete(record.index);
  };
  const settle = (record: MutableRecordedRequest, outcome: ExchangeOutcome): void => {
    if (settled.has(record.index)) return;
    if (record.outcome === "pending") record.outcome = outcome;
    settled.add(record.index);
    notify(settleWaiters, record);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const arrivedAt = performance.now();
    const index = requests.length;
    const chosen = sequence === undefined ? single : sequence[index];
    const record: MutableRecordedRequest = {
      index,
      method: request.method ?? "",
      path: request.url ?? "",
      headers: recordHeaders(request),
      bodyText: "",
      body: undefined,
      scriptName: chosen?.name,
      mismatches: [],
      outcome: "pending",
      eventsPlayed: 0,
      heldOpen: false,
    };
    requests.push(record);
    let stopped = false;
    let cancelWait: (() => void) | undefined;
    response.on("close", () => {
      stopped = true;
      cancelWait?.();
      if (!response.writableFinished) settle(record, closing ? "server_closed" : "client_closed");
      else settle(record, "completed");
    });
    const { text, tooLarge, complete } = await readBody(request, maxRequestBytes);
    record.bodyText = text;
    record.body = parseJson(text);
    arrived.add(index);
    notify(arrivalWaiters, record);
    if (!complete) return;
    const label = `request #${index + 1} (${chosen?.name ?? "no script"})`;
    const reasons = tooLarge
      ? [`the body is larger than ${maxRequestBytes} bytes`]
      : chosen === undefined
        ? [`the sequence has ${sequence?.length ?? 0} scripts and all were used`]
        : requestMismatches(chosen, record, options);
    if (reasons.length > 0 || chosen === undefined) {
      record.mismatches.push(...reasons);
      for (const reason of reasons) mismatches.push(`${label}: ${reason}`);
      reject(response, tooLarge ? 413 : 500, reasons);
      return;
    }
    await playTimeline(chosen.timeline, response, {
      arrivedAt,
      timeScale,
      state: record,
      control: {
        stopped: () => stopped || closing,
        onWait: (cancel) => {
          if (cancelWait !== undefined) cancelWaits.delete(cancelWait);
          cancelWait = cancel;
          if (cancel !== undefined) cancelWaits.add(cancel);
        },
      },
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      mismatches.push(`the wire-script server failed: ${error instanceof Error ? error.message : String(error)}`);
      response.destroy();
    });
  });
  await new Promise<void>((resolve, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", rejectListen);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  const waitFor = (
    waiters: Map<number, ((request: RecordedRequest) => void)[]>,
    index: number,
    ready: boolean,
  ): Promise<RecordedRequest> => {
    const existing = requests[index];
    if (existing !== undefined && ready) return Promise.resolve(existing);
    return new Promise((resolve) => waiters.set(index, [...(waiters.get(index) ?? []), resolve]));
  };

  let closed: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    requests,
    mismatches,
    requestArrived: (index) => waitFor(arrivalWaiters, index, arrived.has(index)),
    exchangeSettled: (index) => waitFor(settleWaiters, index, settled.has(index)),
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        for (const cancel of cancelWaits) cancel();
        cancelWaits.clear();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        for (const record of requests) settle(record, "server_closed");
      })();
      return closed;
    },
  };
}
