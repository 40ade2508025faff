import type {
  LanguageModelV3FilePart,
  LanguageModelV3Message,
  LanguageModelV3Prompt,
  LanguageModelV3ReasoningPart,
  LanguageModelV3TextPart,
  LanguageModelV3ToolCallPart,
  LanguageModelV3ToolResultPart,
  SharedV3ProviderOptions,
} from "@ai-sdk/provider";
import type { LlmAttachment, LlmBlock, LlmMessage } from "@lash/protocol";
import { classifyProviderFailure, ProviderCallError } from "@lash/protocol";
import { reasoningProviderOptions, toolCallProviderOptions } from "./provider-metadata-replay.js";

type UserContent = Extract<LanguageModelV3Message, { role: "user" }>["content"][number];
type AssistantContent = Extract<LanguageModelV3Message, { role: "assistant" }>["content"][number];
type ContentRole = "user" | "assistant" | "tool";
type ContentPart = UserContent | AssistantContent | LanguageModelV3ToolResultPart;

/** How prompt blocks become V3 parts. */
export interface PromptMappingOptions {
  /**
   * Provider options put on a text part that carries `cacheBreakpoint` (for example
   * `{ anthropic: { cacheControl: { type: "ephemeral" } } }`). The V3 prompt has no generic cache
   * marker, so breakpoints are dropped when this is absent.
   */
  readonly cacheBreakpointProviderOptions?: SharedV3ProviderOptions;
}

function invalidRequest(message: string): ProviderCallError {
  return new ProviderCallError(classifyProviderFailure({ kind: "validation", code: "invalid_request", message, retryable: false }));
}

/**
 * A tool call's arguments as the V3 prompt wants them: a JSON value. Arguments the model produced
 * as invalid JSON are sent back as the raw string, which is what the model wrote.
 */
function parseToolInput(inputJson: string): unknown {
  try {
    return JSON.parse(inputJson) as unknown;
  } catch {
    return inputJson;
  }
}

function withProviderOptions<Part extends object>(part: Part, providerOptions: SharedV3ProviderOptions | undefined): Part {
  return providerOptions === undefined ? part : { ...part, providerOptions };
}

/** Maps blocks to V3 parts and groups them into V3 messages, keeping the blocks' order. */
class PromptBuilder {
  readonly prompt: LanguageModelV3Prompt = [];
  /** Tool names by call id: V3 tool results must name their tool, lash's may not. */
  readonly #toolNames = new Map<string, string>();
  readonly #attachments: readonly LlmAttachment[];
  readonly #options: PromptMappingOptions;
  /** Set by the first user or assistant message: system messages after it are not leading ones. */
  #conversationStarted = false;

  constructor(attachments: readonly LlmAttachment[], options: PromptMappingOptions) {
    this.#attachments = attachments;
    this.#options = options;
  }

  #text(block: Extract<LlmBlock, { type: "text" }>): LanguageModelV3TextPart {
    const part: LanguageModelV3TextPart = { type: "text", text: block.text };
    return block.cacheBreakpoint === true ? withProviderOptions(part, this.#options.cacheBreakpointProviderOptions) : part;
  }

  #file(block: Extract<LlmBlock, { type: "image" }>): LanguageModelV3FilePart {
    const attachment = this.#attachments[block.attachmentIndex];
    if (attachment === undefined) {
      throw invalidRequest(
        `image block points at attachment ${block.attachmentIndex}, but the request has ${this.#attachments.length} attachment(s)`,
      );
    }
    return { type: "file", mediaType: attachment.mediaType, data: attachment.data };
  }

  #toolResult(block: Extract<LlmBlock, { type: "tool_result" }>): LanguageModelV3ToolResultPart {
    return {
      type: "tool-result",
      toolCallId: block.callId,
      toolName: block.toolName ?? this.#toolNames.get(block.callId) ?? "",
      output: { type: "text", value: block.content },
    };
  }

  // The casts below pair a role with parts of that role: TypeScript cannot follow the pairing
  // through the union of V3 messages, and every call site passes a part its role allows.

  /**
   * Appends a part to the last message when that message has `role` and belongs to the current
   * lash message (it starts at `boundary`), or starts a new V3 message.
   */
  #push(boundary: number, role: ContentRole, part: ContentPart): void {
    const last = this.prompt.length > boundary ? this.prompt.at(-1) : undefined;
    if (last !== undefined && last.role === role) {
      (last.content as ContentPart[]).push(part);
      return;
    }
    this.prompt.push({ role, content: [part] } as LanguageModelV3Message);
  }

  #system(message: LlmMessage): void {
    // A V3 system message is one string: its text blocks are joined the way a reader would read them.
    const text = message.blocks
      .filter((block): block is Extract<LlmBlock, { type: "text" }> => block.type === "text")
      .map((block) => block.text)
      .join("\n\n");
    if (text.trim() !== "") this.prompt.push({ role: "system", content: text });
  }

  add(message: LlmMessage): void {
    if (message.role === "system" && !this.#conversationStarted) {
      this.#system(message);
      return;
    }
    this.#conversationStarted = true;
    // Each lash message starts a new V3 message: consecutive messages of one role stay apart, as
    // they were in the conversation. Parts of one lash message are then grouped by V3 role.
    const boundary = this.prompt.length;
    const push = (role: ContentRole, part: ContentPart): void => this.#push(boundary, role, part);
    // A system message inside the conversation (a runtime note) is sent as user text: several AI SDK
    // providers (Anthropic, Bedrock) reject system messages after the first user or assistant one.
    const contentRole = message.role === "system" ? "user" : message.role;
    for (const block of message.blocks) {
      switch (block.type) {
        case "text":
          push(contentRole, this.#text(block));
          break;
        case "image":
          push(contentRole, this.#file(block));
          break;
        case "tool_result":
          // Tool results are user messages in lash and `tool` messages in V3.
          push("tool", this.#toolResult(block));
          break;
        case "tool_call": {
          this.#toolNames.set(block.callId, block.toolName);
          const part: LanguageModelV3ToolCallPart = {
            type: "tool-call",
            toolCallId: block.callId,
            toolName: block.toolName,
            input: parseToolInput(block.inputJson),
          };
          push("assistant", withProviderOptions(part, toolCallProviderOptions(block.replay)));
          break;
        }
        case "reasoning": {
          const part: LanguageModelV3ReasoningPart = { type: "reasoning", text: block.text };
          push("assistant", withProviderOptions(part, reasoningProviderOptions(block.replay)));
          break;
        }
      }
    }
  }
}

/**
 * Maps lash messages to a V3 prompt:
 * - leading `system` messages become V3 system messages (their text blocks joined by blank
 *   lines); a system message inside the conversation becomes a user message with its text, because
 *   several providers reject system messages there;
 * - `user` and `assistant` messages keep their role; text and image blocks (as file parts with the
 *   attachment's bytes and media type) stay in order;
 * - `tool_result` blocks become `tool` messages with text output, naming the tool from the block
 *   or from the call earlier in the conversation;
 * - `tool_call` and `reasoning` blocks become assistant parts carrying the provider metadata they
 *   were produced with (`providerOptions`), so the provider can replay them.
 *
 * @throws ProviderCallError (`validation`) when an image block points at a missing attachment.
 */
export function promptFromMessages(
  messages: readonly LlmMessage[],
  attachments: readonly LlmAttachment[],
  options: PromptMappingOptions = {},
): LanguageModelV3Prompt {
  const builder = new PromptBuilder(attachments, options);
  for (const message of messages) builder.add(message);
  return builder.prompt;
}
