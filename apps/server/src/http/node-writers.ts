import { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { keepNodeHeaders } from "./request-headers.js";

/** Writes a response's body straight to the Node response, whose head is already set. */
export type NodeWriter = (outgoing: ServerResponse) => void;

interface PendingWriter {
  readonly writer: NodeWriter;
  /**
   * The response's own headers, kept here rather than on the `Response`: a web `Headers` object
   * is then built only for headers a middleware adds (CORS), not for every streamed response.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The web body to answer with after all, when the Node response cannot be written. */
  readonly webBody: () => ReadableStream<Uint8Array>;
}

/**
 * The writer a response carries, as a property of its own (rather than in a weak map: a weak
 * collection with a short-lived key per request costs the garbage collector more than a property).
 */
const PENDING_WRITER = Symbol("lash.nodeWriter");
/** Marks the `env` of a request that `answerOnNode` answers: only its responses may leave the web body out. */
const ANSWERED_ON_NODE = Symbol("lash.answeredOnNode");

type CarriesWriter = { [PENDING_WRITER]?: PendingWriter | undefined };
type MarkedEnv = { [ANSWERED_ON_NODE]?: true; outgoing?: unknown };

/**
 * `@hono/node-server` skips a response carrying its "already sent" header only on its general path:
 * the marker must be a plain web `Response`, which it is when this module loaded before the first
 * `serve` call replaced the global `Response` with the adapter's own (whose instances carry a
 * symbol-keyed cache). Otherwise streams keep to their web bodies.
 */
const markerUsable = Object.getOwnPropertySymbols(RESPONSE_ALREADY_SENT).length === 0;

/** The Node response of an adapter's `env` that `answerOnNode` will answer through, if it can write there. */
function nodeOutgoing(env: unknown): ServerResponse | undefined {
  if (!markerUsable || typeof env !== "object" || env === null || (env as MarkedEnv)[ANSWERED_ON_NODE] !== true) return undefined;
  const outgoing = (env as MarkedEnv).outgoing;
  return outgoing instanceof ServerResponse && !outgoing.headersSent ? outgoing : undefined;
}

/**
 * A streamed answer: written by `writer` straight to the socket when the request came through
 * `answerOnNode` (whose `env` the route passes here), else the web body `webBody()` makes. The web
 * body is only built when it is the answer (a web stream costs something to build, per response).
 */
export function streamedResponse(
  env: unknown,
  init: { readonly status: number; readonly headers: Readonly<Record<string, string>> },
  writer: NodeWriter,
  webBody: () => ReadableStream<Uint8Array>,
): Response {
  if (nodeOutgoing(env) === undefined) return new Response(webBody(), init);
  const response = new Response(null, { status: init.status }) as Response & CarriesWriter;
  response[PENDING_WRITER] = { writer, headers: init.headers, webBody };
  return response;
}

/** Answers `request` with `app`, writing streamed answers straight to the Node response of `env` (see `answerOnNode`). */
export function fetchOnNode(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  request: Request,
  env: unknown,
): Promise<Response> {
  if (typeof env === "object" && env !== null) (env as MarkedEnv)[ANSWERED_ON_NODE] = true;
  keepNodeHeaders(request, env);
  return answerOnNode(fetch(request, env), env);
}

/**
 * The answer of a request served by `@hono/node-server` (`env.outgoing` is its Node response):
 * a response made by `streamedResponse` gets its head (status and headers, as the middleware left them)
 * and its body written by its writer, and the adapter is told it was sent. Every other answer
 * passes through untouched.
 */
async function answerOnNode(answer: Response | Promise<Response>, env: unknown): Promise<Response> {
  const response = await answer;
  const carrier = response as Response & CarriesWriter;
  const pending = carrier[PENDING_WRITER];
  if (pending === undefined) return response;
  carrier[PENDING_WRITER] = undefined;
  // Written only for a marked `env` (`streamedResponse`); checked again, as the head may have gone out meanwhile.
  const outgoing = typeof env === "object" && env !== null ? (env as MarkedEnv).outgoing : undefined;
  // The response's headers, then those a middleware set on it (which win).
  const headers: Record<string, string> = { ...pending.headers };
  for (const [name, value] of response.headers) headers[name] = value;
  if (!(outgoing instanceof ServerResponse) || outgoing.headersSent) {
    // Cannot write there after all: the response gets its web body now, with the head the middleware left.
    return new Response(pending.webBody(), { status: response.status, headers });
  }
  outgoing.writeHead(response.status, headers);
  pending.writer(outgoing);
  return RESPONSE_ALREADY_SENT;
}
