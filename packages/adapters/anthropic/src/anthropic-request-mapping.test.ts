import type { LlmRequest } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { anthropicToolUseId, buildMessagesRequest, type MessagesRequestSettings } from "./anthropic-request-mapping.js";

const settings: MessagesRequestSettings = {
  defaultModel: "claude-default",
  maxOutputTokens: 1000,
  thinkingBudgetTokens: undefined,
  cacheRetention: "none",
};

function request(overrides: Partial<LlmRequest>): LlmRequest {
  return { model: "claude-test", messages: [], attachments: [], tools: [], toolChoice: "auto", ...overrides };
}

const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("buildMessagesRequest", () => {
  it("puts the leading system messages in `system` and keeps later runtime notes in place as user text", () => {
    const body = buildMessagesRequest(
      request({
        messages: [
          {
            role: "system",
            blocks: [
              { type: "text", text: "Be brief." },
              { type: "text", text: "  " },
            ],
          },
          { role: "user", blocks: [{ type: "text", text: "Hi" }] },
          { role: "assistant", blocks: [{ type: "text", text: "Hello" }] },
          { role: "system", blocks: [{ type: "text", text: "Runtime note:\nlimit reached" }] },
        ],
      }),
      settings,
    );
    expect(body.system).toEqual([{ type: "text", text: "Be brief." }]);
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Hi" }] },
      { role: "assistant", content: [{ type: "text", text: "Hello" }] },
      { role: "user", content: [{ type: "text", text: "Runtime note:\nlimit reached" }] },
    ]);
    expect(body).toMatchObject({ model: "claude-test", max_tokens: 1000, stream: true });
    expect(body.tools).toBeUndefined();
    expect(body.tool_choice).toBeUndefined();
    expect(body.thinking).toBeUndefined();
  });

  it("merges consecutive messages of one role and opens a user turn with its tool results", () => {
    const body = buildMessagesRequest(
      request({
        messages: [
          { role: "user", blocks: [{ type: "text", text: "one" }] },
          { role: "user", blocks: [{ type: "text", text: "two" }] },
          { role: "assistant", blocks: [{ type: "tool_call", callId: "call:1", toolName: "add", inputJson: '{"a":1}' }] },
          { role: "user", blocks: [{ type: "text", text: "also this" }] },
          { role: "user", blocks: [{ type: "tool_result", callId: "call:1", content: "2", toolName: "add" }] },
        ],
      }),
      settings,
    );
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "one" },
          { type: "text", text: "two" },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "add", input: { a: 1 } }] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "2" },
          { type: "text", text: "also this" },
        ],
      },
    ]);
  });

  it("replays signed thinking and redacted thinking, and leaves out reasoning Anthropic cannot verify", () => {
    const body = buildMessagesRequest(
      request({
        messages: [
          { role: "user", blocks: [{ type: "text", text: "q" }] },
          {
            role: "assistant",
            blocks: [
              { type: "reasoning", text: "Let me think.", replay: { signature: "sig-1", redacted: false, summary: [] } },
              { type: "reasoning", text: "", replay: { encryptedContent: "opaque-data", redacted: true, summary: [] } },
              {
                type: "reasoning",
                text: "from another provider",
                replay: { itemId: "rs_1", encryptedContent: "enc", redacted: false, summary: [] },
              },
              { type: "reasoning", text: "display only" },
              { type: "tool_call", callId: "toolu_1", toolName: "look", inputJson: "not json" },
            ],
          },
        ],
      }),
      settings,
    );
    expect(body.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "thinking", thinking: "Let me think.", signature: "sig-1" },
        { type: "redacted_thinking", data: "opaque-data" },
        { type: "tool_use", id: "toolu_1", name: "look", input: {} },
      ],
    });
  });

  it("sends images and PDFs as base64 sources and rejects what the API cannot take", () => {
    const body = buildMessagesRequest(
      request({
        attachments: [
          { mediaType: "image/png", data: pngBytes },
          { mediaType: "application/pdf", data: new Uint8Array([0x25, 0x50, 0x44, 0x46]) },
        ],
        messages: [
          {
            role: "user",
            blocks: [
              { type: "text", text: "look" },
              { type: "image", attachmentIndex: 0 },
              { type: "image", attachmentIndex: 1 },
            ],
          },
        ],
      }),
      settings,
    );
    expect(body.messages[0]?.content).toEqual([
      { type: "text", text: "look" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: Buffer.from(pngBytes).toString("base64") } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERg==" } },
    ]);

    const missing = (): unknown =>
      buildMessagesRequest(request({ messages: [{ role: "user", blocks: [{ type: "image", attachmentIndex: 3 }] }] }), settings);
    expect(missing).toThrow(/attachment 3/);
    const unsupported = (): unknown =>
      buildMessagesRequest(
        request({
          attachments: [{ mediaType: "image/bmp", data: pngBytes }],
          messages: [{ role: "user", blocks: [{ type: "image", attachmentIndex: 0 }] }],
        }),
        settings,
      );
    let thrown: unknown;
    try {
      unsupported();
    } catch (error) {
      thrown = error;
    }
    expect(ProviderCallError.isInstance(thrown)).toBe(true);
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "validation", retryable: false });
  });

  it("maps tools, tool choice, thinking and a JSON-schema output spec", () => {
    const tools = [{ name: "add", description: "Add.", inputSchema: { properties: { a: { type: "number" } } } }];
    const body = buildMessagesRequest(
      request({
        tools,
        toolChoice: "required",
        messages: [{ role: "user", blocks: [{ type: "text", text: "x" }] }],
        outputSpec: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
      }),
      { ...settings, thinkingBudgetTokens: 2048 },
    );
    expect(body.tools).toEqual([
      { name: "add", description: "Add.", input_schema: { type: "object", properties: { a: { type: "number" } } } },
    ]);
    expect(body.tool_choice).toEqual({ type: "any" });
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    // The SDK's structured-output transform closes every object (the API requires it).
    expect(body.output_config).toEqual({
      format: { type: "json_schema", schema: { type: "object", properties: {}, additionalProperties: false } },
    });

    expect(buildMessagesRequest(request({ tools, toolChoice: "none" }), settings).tool_choice).toEqual({ type: "none" });
    expect(buildMessagesRequest(request({ tools, toolChoice: "auto" }), settings).tool_choice).toEqual({ type: "auto" });
    expect(buildMessagesRequest(request({ outputSpec: { type: "json_object" } }), settings).output_config).toBeUndefined();
  });

  it("sends an output schema in the subset the Messages API accepts, and one the transform cannot read as it is", () => {
    const schema = {
      type: "object",
      properties: {
        city: { type: "string", minLength: 1 },
        celsius: { type: "number", minimum: -90 },
        tags: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
      },
      required: ["city", "celsius"],
    };
    const body = buildMessagesRequest(request({ outputSpec: { type: "json_schema", name: "forecast", schema, strict: false } }), settings);
    expect(body.output_config?.format).toEqual({
      type: "json_schema",
      schema: {
        type: "object",
        properties: {
          // Constraints the API rejects become descriptions: the runtime still validates them.
          city: { type: "string", description: "{minLength: 1}" },
          celsius: { type: "number", description: "{minimum: -90}" },
          tags: {
            type: "array",
            items: { type: "object", properties: { name: { type: "string" } }, additionalProperties: false },
          },
        },
        additionalProperties: false,
        required: ["city", "celsius"],
      },
    });
    // The caller's schema is not changed.
    expect(schema.properties.city).toEqual({ type: "string", minLength: 1 });

    const untyped = { type: "object", properties: { anything: {} } };
    const sentAsIs = buildMessagesRequest(
      request({ outputSpec: { type: "json_schema", name: "x", schema: untyped, strict: false } }),
      settings,
    );
    expect(sentAsIs.output_config?.format?.schema).toEqual(untyped);
  });

  it("uses the default model when the request names none, and fails without one", () => {
    expect(buildMessagesRequest(request({ model: "" }), settings).model).toBe("claude-default");
    expect(() => buildMessagesRequest(request({ model: "" }), { ...settings, defaultModel: undefined })).toThrow(/no model/);
  });

  describe("prompt caching", () => {
    const cached = request({
      tools: [
        { name: "a", description: "A", inputSchema: { type: "object" } },
        { name: "b", description: "B", inputSchema: { type: "object" } },
      ],
      messages: [
        {
          role: "system",
          blocks: [
            { type: "text", text: "first" },
            { type: "text", text: "second" },
          ],
        },
        { role: "user", blocks: [{ type: "text", text: "u1", cacheBreakpoint: true }] },
        { role: "assistant", blocks: [{ type: "text", text: "a1" }] },
        { role: "user", blocks: [{ type: "text", text: "u2", cacheBreakpoint: true }] },
        { role: "assistant", blocks: [{ type: "text", text: "a2" }] },
        { role: "user", blocks: [{ type: "text", text: "u3", cacheBreakpoint: true }] },
      ],
    });

    it("marks the last tool, the last system block and the latest breakpoints, four at most", () => {
      const body = buildMessagesRequest(cached, { ...settings, cacheRetention: "short" });
      const marked = JSON.stringify(body).match(/cache_control/g) ?? [];
      expect(marked).toHaveLength(4);
      expect(body.tools?.[0]).not.toHaveProperty("cache_control");
      expect(body.tools?.[1]).toMatchObject({ cache_control: { type: "ephemeral" } });
      expect(body.system).toEqual([
        { type: "text", text: "first" },
        { type: "text", text: "second", cache_control: { type: "ephemeral" } },
      ]);
      expect(body.messages[0]?.content).toEqual([{ type: "text", text: "u1" }]);
      expect(body.messages[2]?.content).toEqual([{ type: "text", text: "u2", cache_control: { type: "ephemeral" } }]);
      expect(body.messages[4]?.content).toEqual([{ type: "text", text: "u3", cache_control: { type: "ephemeral" } }]);
    });

    it("uses the one-hour TTL for long retention and sends no cache_control for none", () => {
      const long = buildMessagesRequest(cached, { ...settings, cacheRetention: "long" });
      expect(long.system?.[1]).toMatchObject({ cache_control: { type: "ephemeral", ttl: "1h" } });
      const none = buildMessagesRequest(cached, { ...settings, cacheRetention: "none" });
      expect(JSON.stringify(none)).not.toContain("cache_control");
    });
  });

  it("makes tool-use ids the API accepts, the same way for calls and results", () => {
    expect(anthropicToolUseId("toolu_01AbC-9")).toBe("toolu_01AbC-9");
    expect(anthropicToolUseId("call.1/x")).toBe("call_1_x");
    expect(anthropicToolUseId("")).toBe("tool_call");
  });
});
