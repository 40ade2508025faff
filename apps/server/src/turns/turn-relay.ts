import type { ClusterTurnKey } from "../cluster/turn-cluster.js";
import type { HttpError } from "../http/http-error.js";

/** Marks a request one instance relays to another: the receiver answers it itself, never relays it again. */
export const RELAYED_HEADER = "lash-relayed-by";

/** The request headers a relayed event stream keeps: who asks, and where the client's stream stopped. */
const FORWARDED_REQUEST_HEADERS = ["authorization", "last-event-id"] as const;
/** The response headers a relayed event stream keeps. */
const FORWARDED_RESPONSE_HEADERS = ["content-type", "cache-control", "lash-turn-id"] as const;

/** The instance a `turn_in_progress` refusal names, when it names one that can be reached over HTTP. */
function instanceUrlOf(error: HttpError): string | undefined {
  if (error.code !== "turn_in_progress") return undefined;
  const url = (error.details as { instanceUrl?: unknown } | undefined)?.instanceUrl;
  if (typeof url !== "string") return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The events of a turn that runs on another instance, relayed from it: the same request (the
 * client's credentials and `Last-Event-ID`) sent to the instance the turns table names, and its
 * answer passed through as it streams, so a client behind a load balancer can reattach through
 * any instance. `undefined` when the refusal names no reachable instance, when this request was
 * itself relayed (instances never relay in a loop), or when that instance does not answer (the
 * caller then answers the 409 that names it).
 */
export async function relayTurnEvents(
  request: Request,
  turn: ClusterTurnKey,
  refusal: HttpError,
  instanceId: string,
): Promise<Response | undefined> {
  const origin = instanceUrlOf(refusal);
  if (origin === undefined || request.headers.has(RELAYED_HEADER)) return undefined;
  const headers = new Headers({ accept: "text/event-stream", [RELAYED_HEADER]: instanceId });
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const path = `/v1/sessions/${encodeURIComponent(turn.sessionId)}/turns/${encodeURIComponent(turn.turnId)}/events`;
  let upstream: Response;
  try {
    // The client's signal: a client that goes away ends the relayed request too.
    upstream = await fetch(`${origin}${path}`, { headers, signal: request.signal, redirect: "error" });
  } catch {
    return undefined;
  }
  const responseHeaders = new Headers({ "lash-relayed-from": origin });
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) responseHeaders.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
}
