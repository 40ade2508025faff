import { describe, expect, it } from "vitest";
import {
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  createOpenApiDocument,
  openAiErrorBodySchema,
  uiChatRequestSchema,
  uiToolApprovalResponsePartSchema,
} from "./index.js";

describe("the Chat Completions request", () => {
  it("tolerates the fields OpenAI's clients send and keeps them", () => {
    const body = {
      model: "default",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hi" }], name: "alice" },
      ],
      temperature: 0.2,
      top_p: null,
      store: false,
      stream: true,
      stream_options: { include_usage: true },
      prompt_cache_key: "k",
      user: "user-42",
    };
    const parsed = chatCompletionRequestSchema.parse(body);
    expect(parsed).toMatchObject({ model: "default", stream: true, temperature: 0.2 });
  });

  it("checks the fields the server reads", () => {
    const message = { role: "user", content: "Hi" };
    for (const body of [
      { messages: [message] },
      { model: "", messages: [message] },
      { model: "x".repeat(201), messages: [message] },
      { model: "default", messages: [] },
      { model: "default", messages: [{ role: "narrator", content: "Hi" }] },
      { model: "default", messages: [{ role: "user", content: 42 }] },
      { model: "default", messages: [{ role: "user", content: [{ type: "text" }] }] },
      { model: "default", messages: [message], stream: "yes" },
      { model: "default", messages: [message], n: 1.5 },
      { model: "default", messages: [message], metadata: { session_id: 7 } },
      { model: "default", messages: [message], metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, "v"])) },
    ]) {
      expect(chatCompletionRequestSchema.safeParse(body).success, JSON.stringify(body).slice(0, 80)).toBe(false);
    }
  });
});

describe("the Chat Completions answers", () => {
  const usage = {
    prompt_tokens: 3,
    completion_tokens: 2,
    total_tokens: 5,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
  const lash = { session_id: "s1", turn_id: "t1", outcome: { type: "finished", finish: { type: "assistant_message", text: "Hi." } } };

  it("parse a completion, a chunk and an error", () => {
    expect(
      chatCompletionSchema.safeParse({
        id: "chatcmpl-t1",
        object: "chat.completion",
        created: 1,
        model: "default",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi.", refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage,
        lash,
      }).success,
    ).toBe(true);
    expect(
      chatCompletionChunkSchema.safeParse({
        id: "chatcmpl-t1",
        object: "chat.completion.chunk",
        created: 1,
        model: "default",
        choices: [{ index: 0, delta: { content: "Hi" }, logprobs: null, finish_reason: null }],
        usage: null,
      }).success,
    ).toBe(true);
    expect(
      openAiErrorBodySchema.safeParse({ error: { message: "no", type: "invalid_request_error", param: null, code: "x" } }).success,
    ).toBe(true);
  });
});

describe("the useChat request", () => {
  const messages = [{ id: "m1", role: "user", parts: [{ type: "text", text: "Hi" }] }];

  it("takes useChat's fields and refuses others", () => {
    expect(uiChatRequestSchema.safeParse({ id: "chat-1", messages, trigger: "submit-message" }).success).toBe(true);
    expect(uiChatRequestSchema.safeParse({ id: "chat-1", messages, trigger: "submit-message", messageId: "m0" }).success).toBe(true);
    expect(uiChatRequestSchema.safeParse({ id: "chat-1", messages, trigger: "submit-message", model: "x" }).success).toBe(false);
    expect(uiChatRequestSchema.safeParse({ id: "chat-1", messages, trigger: "resume-stream" }).success).toBe(false);
    expect(uiChatRequestSchema.safeParse({ id: "chat-1", messages: [], trigger: "submit-message" }).success).toBe(false);
    expect(
      uiChatRequestSchema.safeParse({ id: "chat-1", messages: [{ id: "m1", role: "tool", parts: [] }], trigger: "submit-message" }).success,
    ).toBe(false);
  });

  it("reads an approval response from a tool part", () => {
    const part = {
      type: "tool-deploy",
      toolCallId: "call-1",
      state: "approval-responded",
      input: { service: "api" },
      approval: { id: "a1", approved: true },
    };
    expect(uiToolApprovalResponsePartSchema.parse(part).approval).toEqual({ id: "a1", approved: true });
    expect(uiToolApprovalResponsePartSchema.safeParse({ ...part, type: "text" }).success).toBe(false);
    expect(uiToolApprovalResponsePartSchema.safeParse({ ...part, approval: { id: "a1" } }).success).toBe(false);
  });
});

describe("the OpenAPI document", () => {
  it("describes both compatibility routes with their bodies, the OpenAI one with OpenAI's errors", () => {
    const document = createOpenApiDocument();
    const paths = document.paths as Record<
      string,
      { post: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }
    >;
    const completions = paths["/v1/chat/completions"]?.post;
    expect(completions?.responses["200"]?.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/ChatCompletion" });
    expect(completions?.responses["404"]?.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/OpenAiErrorBody" });
    expect(paths["/v1/sessions/{sessionId}/chat"]?.post.responses["404"]?.content["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/ErrorBody",
    });
    const schemas = (document.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
    // The OpenAI body is open, useChat's is closed.
    expect(schemas.ChatCompletionRequest?.additionalProperties).not.toBe(false);
    expect(schemas.UiChatRequest?.additionalProperties).toBe(false);
  });
});
