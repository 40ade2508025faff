import type { LlmRequest, LlmResponse, LlmStreamEvent, ModelProvider } from "@lash/protocol";

/** One item a provider produced, in order. */
export type ProviderCallItem =
  | { readonly type: "event"; readonly event: LlmStreamEvent }
  | { readonly type: "response"; readonly response: LlmResponse };

/** Everything one provider call produced. */
export interface ProviderCallRecord {
  /** Stream events and the final response, in the order the provider produced them. */
  readonly items: readonly ProviderCallItem[];
  /** The stream events alone. */
  readonly events: readonly LlmStreamEvent[];
  /** The final response (as returned, not validated); `undefined` when the call failed. */
  readonly response: LlmResponse | undefined;
  /** True when the call threw (or the stream failed). */
  readonly failed: boolean;
  /** What it threw. */
  readonly error: unknown;
  /** Breaches of the calling contract (an item after the final response, no final response, ...). */
  readonly contractProblems: readonly string[];
  /** Events emitted after the call settled (`doComplete` must not; they are counted until `lateEventCount()` is read). */
  lateEventCount(): number;
}

/**
 * Calls a provider the way the runtime does, through `doComplete` (with an `emit` that records) or
 * `doStream` (consumed to its end), and records what it produced.
 */
export async function callProvider(provider: ModelProvider, request: LlmRequest, signal: AbortSignal): Promise<ProviderCallRecord> {
  const items: ProviderCallItem[] = [];
  const events: LlmStreamEvent[] = [];
  const contractProblems: string[] = [];
  let response: LlmResponse | undefined;
  let failed = false;
  let error: unknown;
  let settled = false;
  let lateEvents = 0;
  const record = (event: LlmStreamEvent): void => {
    if (settled) {
      lateEvents += 1;
      return;
    }
    items.push({ type: "event", event });
    events.push(event);
  };
  const hasComplete = typeof provider.doComplete === "function";
  const hasStream = typeof provider.doStream === "function";
  if (hasComplete === hasStream) {
    contractProblems.push(
      hasComplete ? "the provider implements both doComplete and doStream" : "the provider implements neither doComplete nor doStream",
    );
  }
  try {
    if (provider.doComplete !== undefined) {
      response = await provider.doComplete(request, { signal, emit: record });
      items.push({ type: "response", response });
    } else if (provider.doStream !== undefined) {
      for await (const part of provider.doStream(request, { signal })) {
        if (response !== undefined) contractProblems.push(`doStream yielded a ${String(part.type)} item after its final response`);
        if (part.type === "response") {
          response = part.response;
          items.push({ type: "response", response: part.response });
        } else {
          record(part);
        }
      }
      if (response === undefined) contractProblems.push('doStream ended without a final { type: "response" } item');
    }
  } catch (thrown) {
    failed = true;
    error = thrown;
    response = undefined;
  } finally {
    settled = true;
  }
  return { items, events, response, failed, error, contractProblems, lateEventCount: () => lateEvents };
}
