import type { LlmResponse, LlmStreamEvent, LlmStreamPart, RequestDeadline } from "@lash/protocol";
import { callerAbortError, ProviderCallError, startRequestDeadline } from "@lash/protocol";
import type OpenAI from "openai";
import { type CallObservation, createCallFetch } from "./call-fetch.js";
import { toProviderError } from "./failure-mapping.js";
import type { ResolvedProviderSettings } from "./provider-options.js";

/** Maps the decoded events of one streamed response, in order, then concludes it. */
export interface StreamDecoder {
  /** The stream events one server event produces (none is fine). Throws `ProviderCallError`. */
  accept(event: unknown): readonly LlmStreamEvent[];
  /**
   * The stream ended: the last events and the final response. Throws `ProviderCallError` when the
   * stream stopped before its terminal event (`observation` explains what arrived).
   */
  finish(observation: CallObservation): { readonly events: readonly LlmStreamEvent[]; readonly response: LlmResponse };
}

/** One provider call, as the runner drives it. */
export type CallPlan =
  | {
      readonly streaming: true;
      /** Sends the request; resolves with the SDK's event stream. */
      readonly send: (client: OpenAI, signal: AbortSignal) => Promise<AsyncIterable<unknown>>;
      readonly decoder: StreamDecoder;
    }
  | {
      readonly streaming: false;
      /** Sends the request; resolves with the parsed JSON body. */
      readonly send: (client: OpenAI, signal: AbortSignal) => Promise<unknown>;
      /** Maps the whole body to the final response. Throws `ProviderCallError`. */
      readonly decode: (body: unknown) => LlmResponse;
    };

/**
 * Runs one attempt of a provider call: sends it with the deadline's signal (the caller's abort and
 * both timeouts), forwards the decoded stream events, ends with one `response` item, and turns
 * every failure into a `ProviderCallError` or the caller's abort (see `toProviderError`).
 */
export async function* runProviderCall(
  settings: ResolvedProviderSettings,
  signal: AbortSignal,
  plan: CallPlan,
): AsyncGenerator<LlmStreamPart, void, undefined> {
  const deadline = startRequestDeadline({ timeouts: settings.timeouts, signal });
  const observation: CallObservation = { responseStarted: false, errorBody: undefined, contentType: undefined };
  // A client per call: its fetch reports to this call's deadline. Deriving one copies options only.
  const client = settings.client.withOptions({ fetch: createCallFetch(settings.fetch, deadline, observation) });
  const context = { signal, deadline, observation };
  try {
    if (!plan.streaming) {
      const body = await plan.send(client, deadline.signal);
      throwIfStopped(signal, deadline);
      yield { type: "response", response: plan.decode(body) };
      return;
    }
    const events = await plan.send(client, deadline.signal);
    for await (const event of events) {
      for (const streamEvent of plan.decoder.accept(event)) {
        yield streamEvent;
        // The wait was the consumer's (back-pressure), not the server's: start the gap anew.
        deadline.chunkReceived();
      }
    }
    // The SDK ends its stream quietly when the signal aborts: say why it ended.
    throwIfStopped(signal, deadline);
    const final = plan.decoder.finish(observation);
    for (const streamEvent of final.events) yield streamEvent;
    yield { type: "response", response: final.response };
  } catch (error) {
    throw toProviderError(error, context);
  } finally {
    deadline.dispose();
  }
}

function throwIfStopped(signal: AbortSignal, deadline: RequestDeadline): void {
  if (signal.aborted) throw callerAbortError(signal);
  const timeout = deadline.timedOut();
  if (timeout !== undefined) throw new ProviderCallError(timeout);
}
