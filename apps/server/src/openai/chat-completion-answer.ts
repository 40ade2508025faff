import { type ErrorBody, LASH_AWAITING_APPROVAL_HEADER, LASH_SESSION_ID_HEADER, type TurnResult } from "@lash/remote-protocol";
import { KEEP_ALIVE_FRAME } from "../http/event-stream-headers.js";
import { HttpError } from "../http/http-error.js";
import type { StartedTurn } from "../turns/turn-runner.js";
import { dataFrame, eventStreamBody } from "../ui-stream/event-stream-body.js";
import { readTurnLog } from "../ui-stream/turn-log-reader.js";
import { awaitingApprovals, turnFailure } from "../ui-stream/turn-outcome.js";
import {
  type CompletionIdentity,
  CompletionText,
  closingNotice,
  completionBody,
  completionChunk,
  usageChunk,
} from "./chat-completion-output.js";
import { openAiErrorBody } from "./openai-error.js";

/** How the answer is written. */
export interface CompletionAnswerOptions {
  readonly identity: CompletionIdentity;
  readonly includeUsage: boolean;
  /** The session's provider reports prompt tokens without the cached ones (OpenAI counts them in). */
  readonly inputExcludesCachedTokens: boolean;
  readonly heartbeatMs: number;
}

/** The failure a segment that ended with an `error` event (the store, a commit) reads as. */
function segmentFailure(body: ErrorBody): HttpError {
  const { code, message, details } = body.error;
  return new HttpError(code, message, details === undefined ? {} : { details });
}

/** The failure a turn's stop amounts to (the provider failed, the runtime did), or `undefined` for an answer. */
function stopFailure(result: TurnResult): HttpError | undefined {
  const failure = turnFailure(result);
  return failure === undefined ? undefined : new HttpError(failure.code, failure.message, { details: { turnId: result.turnId } });
}

const EXPIRED = new HttpError("events_expired", "the turn's events are no longer kept; read its result with GET /v1/sessions/{id}");

function headersOf(identity: CompletionIdentity): Record<string, string> {
  return { [LASH_SESSION_ID_HEADER]: identity.sessionId, "lash-turn-id": identity.turnId };
}

/**
 * The JSON answer once the turn's segment ended: the assistant's text collected from its
 * activities (the same text a stream would have sent), the finish reason, the usage. A failed turn
 * is an error in OpenAI's shape, with the session header still set: the session exists and holds
 * what the turn committed. A client that disconnects stops nothing; the turn ends and commits.
 */
export async function completionJsonResponse(
  started: StartedTurn,
  options: CompletionAnswerOptions,
  signal: AbortSignal,
): Promise<Response> {
  const { identity } = options;
  const headers = headersOf(identity);
  let text = new CompletionText();
  let result: TurnResult | undefined;
  for await (const item of readTurnLog(started.record, started.firstEventId - 1, { idleMs: options.heartbeatMs, signal })) {
    if (item.type === "activity") text.add(item.activity);
    else if (item.type === "result") result = item.result;
    else if (item.type === "error") {
      const failure = segmentFailure(item.error);
      return Response.json(openAiErrorBody(failure), { status: failure.status, headers });
    } else if (item.type === "expired") break;
  }
  if (result === undefined) {
    // Events were dropped (a very long turn), or the client left: the committed answer is what is left.
    const settlement = await started.record.settled();
    if (settlement.type === "error") return Response.json(openAiErrorBody(settlement.error), { status: settlement.error.status, headers });
    result = settlement.result;
    text = new CompletionText();
    text.append({ content: result.answer.text });
  }
  const failure = stopFailure(result);
  if (failure !== undefined) return Response.json(openAiErrorBody(failure), { status: failure.status, headers });
  const notice = closingNotice(identity, result, text);
  if (notice !== undefined) text.append({ content: notice });
  const approvals = awaitingApprovals(result);
  if (approvals.length > 0) headers[LASH_AWAITING_APPROVAL_HEADER] = approvals.map((request) => request.id).join(", ");
  return Response.json(completionBody(identity, result, text, options.inputExcludesCachedTokens), { headers });
}

/**
 * The streamed answer: a first chunk with the role, a chunk per piece of prose or reasoning as it
 * happens, the note on approvals, the chunk with the finish reason, the usage chunk when asked,
 * then `data: [DONE]`. A failure after the stream began is sent as OpenAI's streams send one: a
 * last `data:` event holding `{ error }` (its clients throw it), with no `[DONE]`. `env` is the
 * route's `c.env` (see `eventStreamBody`).
 */
export function completionStreamResponse(started: StartedTurn, options: CompletionAnswerOptions, env: unknown): Response {
  const { identity, includeUsage } = options;
  async function* frames(signal: AbortSignal): AsyncGenerator<string> {
    const text = new CompletionText();
    yield dataFrame(completionChunk(identity, includeUsage, { role: "assistant", content: "" }));
    for await (const item of readTurnLog(started.record, started.firstEventId - 1, { idleMs: options.heartbeatMs, signal })) {
      switch (item.type) {
        case "activity": {
          const piece = text.add(item.activity);
          if (piece === undefined) break;
          yield dataFrame(
            completionChunk(
              identity,
              includeUsage,
              piece.content === undefined ? { reasoning_content: piece.reasoning ?? "" } : { content: piece.content },
            ),
          );
          break;
        }
        case "idle":
          yield KEEP_ALIVE_FRAME;
          break;
        case "expired":
          yield dataFrame(openAiErrorBody(EXPIRED));
          return;
        case "error":
          yield dataFrame(openAiErrorBody(segmentFailure(item.error)));
          return;
        case "result": {
          const failure = stopFailure(item.result);
          if (failure !== undefined) {
            yield dataFrame(openAiErrorBody(failure));
            return;
          }
          const notice = closingNotice(identity, item.result, text);
          const closing = [
            ...(notice === undefined
              ? []
              : [completionChunk(identity, includeUsage, { content: text.append({ content: notice }).content })]),
            completionChunk(identity, includeUsage, {}, { result: item.result }),
            ...(includeUsage ? [usageChunk(identity, item.result, options.inputExcludesCachedTokens)] : []),
          ];
          yield `${closing.map(dataFrame).join("")}data: [DONE]\n\n`;
          return;
        }
      }
    }
  }
  return eventStreamBody(frames, headersOf(identity), env, started.record.log);
}
