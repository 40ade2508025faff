import type { LlmRequest } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { lookupTool } from "../test/provider-harness.js";
import { type ChatRequestSettings, chatRequestBody } from "./chat-request-mapping.js";
import { type ResponsesRequestSettings, responsesRequestBody } from "./responses-request-mapping.js";

const PNG_BYTES = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_BYTES = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]);
const PNG_URL = `data:image/png;base64,${Buffer.from(PNG_BYTES).toString("base64")}`;
const JPEG_URL = `data:image/jpeg;base64,${Buffer.from(JPEG_BYTES).toString("base64")}`;

/** A conversation with every block kind: system prompt, images, reasoning, a tool call and its result. */
const conversation: LlmRequest = {
  model: "",
  messages: [
    { role: "system", blocks: [{ type: "text", text: "You are terse." }] },
    {
      role: "user",
      blocks: [
        { type: "text", text: "What is in this picture?" },
        { type: "image", attachmentIndex: 0 },
      ],
    },
    {
      role: "assistant",
      blocks: [
        {
          type: "reasoning",
          text: "The user wants a lookup.",
          replay: { itemId: "rs_1", encryptedContent: "enc-1", redacted: false, summary: ["The user wants a lookup."] },
        },
        { type: "reasoning", text: "display only", replay: { redacted: false, summary: [] } },
        { type: "text", text: "Let me look.", responseMeta: { id: "msg_1", phase: "commentary" } },
        { type: "tool_call", callId: "call_1", toolName: "lookup", inputJson: '{"q":"cat"}' },
      ],
    },
    {
      role: "user",
      blocks: [
        { type: "tool_result", callId: "call_1", content: '{"found":true}', toolName: "lookup" },
        { type: "image", attachmentIndex: 1 },
      ],
    },
    { role: "system", blocks: [{ type: "text", text: "Runtime note:\nanswer now" }] },
  ],
  attachments: [
    { mediaType: "image/png", data: PNG_BYTES },
    { mediaType: "image/jpeg", data: JPEG_BYTES },
  ],
  tools: [lookupTool],
  toolChoice: "required",
  modelVariant: "high",
  sessionId: "session-1",
  outputSpec: { type: "json_schema", name: "answer", schema: { type: "object", properties: { text: { type: "string" } } }, strict: true },
};

const chatSettings: ChatRequestSettings = {
  providerId: "openai-chat",
  defaultModel: "gpt-5.4",
  maxOutputTokens: 512,
  maxOutputTokensField: "max_completion_tokens",
  stream: true,
  streamUsage: true,
  extraBody: { temperature: 0.2, model: "overridden by the adapter" },
};

const responsesSettings: ResponsesRequestSettings = {
  providerId: "openai-responses",
  defaultModel: "gpt-5.4",
  maxOutputTokens: 512,
  stream: true,
  store: false,
  reasoningEffort: undefined,
  reasoningSummary: "auto",
  sessionCacheKey: true,
  extraBody: { temperature: 0.2 },
};

describe("Chat Completions request mapping", () => {
  it("maps every block kind, tools, tool_choice, output_spec, the output limit and the default model", () => {
    expect(chatRequestBody(conversation, chatSettings)).toEqual({
      temperature: 0.2,
      model: "gpt-5.4",
      messages: [
        { role: "system", content: "You are terse." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture?" },
            { type: "image_url", image_url: { url: PNG_URL } },
          ],
        },
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"cat"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"found":true}' },
        { role: "user", content: [{ type: "image_url", image_url: { url: JPEG_URL } }] },
        { role: "system", content: "Runtime note:\nanswer now" },
      ],
      tools: [{ type: "function", function: { name: "lookup", description: lookupTool.description, parameters: lookupTool.inputSchema } }],
      tool_choice: "required",
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object", properties: { text: { type: "string" } } }, strict: true },
      },
      max_completion_tokens: 512,
      reasoning_effort: "high",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("sends text-only user messages as strings, leaves tool_choice out without tools, and can stream without usage", () => {
    const body = chatRequestBody(
      {
        model: "llama3.2",
        messages: [
          {
            role: "user",
            blocks: [
              { type: "text", text: "one" },
              { type: "text", text: "two" },
            ],
          },
        ],
        attachments: [],
        tools: [],
        toolChoice: "none",
        outputSpec: { type: "json_object" },
      },
      { ...chatSettings, maxOutputTokens: 64, maxOutputTokensField: "max_tokens", streamUsage: false, extraBody: {} },
    );
    expect(body).toEqual({
      model: "llama3.2",
      messages: [{ role: "user", content: "one\n\ntwo" }],
      response_format: { type: "json_object" },
      max_tokens: 64,
      stream: true,
    });
  });

  it("a whole (not streamed) request says stream: false", () => {
    const body = chatRequestBody(conversation, { ...chatSettings, stream: false });
    expect(body.stream).toBe(false);
    expect(body).not.toHaveProperty("stream_options");
  });

  it("rejects an image block without its attachment, a hostile media type and a request without a model", () => {
    const image = (mediaType: string, attachmentIndex: number): LlmRequest => ({
      model: "m",
      messages: [{ role: "user", blocks: [{ type: "image", attachmentIndex }] }],
      attachments: [{ mediaType, data: PNG_BYTES }],
      tools: [],
      toolChoice: "auto",
    });
    const failureOf = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return ProviderCallError.isInstance(error) ? error.failure : error;
      }
      return undefined;
    };
    expect(failureOf(() => chatRequestBody(image("image/png", 3), chatSettings))).toMatchObject({
      kind: "validation",
      retryable: false,
      message: "an image block points at attachment 3, but the request has 1",
    });
    expect(failureOf(() => chatRequestBody(image("image/png;base64,AAAA,", 0), chatSettings))).toMatchObject({
      kind: "validation",
      retryable: false,
    });
    expect(
      failureOf(() => chatRequestBody({ ...image("image/png", 0), model: "" }, { ...chatSettings, defaultModel: undefined })),
    ).toMatchObject({
      kind: "validation",
      message: "openai-chat: the request names no model and the provider has no defaultModel",
    });
  });
});

describe("Responses request mapping", () => {
  it("maps the system prompt to instructions, replays encrypted reasoning, keeps phases, and sets store and include", () => {
    expect(responsesRequestBody(conversation, responsesSettings)).toEqual({
      temperature: 0.2,
      model: "gpt-5.4",
      instructions: "You are terse.",
      input: [
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "What is in this picture?" },
            { type: "input_image", image_url: PNG_URL, detail: "auto" },
          ],
        },
        {
          type: "reasoning",
          id: "rs_1",
          summary: [{ type: "summary_text", text: "The user wants a lookup." }],
          encrypted_content: "enc-1",
        },
        { type: "message", role: "assistant", content: "Let me look.", phase: "commentary" },
        { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"q":"cat"}' },
        { type: "function_call_output", call_id: "call_1", output: '{"found":true}' },
        { type: "message", role: "user", content: [{ type: "input_image", image_url: JPEG_URL, detail: "auto" }] },
        { type: "message", role: "system", content: "Runtime note:\nanswer now" },
      ],
      store: false,
      include: ["reasoning.encrypted_content"],
      tools: [{ type: "function", name: "lookup", description: lookupTool.description, parameters: lookupTool.inputSchema, strict: false }],
      tool_choice: "required",
      text: {
        format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { text: { type: "string" } } }, strict: true },
      },
      max_output_tokens: 512,
      reasoning: { effort: "high", summary: "auto" },
      prompt_cache_key: "session-1",
      stream: true,
    });
  });

  it("sends no reasoning settings unless asked, and json_object as text.format", () => {
    const body = responsesRequestBody(
      { ...conversation, modelVariant: undefined, sessionId: undefined, tools: [], outputSpec: { type: "json_object" } },
      { ...responsesSettings, reasoningSummary: undefined, maxOutputTokens: undefined, stream: false, extraBody: {} },
    );
    expect(body).not.toHaveProperty("reasoning");
    expect(body).not.toHaveProperty("tools");
    expect(body).not.toHaveProperty("tool_choice");
    expect(body).not.toHaveProperty("prompt_cache_key");
    expect(body).not.toHaveProperty("max_output_tokens");
    expect(body.text).toEqual({ format: { type: "json_object" } });
    expect(body.stream).toBe(false);
  });
});
