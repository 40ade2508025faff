import { parseWireScript, type WireScript, type WireScriptEvent } from "@lash/testkit";

/*
 * Builders of Anthropic Messages streams in the wire-script format, for the behaviours the shared
 * fixtures do not cover. Every event is the JSON the API sends, framed as the API frames it
 * (`event:` name line, `data:` line, blank line) unless a test needs raw chunks.
 */

export const MESSAGES_ENDPOINT = { method: "POST", path: "/v1/messages" } as const;

/** A script of the Messages endpoint, validated by the testkit's own schema. */
export function messagesScript(name: string, timeline: readonly unknown[]): WireScript {
  return parseWireScript(
    { schema: "lash.provider-wire-script.v1", name, provider_kind: "anthropic", endpoint: MESSAGES_ENDPOINT, timeline },
    name,
  );
}

const SSE_HEADERS = [
  { name: "content-type", value: "text/event-stream; charset=utf-8" },
  { name: "request-id", value: "req-test" },
];

/** The same script with an `expected_provider` block (what the conformance suite checks). */
export function withExpectation(script: WireScript, expected: Record<string, unknown>): WireScript {
  return parseWireScript({ ...script, expected_provider: expected }, script.name);
}

/** One stream event as the API sends it: `event: <type>` then `data: <json>`. */
export function frame(event: Record<string, unknown>): string {
  return `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function messageStart(usage: Record<string, number> = { input_tokens: 10, output_tokens: 1 }): Record<string, unknown> {
  return {
    type: "message_start",
    message: { id: "msg_test", type: "message", role: "assistant", model: "claude-test", content: [], stop_reason: null, usage },
  };
}

export function textBlock(index: number, pieces: readonly string[]): Record<string, unknown>[] {
  return [
    { type: "content_block_start", index, content_block: { type: "text", text: "" } },
    ...pieces.map((text) => ({ type: "content_block_delta", index, delta: { type: "text_delta", text } })),
    { type: "content_block_stop", index },
  ];
}

export function thinkingBlock(index: number, pieces: readonly string[], signature: string): Record<string, unknown>[] {
  return [
    { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } },
    ...pieces.map((thinking) => ({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking } })),
    { type: "content_block_delta", index, delta: { type: "signature_delta", signature } },
    { type: "content_block_stop", index },
  ];
}

export function redactedThinkingBlock(index: number, data: string): Record<string, unknown>[] {
  return [
    { type: "content_block_start", index, content_block: { type: "redacted_thinking", data } },
    { type: "content_block_stop", index },
  ];
}

export function toolUseBlock(index: number, id: string, name: string, fragments: readonly string[]): Record<string, unknown>[] {
  return [
    { type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } },
    ...fragments.map((partial_json) => ({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } })),
    { type: "content_block_stop", index },
  ];
}

export function messageEnd(stopReason: string, usage: Record<string, unknown> = { output_tokens: 5 }): Record<string, unknown>[] {
  return [{ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage }, { type: "message_stop" }];
}

/** A 200 streaming response that sends `events` one by one, then ends the body. */
export function streamScript(name: string, events: readonly Record<string, unknown>[]): WireScript {
  const timeline: unknown[] = [{ at: 0, event: "response_start", status: 200, headers: SSE_HEADERS }];
  for (const [index, event] of events.entries()) timeline.push({ at: 1 + index, event: "chunk", data: frame(event) });
  timeline.push({ at: 2 + events.length, event: "end" });
  return messagesScript(name, timeline);
}

/** A 200 streaming response made of raw chunks (text or bytes), then `last` (end, disconnect, timeout). */
export function chunkScript(
  name: string,
  chunks: ReadonlyArray<string | readonly number[]>,
  last: WireScriptEvent["event"] & ("end" | "disconnect" | "timeout") = "end",
): WireScript {
  const timeline: unknown[] = [{ at: 0, event: "response_start", status: 200, headers: SSE_HEADERS }];
  for (const [index, chunk] of chunks.entries()) {
    timeline.push(
      typeof chunk === "string" ? { at: 1 + index, event: "chunk", data: chunk } : { at: 1 + index, event: "chunk", bytes: chunk },
    );
  }
  timeline.push({ at: 2 + chunks.length, event: last });
  return messagesScript(name, timeline);
}

/** A response that never starts: the client's request timeout (or abort) must end the call. */
export function silentScript(name: string): WireScript {
  return messagesScript(name, [{ at: 0, event: "timeout" }]);
}

/** An HTTP error answer. */
export function errorScript(
  name: string,
  status: number,
  body: unknown,
  headers: ReadonlyArray<{ name: string; value: string }> = [],
): WireScript {
  return messagesScript(name, [
    {
      at: 0,
      event: "http_error",
      status,
      headers: [{ name: "content-type", value: "application/json" }, ...headers],
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
  ]);
}

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): number[] {
  return [...Buffer.from(text, "utf8")];
}
