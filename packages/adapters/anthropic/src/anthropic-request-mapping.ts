import { transformJSONSchema } from "@anthropic-ai/sdk/lib/transform-json-schema";
import type {
  CacheControlEphemeral,
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice,
} from "@anthropic-ai/sdk/resources/messages";
import type { JsonObject, LlmAttachment, LlmBlock, LlmRequest } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "@lash/provider-utils";
import type { AnthropicCacheRetention } from "./anthropic-provider-options.js";

/** What the request mapping needs from the provider's options. */
export interface MessagesRequestSettings {
  readonly defaultModel: string | undefined;
  readonly maxOutputTokens: number;
  readonly thinkingBudgetTokens: number | undefined;
  readonly cacheRetention: AnthropicCacheRetention;
}

/** The Messages API accepts at most this many `cache_control` markers in one request. */
export const MOST_CACHE_BREAKPOINTS = 4;

const IMAGE_MEDIA_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
type ImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";

type Role = "user" | "assistant";

interface RoleContent {
  readonly role: Role;
  readonly blocks: ContentBlockParam[];
}

function invalidRequest(message: string): ProviderCallError {
  return new ProviderCallError(classifyProviderFailure({ kind: "validation", code: "invalid_request", message, retryable: false }));
}

/**
 * Tool-use ids must match `^[a-zA-Z0-9_-]+$`. Ids made by another provider earlier in the session
 * may not; the same replacement is applied to calls and results, so pairs still match.
 */
export function anthropicToolUseId(callId: string): string {
  const replaced = callId.replace(/[^a-zA-Z0-9_-]/g, "_");
  return replaced === "" ? "tool_call" : replaced;
}

/** The arguments of a replayed tool call: the API wants an object, the history holds a string. */
function toolInput(inputJson: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(inputJson);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Arguments the model once produced as invalid JSON: the tool result already told it so.
  }
  return {};
}

function base64Of(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

function attachmentBlock(attachments: readonly LlmAttachment[], index: number): ContentBlockParam {
  const attachment = attachments[index];
  if (attachment === undefined)
    throw invalidRequest(`image block refers to attachment ${index}, but the request has ${attachments.length}`);
  const mediaType = attachment.mediaType.toLowerCase();
  if (IMAGE_MEDIA_TYPES.has(mediaType)) {
    return { type: "image", source: { type: "base64", media_type: mediaType as ImageMediaType, data: base64Of(attachment.data) } };
  }
  if (mediaType === "application/pdf") {
    return { type: "document", source: { type: "base64", media_type: "application/pdf", data: base64Of(attachment.data) } };
  }
  throw invalidRequest(
    `attachment ${index} has media type ${JSON.stringify(attachment.mediaType)}, which the Messages API does not accept`,
  );
}

/**
 * A reasoning block is replayed only with what Anthropic needs to verify it: a signed `thinking`
 * block, or a `redacted_thinking` block with its opaque data. Reasoning from other providers (or
 * display-only reasoning) has neither and is left out.
 */
function reasoningBlock(block: Extract<LlmBlock, { type: "reasoning" }>): ContentBlockParam | undefined {
  const replay = block.replay;
  if (replay === undefined) return undefined;
  if (replay.redacted) {
    return replay.encryptedContent === undefined || replay.encryptedContent === ""
      ? undefined
      : { type: "redacted_thinking", data: replay.encryptedContent };
  }
  if (replay.signature === undefined || replay.signature === "") return undefined;
  return { type: "thinking", thinking: block.text, signature: replay.signature };
}

/** Text blocks marked `cacheBreakpoint`, in prompt order (only text blocks carry the flag). */
type CacheMarks = TextBlockParam[];

/**
 * Maps one block to its role and content block. Text and images keep the message's role; tool
 * calls and reasoning belong to the assistant, tool results to the user (the API's rule).
 */
function mapBlock(
  block: LlmBlock,
  role: Role,
  attachments: readonly LlmAttachment[],
  marks: CacheMarks,
): { role: Role; block: ContentBlockParam } | undefined {
  switch (block.type) {
    case "text": {
      // The API rejects empty and whitespace-only text blocks.
      if (block.text.trim() === "") return undefined;
      const text: TextBlockParam = { type: "text", text: block.text };
      if (block.cacheBreakpoint === true) marks.push(text);
      return { role, block: text };
    }
    case "image":
      // Assistant messages cannot hold images; an image is always user content.
      return { role: "user", block: attachmentBlock(attachments, block.attachmentIndex) };
    case "tool_call":
      return {
        role: "assistant",
        block: { type: "tool_use", id: anthropicToolUseId(block.callId), name: block.toolName, input: toolInput(block.inputJson) },
      };
    case "tool_result":
      return { role: "user", block: { type: "tool_result", tool_use_id: anthropicToolUseId(block.callId), content: block.content } };
    case "reasoning": {
      const mapped = reasoningBlock(block);
      return mapped === undefined ? undefined : { role: "assistant", block: mapped };
    }
  }
}

/** Tool results must open the user turn that answers a tool use; other content may follow them. */
function toolResultsFirst(blocks: ContentBlockParam[]): ContentBlockParam[] {
  const results = blocks.filter((block) => block.type === "tool_result");
  if (results.length === 0 || results.length === blocks.length) return blocks;
  return [...results, ...blocks.filter((block) => block.type !== "tool_result")];
}

interface ConversationMapping {
  readonly system: TextBlockParam[];
  readonly messages: MessageParam[];
}

/**
 * The leading system messages become the top-level `system`; a system message later in the
 * conversation (a runtime note) stays where it is, as user text, so the cached system prefix does
 * not change under it. Consecutive blocks of one role merge into one turn.
 */
function mapConversation(request: LlmRequest, marks: CacheMarks): ConversationMapping {
  const system: TextBlockParam[] = [];
  const turns: RoleContent[] = [];
  let leadingSystem = true;
  for (const message of request.messages) {
    if (message.role === "system" && leadingSystem) {
      for (const block of message.blocks) {
        if (block.type !== "text" || block.text.trim() === "") continue;
        const text: TextBlockParam = { type: "text", text: block.text };
        if (block.cacheBreakpoint === true) marks.push(text);
        system.push(text);
      }
      continue;
    }
    leadingSystem = false;
    const role: Role = message.role === "assistant" ? "assistant" : "user";
    for (const block of message.blocks) {
      const mapped = mapBlock(block, role, request.attachments, marks);
      if (mapped === undefined) continue;
      const last = turns.at(-1);
      if (last?.role === mapped.role) last.blocks.push(mapped.block);
      else turns.push({ role: mapped.role, blocks: [mapped.block] });
    }
  }
  const messages = turns.map(
    (turn): MessageParam =>
      turn.role === "user" ? { role: "user", content: toolResultsFirst(turn.blocks) } : { role: "assistant", content: turn.blocks },
  );
  return { system, messages };
}

function mapTools(request: LlmRequest): Tool[] {
  return request.tools.map((tool) => {
    const mapped: Tool = {
      name: tool.name,
      // The API requires an object schema; a schema that names no type is taken as one.
      input_schema: { type: "object", ...tool.inputSchema } as Tool.InputSchema,
    };
    if (tool.description !== "") mapped.description = tool.description;
    return mapped;
  });
}

function mapToolChoice(choice: LlmRequest["toolChoice"]): ToolChoice {
  switch (choice) {
    case "auto":
      return { type: "auto" };
    case "required":
      return { type: "any" };
    case "none":
      return { type: "none" };
  }
}

function cacheControl(retention: AnthropicCacheRetention): CacheControlEphemeral | undefined {
  switch (retention) {
    case "none":
      return undefined;
    case "short":
      return { type: "ephemeral" };
    case "long":
      return { type: "ephemeral", ttl: "1h" };
  }
}

/**
 * Places the cache breakpoints: the last tool (the tool list is the start of the prompt), the last
 * system block, and the explicit breakpoints of the conversation. The API allows four; when there
 * are more, the latest explicit ones are kept, since each covers everything before it.
 */
function applyCacheControl(retention: AnthropicCacheRetention, tools: Tool[], system: TextBlockParam[], marks: CacheMarks): void {
  const control = cacheControl(retention);
  if (control === undefined) return;
  const fixed: Array<{ cache_control?: CacheControlEphemeral | null }> = [];
  const lastTool = tools.at(-1);
  if (lastTool !== undefined) fixed.push(lastTool);
  const lastSystem = system.at(-1);
  if (lastSystem !== undefined) fixed.push(lastSystem);
  const explicit = marks.filter((block) => block !== lastSystem);
  const room = Math.max(0, MOST_CACHE_BREAKPOINTS - fixed.length);
  const kept = room === 0 ? [] : explicit.slice(-room);
  for (const target of [...fixed, ...kept]) target.cache_control = { ...control };
}

/**
 * The schema of `output_config.format`. The Messages API accepts a subset of JSON Schema for
 * structured outputs (every object closed with `additionalProperties: false`; no numeric, length or
 * most array constraints) and rejects a request whose schema steps outside it. The SDK's own
 * transform (the one its `jsonSchemaOutputFormat` and `zodOutputFormat` helpers apply) closes the
 * objects and moves the constraints it cannot send into descriptions; that loses nothing, since
 * the runtime validates the answer against the full schema. A schema the transform cannot read (a
 * node with no type, such as `z.unknown()`) is sent as it is, for the API to judge.
 */
function outputFormatSchema(schema: JsonObject): Record<string, unknown> {
  try {
    return transformJSONSchema(schema);
  } catch {
    return schema;
  }
}

/**
 * Builds the Messages API request body for one call (always streaming).
 *
 * @throws ProviderCallError (`validation`, not retryable) when the request cannot be expressed:
 *   no model, an image block without its attachment, an attachment type the API does not accept.
 */
export function buildMessagesRequest(request: LlmRequest, settings: MessagesRequestSettings): MessageCreateParamsStreaming {
  const model = request.model !== "" ? request.model : settings.defaultModel;
  if (model === undefined || model === "") throw invalidRequest("the request names no model and the provider has no defaultModel");
  const marks: CacheMarks = [];
  const { system, messages } = mapConversation(request, marks);
  const tools = mapTools(request);
  applyCacheControl(settings.cacheRetention, tools, system, marks);

  const body: MessageCreateParamsStreaming = { model, max_tokens: settings.maxOutputTokens, messages, stream: true };
  if (system.length > 0) body.system = system;
  if (tools.length > 0) {
    body.tools = tools;
    body.tool_choice = mapToolChoice(request.toolChoice);
  }
  if (settings.thinkingBudgetTokens !== undefined) {
    body.thinking = { type: "enabled", budget_tokens: settings.thinkingBudgetTokens };
  }
  // Structured outputs: `output_config.format` (generally available; the beta's `output_format` is
  // its former name). It has no name and no strict switch: decoding always follows the schema.
  // `json_object` has no Messages equivalent (structured output always needs a schema): left out.
  if (request.outputSpec?.type === "json_schema") {
    body.output_config = { format: { type: "json_schema", schema: outputFormatSchema(request.outputSpec.schema) } };
  }
  return body;
}
