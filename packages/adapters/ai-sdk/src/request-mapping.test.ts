import { ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { finishPart, type Generation, lashRequest, runStream, streamingModel, streamingModelV3, thrownBy } from "../test/model-fixtures.js";
import type { AiSdkProviderOptions } from "./create-ai-sdk-provider.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";
import { REASONING_METADATA_PREFIX } from "./provider-metadata-replay.js";

const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The call options a model of `generation` ("v4" unless named) received for `request`. */
async function callOptionsFor(request: ReturnType<typeof lashRequest>, options: AiSdkProviderOptions = {}, generation: Generation = "v4") {
  const model = generation === "v4" ? streamingModel([[finishPart()]]) : streamingModelV3([[finishPart()]]);
  await runStream(createAiSdkProvider(model, options), request);
  const [call] = model.doStreamCalls;
  if (call === undefined) throw new Error("the model was not called");
  return call;
}

/** How each generation's prompt carries an attachment's bytes. */
const FILE_PART: Readonly<Record<Generation, (mediaType: string, bytes: Uint8Array) => unknown>> = {
  v4: (mediaType, bytes) => ({ type: "file", mediaType, data: { type: "data", data: bytes } }),
  v3: (mediaType, bytes) => ({ type: "file", mediaType, data: bytes }),
};

describe("LlmRequest → call options", () => {
  it.each<Generation>(["v4", "v3"])(
    "maps a whole conversation for a %s model: system, user text and images, assistant calls and reasoning, tool results",
    async (generation) => {
      const file = FILE_PART[generation];
      const reasoningMetadata = { openai: { itemId: "rs_1", reasoningEncryptedContent: "enc" } };
      const call = await callOptionsFor(
        lashRequest({
          messages: [
            {
              role: "system",
              blocks: [
                { type: "text", text: "Be brief." },
                { type: "text", text: "Use tools." },
              ],
            },
            {
              role: "user",
              blocks: [
                { type: "text", text: "What is in this image?" },
                { type: "image", attachmentIndex: 0 },
              ],
            },
            {
              role: "assistant",
              blocks: [
                {
                  type: "reasoning",
                  text: "Look first.",
                  replay: {
                    itemId: "rs_1",
                    encryptedContent: `${REASONING_METADATA_PREFIX}${JSON.stringify(reasoningMetadata)}`,
                    redacted: false,
                    summary: [],
                  },
                },
                { type: "text", text: "Let me check." },
                {
                  type: "tool_call",
                  callId: "call-1",
                  toolName: "describe",
                  inputJson: '{"detail":"high"}',
                  replay: { opaque: { aiSdkProviderMetadata: { google: { thoughtSignature: "sig" } } } },
                },
                { type: "tool_call", callId: "call-2", toolName: "broken", inputJson: "{not json" },
              ],
            },
            {
              role: "user",
              blocks: [
                { type: "tool_result", callId: "call-1", content: "a cat", toolName: "describe" },
                { type: "tool_result", callId: "call-2", content: "invalid arguments" },
                { type: "image", attachmentIndex: 1 },
              ],
            },
            { role: "system", blocks: [{ type: "text", text: "Runtime note:\nbe concise" }] },
          ],
          attachments: [
            { mediaType: "image/png", data: PNG_BYTES },
            { mediaType: "image/jpeg", data: new Uint8Array([0xff, 0xd8, 0xff]) },
          ],
        }),
        {},
        generation,
      );
      expect(call.prompt).toEqual([
        { role: "system", content: "Be brief.\n\nUse tools." },
        {
          role: "user",
          content: [{ type: "text", text: "What is in this image?" }, file("image/png", PNG_BYTES)],
        },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Look first.", providerOptions: reasoningMetadata },
            { type: "text", text: "Let me check." },
            {
              type: "tool-call",
              toolCallId: "call-1",
              toolName: "describe",
              input: { detail: "high" },
              providerOptions: { google: { thoughtSignature: "sig" } },
            },
            { type: "tool-call", toolCallId: "call-2", toolName: "broken", input: "{not json" },
          ],
        },
        {
          role: "tool",
          content: [
            { type: "tool-result", toolCallId: "call-1", toolName: "describe", output: { type: "text", value: "a cat" } },
            // The name comes from the call earlier in the conversation.
            { type: "tool-result", toolCallId: "call-2", toolName: "broken", output: { type: "text", value: "invalid arguments" } },
          ],
        },
        { role: "user", content: [file("image/jpeg", new Uint8Array([0xff, 0xd8, 0xff]))] },
        // A system message inside the conversation is sent as user text (Anthropic rejects it otherwise).
        { role: "user", content: [{ type: "text", text: "Runtime note:\nbe concise" }] },
      ]);
    },
  );

  it("keeps consecutive messages of one role apart", async () => {
    const call = await callOptionsFor(
      lashRequest({
        messages: [
          { role: "user", blocks: [{ type: "text", text: "one" }] },
          { role: "user", blocks: [{ type: "text", text: "two" }] },
        ],
      }),
    );
    expect(call.prompt).toEqual([
      { role: "user", content: [{ type: "text", text: "one" }] },
      { role: "user", content: [{ type: "text", text: "two" }] },
    ]);
  });

  it("sends replay data of another adapter as plain reasoning (it means nothing to this model)", async () => {
    const call = await callOptionsFor(
      lashRequest({
        messages: [
          {
            role: "assistant",
            blocks: [{ type: "reasoning", text: "x", replay: { encryptedContent: "gAAAA-foreign", redacted: false, summary: [] } }],
          },
        ],
      }),
    );
    expect(call.prompt).toEqual([{ role: "assistant", content: [{ type: "reasoning", text: "x" }] }]);
  });

  it("maps tools, tool choice, output spec, output limit, settings and provider options", async () => {
    const inputSchema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
    const call = await callOptionsFor(
      lashRequest({
        tools: [{ name: "add", description: "Add.", inputSchema }],
        toolChoice: "required",
        outputSpec: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
      }),
      {
        maxOutputTokens: 256,
        settings: { temperature: 0.2, seed: 7, headers: { "x-trace": "1" } },
        providerOptions: { openai: { reasoningEffort: "low" } },
      },
    );
    expect(call.tools).toEqual([{ type: "function", name: "add", description: "Add.", inputSchema }]);
    expect(call.toolChoice).toEqual({ type: "required" });
    expect(call.responseFormat).toEqual({ type: "json", name: "answer", schema: { type: "object" } });
    expect(call.maxOutputTokens).toBe(256);
    expect(call.temperature).toBe(0.2);
    expect(call.seed).toBe(7);
    expect(call.headers).toEqual({ "x-trace": "1" });
    expect(call.providerOptions).toEqual({ openai: { reasoningEffort: "low" } });
    expect(call.abortSignal).toBeInstanceOf(AbortSignal);
    expect(call.includeRawChunks).toBeUndefined();
  });

  it("omits tools and tool choice when there are no tools, and maps a JSON-object output spec", async () => {
    const call = await callOptionsFor(lashRequest({ toolChoice: "none", outputSpec: { type: "json_object" } }));
    expect(call.tools).toBeUndefined();
    expect(call.toolChoice).toBeUndefined();
    expect(call.responseFormat).toEqual({ type: "json" });
  });

  it("computes provider options per request when given a function", async () => {
    const call = await callOptionsFor(lashRequest({ sessionId: "session-9" }), {
      providerOptions: (request) => ({ openai: { user: request.sessionId ?? "none" } }),
    });
    expect(call.providerOptions).toEqual({ openai: { user: "session-9" } });
  });

  it("puts the cache-breakpoint provider options on marked text blocks only", async () => {
    const cacheControl = { anthropic: { cacheControl: { type: "ephemeral" } } };
    const call = await callOptionsFor(
      lashRequest({
        messages: [
          {
            role: "user",
            blocks: [
              { type: "text", text: "long context", cacheBreakpoint: true },
              { type: "text", text: "question" },
            ],
          },
        ],
      }),
      { cacheBreakpointProviderOptions: cacheControl },
    );
    expect(call.prompt).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "long context", providerOptions: cacheControl },
          { type: "text", text: "question" },
        ],
      },
    ]);
  });

  it("fails as a validation failure when an image points at a missing attachment", async () => {
    const model = streamingModel([]);
    const error = await thrownBy(() =>
      runStream(createAiSdkProvider(model), lashRequest({ messages: [{ role: "user", blocks: [{ type: "image", attachmentIndex: 3 }] }] })),
    );
    expect(ProviderCallError.isInstance(error)).toBe(true);
    expect((error as ProviderCallError).failure).toMatchObject({ kind: "validation", retryable: false });
    expect(model.doStreamCalls).toHaveLength(0);
  });
});
