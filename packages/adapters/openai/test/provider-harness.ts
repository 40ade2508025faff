import type { LlmRequest, LlmResponse, LlmStreamEvent, LlmToolSpec, ModelProvider, ProviderFailure } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { parseWireScript, type WireScript } from "@lash/testkit";

/** What one provider call produced: the streamed events, then a response or an error. */
export interface CallRecord {
  readonly events: LlmStreamEvent[];
  readonly response: LlmResponse | undefined;
  readonly error: unknown;
}

/** Runs one `doStream` call to its end and records everything it produced. */
export async function collectCall(
  provider: ModelProvider,
  request: LlmRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<CallRecord> {
  const events: LlmStreamEvent[] = [];
  let response: LlmResponse | undefined;
  let error: unknown;
  if (provider.doStream === undefined) throw new Error("the provider has no doStream");
  try {
    for await (const part of provider.doStream(request, { signal })) {
      if (part.type === "response") response = part.response;
      else events.push(part);
    }
  } catch (caught) {
    error = caught;
  }
  return { events, response, error };
}

/** The classified failure of a call that failed with a `ProviderCallError` (throws otherwise). */
export function failureOf(record: CallRecord): ProviderFailure {
  if (!ProviderCallError.isInstance(record.error)) {
    throw new Error(`expected a ProviderCallError, got ${record.error === undefined ? "a response" : String(record.error)}`);
  }
  return record.error.failure;
}

export const lookupTool: LlmToolSpec = {
  name: "lookup",
  description: "Look a word up.",
  inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
};

/** A request with one user message and the `lookup` tool. */
export function userRequest(model: string, text = "Look up x.", tools: readonly LlmToolSpec[] = [lookupTool]): LlmRequest {
  return {
    model,
    messages: [{ role: "user", blocks: [{ type: "text", text }] }],
    attachments: [],
    tools: [...tools],
    toolChoice: "auto",
  };
}

/** A wire script written in a test (validated like the fixture files). */
export function inlineScript(
  script: Omit<WireScript, "schema" | "request_match"> & { readonly request_match?: WireScript["request_match"] },
): WireScript {
  return parseWireScript({ schema: "lash.provider-wire-script.v1", ...script }, `${script.name} (inline)`);
}

/** SSE timeline events: a 200 event-stream start, one `sse` event per data value, `[DONE]`, end. */
export function sseTimeline(data: readonly unknown[]): WireScript["timeline"] {
  const timeline: WireScript["timeline"] = [
    { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
  ];
  for (const value of data) timeline.push({ at: 0, event: "sse", data: typeof value === "string" ? value : JSON.stringify(value) });
  timeline.push({ at: 0, event: "sse", data: "[DONE]" }, { at: 0, event: "end" });
  return timeline;
}

/** Timeline events of a whole (not streamed) JSON answer. */
export function jsonTimeline(body: unknown): WireScript["timeline"] {
  return [
    { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "application/json" }] },
    { at: 0, event: "body", data: JSON.stringify(body) },
    { at: 0, event: "end" },
  ];
}
