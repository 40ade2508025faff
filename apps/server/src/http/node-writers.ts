import { ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";

/** Writes a response's body straight to the Node response, whose head is already set. */
export type NodeWriter = (outgoing: ServerResponse) => void;

const writers = new WeakMap<Response, NodeWriter>();

/**
 * Lets `response` (a streamed answer) be written straight to the socket when the server runs on
 * Node: its web body stays the answer everywhere else (in-process `fetch`, tests, other hosts).
 */
export function withNodeWriter(response: Response, writer: NodeWriter): Response {
  writers.set(response, writer);
  return response;
}

/**
 * `@hono/node-server` skips a response carrying its "already sent" header only on its general path:
 * the marker must be a plain web `Response`, which it is when this module loaded before the first
 * `serve` call replaced the global `Response` with the adapter's own (whose instances carry a
 * symbol-keyed cache). Otherwise streams keep to their web bodies.
 */
const markerUsable = Object.getOwnPropertySymbols(RESPONSE_ALREADY_SENT).length === 0;

/**
 * The answer of a request served by `@hono/node-server` (`env.outgoing` is its Node response):
 * a response made `withNodeWriter` gets its head (status and headers, as the middleware left them)
 * and its body written by its writer, and the adapter is told it was sent. Every other answer
 * passes through untouched.
 */
export async function answerOnNode(answer: Response | Promise<Response>, env: unknown): Promise<Response> {
  const response = await answer;
  const writer = writers.get(response);
  if (writer === undefined || !markerUsable) return response;
  const outgoing = typeof env === "object" && env !== null ? (env as { outgoing?: unknown }).outgoing : undefined;
  if (!(outgoing instanceof ServerResponse) || outgoing.headersSent) return response;
  writers.delete(response);
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  outgoing.writeHead(response.status, headers);
  writer(outgoing);
  return RESPONSE_ALREADY_SENT;
}
