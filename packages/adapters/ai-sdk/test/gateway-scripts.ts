// Wire scripts in the protocol of the AI SDK's gateway provider (`createGateway`, which ships with
// `ai`): one POST to `<baseURL>/language-model` per call, the model id and the specification
// version in headers, and the stream parts as server-sent events. They let the adapter run over
// real HTTP with no provider package beyond `ai` itself, in both generations: `ai` 7's gateway
// makes `"v4"` models (base path `/v4/ai`), `ai` 6's (the `ai-v6` alias) `"v3"` ones (`/v3/ai`).
import { parseWireScript, type WireScript } from "@lash/testkit";
import { createGateway } from "ai";
import { createGateway as createGatewayV6 } from "ai-v6";
import type { AiSdkLanguageModel } from "../src/language-model-types.js";
import { finishPart, type Generation, type SharedStreamPart, textParts, usageOf } from "./model-fixtures.js";

export const GATEWAY_MODEL_ID = "acme/loopback-model";
export const GATEWAY_API_KEY = "test-key";

/** Where each generation's gateway provider posts, and the specification header it sends. */
const GATEWAYS: Readonly<Record<Generation, { readonly basePath: string; readonly specificationHeader: string }>> = {
  v4: { basePath: "/v4/ai", specificationHeader: "4" },
  v3: { basePath: "/v3/ai", specificationHeader: "3" },
};

type TimelineEvent = WireScript["timeline"][number];

/** The gateway model of a wire-script server at `baseUrl`, from `ai` 7 (`"v4"`) or `ai` 6 (`"v3"`). */
export function gatewayModel(baseUrl: string, generation: Generation = "v4"): AiSdkLanguageModel {
  const settings = { baseURL: `${baseUrl}${GATEWAYS[generation].basePath}`, apiKey: GATEWAY_API_KEY };
  return generation === "v4" ? createGateway(settings)(GATEWAY_MODEL_ID) : createGatewayV6(settings)(GATEWAY_MODEL_ID);
}

/** A gateway exchange with the given timeline (and optional expectations for the conformance suite). */
export function gatewayScript(
  name: string,
  timeline: TimelineEvent[],
  generation: Generation,
  expectedProvider?: Record<string, unknown>,
): WireScript {
  const gateway = GATEWAYS[generation];
  return parseWireScript(
    {
      schema: "lash.provider-wire-script.v1",
      name,
      provider_kind: "ai-gateway",
      endpoint: { method: "POST", path: `${gateway.basePath}/language-model` },
      request_match: {
        headers: {
          authorization: { equals: `Bearer ${GATEWAY_API_KEY}` },
          "ai-language-model-id": { equals: GATEWAY_MODEL_ID },
          "ai-language-model-streaming": { equals: "true" },
          "ai-language-model-specification-version": { equals: gateway.specificationHeader },
        },
      },
      timeline,
      ...(expectedProvider === undefined ? {} : { expected_provider: expectedProvider }),
    },
    name,
  );
}

const SSE_START: TimelineEvent = {
  at: 0,
  event: "response_start",
  status: 200,
  headers: [{ name: "content-type", value: "text/event-stream" }],
};

function sse(parts: readonly SharedStreamPart[]): TimelineEvent[] {
  return parts.map((part): TimelineEvent => ({ at: 0, event: "sse", data: JSON.stringify(part) }));
}

/** A gateway exchange that streams `parts` as server-sent events, then `ending` (by default the end of the body). */
export function streamScript(
  name: string,
  parts: readonly SharedStreamPart[],
  options: { generation?: Generation; ending?: TimelineEvent[]; expectedProvider?: Record<string, unknown> } = {},
): WireScript {
  const timeline = [SSE_START, ...sse(parts), ...(options.ending ?? [{ at: 0, event: "end" } as const])];
  return gatewayScript(name, timeline, options.generation ?? "v4", options.expectedProvider);
}

/** A gateway exchange that fails with an HTTP error and a JSON `{ error }` body. */
export function errorScript(
  name: string,
  status: number,
  error: Record<string, unknown>,
  options: { generation?: Generation; headers?: Record<string, string> } = {},
): WireScript {
  const headers = [
    { name: "content-type", value: "application/json" },
    ...Object.entries(options.headers ?? {}).map(([headerName, value]) => ({ name: headerName, value })),
  ];
  return gatewayScript(
    name,
    [{ at: 0, event: "http_error", status, headers, body: JSON.stringify({ error }) }],
    options.generation ?? "v4",
  );
}

/**
 * A `finish` part whose usage the conformance suite can read too: the suite reads usage of a
 * provider kind it does not know in the Chat Completions shape (`prompt_tokens`, ...), so the same
 * counts are mirrored under those keys next to the ones the adapter reads.
 */
function finishWithMirroredUsage(unified: "stop" | "tool-calls", input: number, output: number, cacheRead: number): SharedStreamPart {
  const part = finishPart(unified, usageOf(input, output, { cacheRead }));
  const usage = { ...part.usage, prompt_tokens: input, completion_tokens: output, prompt_tokens_details: { cached_tokens: cacheRead } };
  return { ...part, usage };
}

/** The scripts the model provider conformance suite runs against the adapter, for one generation. */
export function conformanceScripts(generation: Generation): WireScript[] {
  const stream = (
    name: string,
    parts: readonly SharedStreamPart[],
    options: { ending?: TimelineEvent[]; expectedProvider?: Record<string, unknown> } = {},
  ) => streamScript(name, parts, { ...options, generation });
  const error = (name: string, status: number, body: Record<string, unknown>, headers?: Record<string, string>) =>
    errorScript(name, status, body, { generation, ...(headers === undefined ? {} : { headers }) });
  return [
    stream(
      "ai-gateway.text-stream",
      [
        { type: "stream-start", warnings: [] },
        ...textParts("t", ["Hello", " there", ", héllo ✓."]),
        finishWithMirroredUsage("stop", 21, 6, 8),
      ],
      { expectedProvider: { terminal_reason: "stop", text: "Hello there, héllo ✓." } },
    ),
    stream(
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
    error("ai-gateway.rate-limit-429", 429, { message: "Too many requests", type: "rate_limit_exceeded" }, { "retry-after": "7" }),
    error("ai-gateway.unauthorized-401", 401, { message: "Invalid API key", type: "authentication_error" }),
    error("ai-gateway.context-overflow-400", 400, {
      message: "This model's maximum context length is 8192 tokens.",
      type: "invalid_request_error",
      code: "context_length_exceeded",
    }),
    error("ai-gateway.server-error-500", 500, { message: "Internal error", type: "internal_server_error" }),
    stream("ai-gateway.mid-stream-disconnect", textParts("t", ["Half an ans"]).slice(0, 2), { ending: [{ at: 0, event: "disconnect" }] }),
    gatewayScript("ai-gateway.no-response", [{ at: 0, event: "timeout" }], generation),
    stream("ai-gateway.stalled-stream", textParts("t", ["Sta"]).slice(0, 2), { ending: [{ at: 0, event: "timeout" }] }),
  ];
}
