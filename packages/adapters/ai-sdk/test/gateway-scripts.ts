// Wire scripts in the protocol of the AI SDK's gateway provider (`createGateway` from `ai`): one
// POST to `<baseURL>/language-model` per call, the model id in a header, and the V3 stream parts
// as server-sent events. They let the adapter run over real HTTP with no provider package beyond
// `ai` itself.
import type { LanguageModelV3StreamPart } from "@ai-sdk/provider";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { parseWireScript, type WireScript } from "@lash/testkit";
import { createGateway } from "ai";
import { finishPart, textParts, usageV3 } from "./model-fixtures.js";

export const GATEWAY_MODEL_ID = "acme/loopback-model";
export const GATEWAY_API_KEY = "test-key";
/** The path the gateway provider posts to, under the base URL `${server}/v3/ai`. */
const GATEWAY_PATH = "/v3/ai/language-model";

type TimelineEvent = WireScript["timeline"][number];

/** The gateway model of a wire-script server at `baseUrl`. */
export function gatewayModel(baseUrl: string): LanguageModelV3 {
  return createGateway({ baseURL: `${baseUrl}/v3/ai`, apiKey: GATEWAY_API_KEY })(GATEWAY_MODEL_ID);
}

/** A gateway exchange with the given timeline (and optional expectations for the conformance suite). */
export function gatewayScript(name: string, timeline: TimelineEvent[], expectedProvider?: Record<string, unknown>): WireScript {
  return parseWireScript(
    {
      schema: "lash.provider-wire-script.v1",
      name,
      provider_kind: "ai-gateway",
      endpoint: { method: "POST", path: GATEWAY_PATH },
      request_match: {
        headers: {
          authorization: { equals: `Bearer ${GATEWAY_API_KEY}` },
          "ai-language-model-id": { equals: GATEWAY_MODEL_ID },
          "ai-language-model-streaming": { equals: "true" },
          "ai-language-model-specification-version": { equals: "3" },
        },
      },
      timeline,
      ...(expectedProvider === undefined ? {} : { expected_provider: expectedProvider }),
    },
    name,
  );
}

const SSE_START: TimelineEvent = { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] };

function sse(parts: readonly LanguageModelV3StreamPart[]): TimelineEvent[] {
  return parts.map((part): TimelineEvent => ({ at: 0, event: "sse", data: JSON.stringify(part) }));
}

/** A gateway exchange that streams `parts` as server-sent events, then `ending` (by default the end of the body). */
export function streamScript(
  name: string,
  parts: readonly LanguageModelV3StreamPart[],
  options: { ending?: TimelineEvent[]; expectedProvider?: Record<string, unknown> } = {},
): WireScript {
  return gatewayScript(name, [SSE_START, ...sse(parts), ...(options.ending ?? [{ at: 0, event: "end" }])], options.expectedProvider);
}

/** A gateway exchange that fails with an HTTP error and a JSON `{ error }` body. */
export function errorScript(name: string, status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): WireScript {
  return gatewayScript(name, [
    {
      at: 0,
      event: "http_error",
      status,
      headers: [{ name: "content-type", value: "application/json" }, ...Object.entries(headers).map(([headerName, value]) => ({ name: headerName, value }))],
      body: JSON.stringify({ error }),
    },
  ]);
}

/**
 * A `finish` part whose usage the conformance suite can read too: the suite reads usage of a
 * provider kind it does not know in the Chat Completions shape (`prompt_tokens`, ...), so the same
 * counts are mirrored under those keys next to the V3 ones the adapter reads.
 */
function finishWithMirroredUsage(unified: "stop" | "tool-calls", input: number, output: number, cacheRead: number): LanguageModelV3StreamPart {
  const part = finishPart(unified, usageV3(input, output, { cacheRead }));
  if (part.type !== "finish") throw new Error("finishPart did not build a finish part");
  const usage = { ...part.usage, prompt_tokens: input, completion_tokens: output, prompt_tokens_details: { cached_tokens: cacheRead } };
  return { ...part, usage };
}

/** The scripts the model provider conformance suite runs against the adapter. */
export function conformanceScripts(): WireScript[] {
  return [
    streamScript(
      "ai-gateway.text-stream",
      [{ type: "stream-start", warnings: [] }, ...textParts("t", ["Hello", " there", ", héllo ✓."]), finishWithMirroredUsage("stop", 21, 6, 8)],
      { expectedProvider: { terminal_reason: "stop", text: "Hello there, héllo ✓." } },
    ),
    streamScript(
      "ai-gateway.tool-call-stream",
      [
        { type: "tool-input-start", id: "call_1", toolName: "lookup" },
        { type: "tool-input-delta", id: "call_1", delta: '{"q":' },
        { type: "tool-input-delta", id: "call_1", delta: '"lash"}' },
        { type: "tool-input-end", id: "call_1" },
        { type: "tool-call", toolCallId: "call_1", toolName: "lookup", input: '{"q":"lash"}' },
        finishWithMirroredUsage("tool-calls", 40, 12, 0),
      ],
      { expectedProvider: { terminal_reason: "tool-calls", tool_names: ["lookup"] } },
    ),
    errorScript("ai-gateway.rate-limit-429", 429, { message: "Too many requests", type: "rate_limit_exceeded" }, { "retry-after": "7" }),
    errorScript("ai-gateway.unauthorized-401", 401, { message: "Invalid API key", type: "authentication_error" }),
    errorScript("ai-gateway.context-overflow-400", 400, {
      message: "This model's maximum context length is 8192 tokens.",
      type: "invalid_request_error",
      code: "context_length_exceeded",
    }),
    errorScript("ai-gateway.server-error-500", 500, { message: "Internal error", type: "internal_server_error" }),
    streamScript("ai-gateway.mid-stream-disconnect", textParts("t", ["Half an ans"]).slice(0, 2), { ending: [{ at: 0, event: "disconnect" }] }),
    gatewayScript("ai-gateway.no-response", [{ at: 0, event: "timeout" }]),
    streamScript("ai-gateway.stalled-stream", textParts("t", ["Sta"]).slice(0, 2), { ending: [{ at: 0, event: "timeout" }] }),
  ];
}
