import type { LlmResponse, LlmStreamEvent, LlmStreamPart } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import {
  type RequestDeadline,
  readServerSentEvents,
  type ServerSentEvent,
  type StreamCompletion,
  startRequestDeadline,
  truncatedStreamFailure,
} from "@lash/provider-utils";
import type OpenAI from "openai";
import { type CallObservation, createCallFetch, readCappedText } from "./call-fetch.js";
import { failureFromBodyError, malformedStream, toProviderError } from "./failure-mapping.js";
import type { ResolvedProviderSettings } from "./provider-options.js";

/** Maps the decoded events of one streamed response, in order, then concludes it. */
export interface StreamDecoder {
  /** The event that says the response is whole: a stream that ends before it was cut short. */
  readonly completion: StreamCompletion;
  /** True when nothing after the last event belongs to the response: the rest of the body is not read. */
  ended(): boolean;
  /** The stream events one server event (its JSON data) produces (none is fine). Throws `ProviderCallError`. */
  accept(event: unknown): readonly LlmStreamEvent[];
  /** The stream is complete: the last events and the final response. */
  finish(): { readonly events: readonly LlmStreamEvent[]; readonly response: LlmResponse };
}

/**
 * One provider call, as the runner drives it. The SDK builds and sends the request (authentication,
 * headers, base URL, the endpoint's path) and hands back the raw `Response` (`.asResponse()`); the
 * runner reads the body itself.
 */
export type CallPlan =
  | {
      readonly streaming: true;
      readonly send: (client: OpenAI, signal: AbortSignal) => Promise<Response>;
      readonly decoder: StreamDecoder;
    }
  | {
      readonly streaming: false;
      readonly send: (client: OpenAI, signal: AbortSignal) => Promise<Response>;
      /** Maps the whole JSON body to the final response. Throws `ProviderCallError`. */
      readonly decode: (body: unknown) => LlmResponse;
    };

/** A whole JSON body larger than this is not a model response anyone sends. */
const LARGEST_JSON_BODY_BYTES = 64 * 1024 * 1024;

/** The end of a Chat Completions stream: not JSON, and nothing after it belongs to the response. */
const DONE_SENTINEL = "[DONE]";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw malformedStream(`the server sent ${what} that is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * The JSON data of one server event. An error the server put in the stream (an `event: error`
 * frame, or data with an `error` member, as OpenRouter sends when the upstream fails) fails the
 * call with that error, as the SDK's own stream does.
 */
function eventData(event: ServerSentEvent): unknown {
  const data = parseJson(event.data, "data");
  if (event.event === "error") {
    const error = isRecord(data) && data.error !== undefined && data.error !== null ? data.error : data;
    throw new ProviderCallError(failureFromBodyError(error, "the server reported an error in the stream"));
  }
  if (isRecord(data) && data.error) {
    throw new ProviderCallError(failureFromBodyError(data.error, "the server reported an error in the stream"));
  }
  return data;
}

async function readJsonBody(response: Response, deadline: RequestDeadline): Promise<unknown> {
  if (response.body === null) throw malformedStream("the response has no body");
  const body = await readCappedText(response.body, LARGEST_JSON_BODY_BYTES, () => deadline.chunkReceived());
  if (!body.complete) throw malformedStream(`the response body is larger than ${LARGEST_JSON_BODY_BYTES} bytes`);
  return parseJson(body.text, "a body");
}

/**
 * Runs one attempt of a provider call: sends it with the deadline's signal (the caller's abort and
 * both timeouts), reads the body (a server-sent event stream through `readServerSentEvents`, or a
 * whole JSON body), forwards the decoded stream events, ends with one `response` item, and turns
 * every failure into a `ProviderCallError` or the caller's abort (see `toProviderError`).
 */
export async function* runProviderCall(
  settings: ResolvedProviderSettings,
  signal: AbortSignal,
  plan: CallPlan,
): AsyncGenerator<LlmStreamPart, void, undefined> {
  const deadline = startRequestDeadline({ timeouts: settings.timeouts, signal });
  const observation: CallObservation = { responseStarted: false, errorBody: undefined };
  // A client per call: its fetch reports to this call's deadline. Deriving one copies options only.
  const client = settings.client.withOptions({ fetch: createCallFetch(settings.fetch, deadline, observation) });
  const context = { signal, deadline, observation };
  try {
    const response = await plan.send(client, deadline.signal);
    if (!plan.streaming) {
      yield { type: "response", response: plan.decode(await readJsonBody(response, deadline)) };
      return;
    }
    const { decoder } = plan;
    for await (const event of readServerSentEvents(response, { deadline, signal, completion: decoder.completion })) {
      if (event.data === DONE_SENTINEL) break;
      for (const streamEvent of decoder.accept(eventData(event))) yield streamEvent;
      if (decoder.ended()) break;
    }
    // Stopping at `[DONE]` skips the reader's own check at the end of the body.
    if (!decoder.completion.isReached()) {
      const contentType = response.headers.get("content-type") ?? undefined;
      throw new ProviderCallError(truncatedStreamFailure(`the stream ended before ${decoder.completion.name}`, contentType));
    }
    const final = decoder.finish();
    for (const streamEvent of final.events) yield streamEvent;
    yield { type: "response", response: final.response };
  } catch (error) {
    throw toProviderError(error, context);
  } finally {
    deadline.dispose();
  }
}
