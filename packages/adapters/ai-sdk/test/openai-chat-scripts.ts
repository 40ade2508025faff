// Wire scripts in the OpenAI Chat Completions protocol, for the real `@ai-sdk/openai` provider
// packages of both generations (`@ai-sdk/openai` 4.x makes "v4" models, the `@ai-sdk/openai-v3`
// alias of 3.x makes "v3" ones) pointed at the wire-script server. The first reply streams the way
// the bundled `openai-compatible.chat-tool-call-split-stream` script does (text whose UTF-8 bytes
// are split across reads, then a tool call whose arguments arrive in pieces); the second answers
// with the tool's result in hand. Both end with a usage chunk, as `stream_options.include_usage`
// asks. The bundled script itself cannot be played to `@ai-sdk/openai`: its chunks have no
// `choices[].index`, which both releases of the package require, it sends no usage, and it expects
// the user message first, where a lash turn sends its system prompt.
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAI as createOpenAIV3 } from "@ai-sdk/openai-v3";
import { parseWireScript, type WireScript, type WireScriptRequestMatch } from "@lash/testkit";
import type { AiSdkLanguageModel } from "../src/language-model-types.js";
import type { Generation } from "./model-fixtures.js";

export const CHAT_MODEL_ID = "gpt-4o-mini";
export const CHAT_API_KEY = "test-key";

type TimelineEvent = WireScript["timeline"][number];
type BodyMatch = NonNullable<WireScriptRequestMatch["body"]>;

/**
 * The Chat Completions model of `@ai-sdk/openai` 4.x (`"v4"`) or 3.x (`"v3"`) whose base URL is the
 * wire-script server at `baseUrl`.
 */
export function openaiChatModel(baseUrl: string, generation: Generation): AiSdkLanguageModel {
  const settings = { baseURL: baseUrl, apiKey: CHAT_API_KEY };
  return generation === "v4" ? createOpenAI(settings).chat(CHAT_MODEL_ID) : createOpenAIV3(settings).chat(CHAT_MODEL_ID);
}

/** One `data:` event carrying a Chat Completions chunk. */
function chunk(at: number, value: Record<string, unknown>): TimelineEvent {
  return { at, event: "sse", data: JSON.stringify(value) };
}

function usageChunk(at: number, usage: ChatUsage): TimelineEvent {
  return chunk(at, {
    choices: [],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
      prompt_tokens_details: { cached_tokens: usage.cached },
      completion_tokens_details: { reasoning_tokens: usage.reasoning },
    },
  });
}

/** Token counts of one reply, in the Chat Completions terms. */
export interface ChatUsage {
  readonly prompt: number;
  readonly cached: number;
  readonly completion: number;
  readonly reasoning: number;
}

const RESPONSE_START: TimelineEvent = {
  at: 0,
  event: "response_start",
  status: 200,
  headers: [{ name: "content-type", value: "text/event-stream; charset=utf-8" }],
};

const STREAM_END: TimelineEvent[] = [
  { at: 40, event: "sse", data: "[DONE]" },
  { at: 41, event: "end" },
];

function chatScript(name: string, body: BodyMatch, timeline: TimelineEvent[]): WireScript {
  return parseWireScript(
    {
      schema: "lash.provider-wire-script.v1",
      name,
      provider_kind: "openai-compatible",
      endpoint: { method: "POST", path: "/chat/completions" },
      request_match: {
        body,
        headers: { authorization: { equals: `Bearer ${CHAT_API_KEY}` }, "content-type": { contains: "application/json" } },
      },
      timeline,
    },
    name,
  );
}

/**
 * The first reply: "café " with the two bytes of "é" in reads of their own, then a call of
 * `toolName` whose JSON arguments `argumentsJson` arrive in two pieces, `finish_reason: tool_calls`
 * and the usage. The request must start with lash's system prompt and offer tools (lash's built-in
 * ones come first, so which tools is checked by the test, not here).
 */
export function toolCallReply(toolName: string, argumentsJson: string, usage: ChatUsage): WireScript {
  const splitAt = Math.floor(argumentsJson.length / 2);
  return chatScript(
    "openai-chat.tool-call",
    {
      model: { equals: CHAT_MODEL_ID },
      stream: { equals: true },
      "stream_options.include_usage": { equals: true },
      "messages[0].role": { equals: "system" },
      "messages[1].role": { equals: "user" },
      tools: { present: true },
      tool_choice: { equals: "auto" },
    },
    [
      RESPONSE_START,
      { at: 10, event: "chunk", data: 'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"caf' },
      { at: 11, event: "chunk", bytes: [0xc3] },
      { at: 12, event: "chunk", bytes: [0xa9] },
      { at: 13, event: "chunk", data: ' "}}]}\n\n' },
      chunk(20, {
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [
                { index: 0, id: "call_1", type: "function", function: { name: toolName, arguments: argumentsJson.slice(0, splitAt) } },
              ],
            },
          },
        ],
      }),
      chunk(21, { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: argumentsJson.slice(splitAt) } }] } }] }),
      chunk(30, { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
      usageChunk(31, usage),
      ...STREAM_END,
    ],
  );
}

/**
 * The second reply: `text` in two deltas, `finish_reason: stop` and the usage. The request must
 * carry the call of the first reply (with `argumentsJson`) and the tool's result (`toolResultJson`).
 */
export function answerReply(text: string, argumentsJson: string, toolResultJson: string, usage: ChatUsage): WireScript {
  const splitAt = Math.floor(text.length / 2);
  return chatScript(
    "openai-chat.answer",
    {
      model: { equals: CHAT_MODEL_ID },
      messages: { contains_role: "tool" },
      "messages[2].role": { equals: "assistant" },
      "messages[2].tool_calls[0].id": { equals: "call_1" },
      "messages[2].tool_calls[0].function.arguments": { equals: argumentsJson },
      "messages[3].role": { equals: "tool" },
      "messages[3].tool_call_id": { equals: "call_1" },
      "messages[3].content": { equals: toolResultJson },
    },
    [
      RESPONSE_START,
      chunk(10, { choices: [{ index: 0, delta: { role: "assistant", content: text.slice(0, splitAt) } }] }),
      chunk(11, { choices: [{ index: 0, delta: { content: text.slice(splitAt) } }] }),
      chunk(20, { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
      usageChunk(21, usage),
      ...STREAM_END,
    ],
  );
}

/** A reply whose body ends cleanly after some text, without a `finish_reason` (a connection cut short). */
export function cutShortReply(text: string): WireScript {
  return chatScript("openai-chat.cut-short", { model: { equals: CHAT_MODEL_ID } }, [
    RESPONSE_START,
    chunk(10, { choices: [{ index: 0, delta: { role: "assistant", content: text } }] }),
    { at: 20, event: "end" },
  ]);
}
