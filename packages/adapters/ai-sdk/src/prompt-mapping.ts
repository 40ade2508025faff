import type { LlmAttachment, LlmBlock, LlmMessage } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "@lash/provider-utils";
import type {
  AiSdkFilePart,
  AiSdkFilePartV3,
  AiSdkFilePartV4,
  AiSdkMessage,
  AiSdkPrompt,
  AiSdkProviderOptionsRecord,
  AiSdkReasoningPart,
  AiSdkTextPart,
  AiSdkToolCallPart,
  AiSdkToolResultPart,
} from "./language-model-types.js";
import { reasoningProviderOptions, toolCallProviderOptions } from "./provider-metadata-replay.js";

type ContentRole = "user" | "assistant" | "tool";
type ContentPart<File extends AiSdkFilePart> = AiSdkTextPart | File | AiSdkReasoningPart | AiSdkToolCallPart | AiSdkToolResultPart;

/** How prompt blocks become AI SDK prompt parts. */
export interface PromptMappingOptions {
  /**
   * Provider options put on a text part that carries `cacheBreakpoint` (for example
   * `{ anthropic: { cacheControl: { type: "ephemeral" } } }`). The AI SDK prompt has no generic
   * cache marker, so breakpoints are dropped when this is absent.
   */
  readonly cacheBreakpointProviderOptions?: AiSdkProviderOptionsRecord;
}

/** Builds the file part of one generation from an attachment. */
type FilePartOf<File extends AiSdkFilePart> = (attachment: LlmAttachment) => File;

/** `"v3"` file parts carry the bytes as their `data`. */
const filePartV3: FilePartOf<AiSdkFilePartV3> = (attachment) => ({ type: "file", mediaType: attachment.mediaType, data: attachment.data });

/** `"v4"` file parts tag their data: `{ type: "data", data: bytes }` (a URL or a provider reference are the other kinds). */
const filePartV4: FilePartOf<AiSdkFilePartV4> = (attachment) => ({
  type: "file",
  mediaType: attachment.mediaType,
  data: { type: "data", data: attachment.data },
});

function invalidRequest(message: string): ProviderCallError {
  return new ProviderCallError(classifyProviderFailure({ kind: "validation", code: "invalid_request", message, retryable: false }));
}

/**
 * A tool call's arguments as the prompt wants them: a JSON value. Arguments the model produced
 * as invalid JSON are sent back as the raw string, which is what the model wrote.
 */
function parseToolInput(inputJson: string): unknown {
  try {
    return JSON.parse(inputJson) as unknown;
  } catch {
    return inputJson;
  }
}

function withProviderOptions<Part extends object>(part: Part, providerOptions: AiSdkProviderOptionsRecord | undefined): Part {
  return providerOptions === undefined ? part : { ...part, providerOptions };
}

/**
 * Maps blocks to prompt parts and groups them into prompt messages, keeping the blocks' order. Only
 * file parts differ between the generations: `filePart` builds them.
 */
class PromptBuilder<File extends AiSdkFilePart> {
  readonly prompt: AiSdkPrompt<File> = [];
  /** Tool names by call id: AI SDK tool results must name their tool, lash's may not. */
  readonly #toolNames = new Map<string, string>();
  readonly #attachments: readonly LlmAttachment[];
  readonly #options: PromptMappingOptions;
  readonly #filePart: FilePartOf<File>;
  /** Set by the first user or assistant message: system messages after it are not leading ones. */
  #conversationStarted = false;

  constructor(attachments: readonly LlmAttachment[], options: PromptMappingOptions, filePart: FilePartOf<File>) {
    this.#attachments = attachments;
    this.#options = options;
    this.#filePart = filePart;
  }

  #text(block: Extract<LlmBlock, { type: "text" }>): AiSdkTextPart {
    const part: AiSdkTextPart = { type: "text", text: block.text };
    return block.cacheBreakpoint === true ? withProviderOptions(part, this.#options.cacheBreakpointProviderOptions) : part;
  }

  #file(block: Extract<LlmBlock, { type: "image" }>): File {
    const attachment = this.#attachments[block.attachmentIndex];
    if (attachment === undefined) {
      throw invalidRequest(
        `image block points at attachment ${block.attachmentIndex}, but the request has ${this.#attachments.length} attachment(s)`,
      );
    }
    return this.#filePart(attachment);
  }

  #toolResult(block: Extract<LlmBlock, { type: "tool_result" }>): AiSdkToolResultPart {
    return {
      type: "tool-result",
      toolCallId: block.callId,
      toolName: block.toolName ?? this.#toolNames.get(block.callId) ?? "",
      output: { type: "text", value: block.content },
    };
  }

  // The casts below pair a role with parts of that role: TypeScript cannot follow the pairing
  // through the union of prompt messages, and every call site passes a part its role allows.

  /**
   * Appends a part to the last message when that message has `role` and belongs to the current
   * lash message (it starts at `boundary`), or starts a new prompt message.
   */
  #push(boundary: number, role: ContentRole, part: ContentPart<File>): void {
    const last = this.prompt.length > boundary ? this.prompt.at(-1) : undefined;
    if (last !== undefined && last.role === role) {
      (last.content as Array<ContentPart<File>>).push(part);
      return;
    }
    this.prompt.push({ role, content: [part] } as AiSdkMessage<File>);
  }

  #system(message: LlmMessage): void {
    // An AI SDK system message is one string: its text blocks are joined the way a reader would read them.
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
    // Each lash message starts a new prompt message: consecutive messages of one role stay apart, as
    // they were in the conversation. Parts of one lash message are then grouped by prompt role.
    const boundary = this.prompt.length;
    const push = (role: ContentRole, part: ContentPart<File>): void => this.#push(boundary, role, part);
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
          // Tool results are user messages in lash and `tool` messages in the AI SDK.
          push("tool", this.#toolResult(block));
          break;
        case "tool_call": {
          this.#toolNames.set(block.callId, block.toolName);
          const part: AiSdkToolCallPart = {
            type: "tool-call",
            toolCallId: block.callId,
            toolName: block.toolName,
            input: parseToolInput(block.inputJson),
          };
          push("assistant", withProviderOptions(part, toolCallProviderOptions(block.replay)));
          break;
        }
        case "reasoning": {
          const part: AiSdkReasoningPart = { type: "reasoning", text: block.text };
          push("assistant", withProviderOptions(part, reasoningProviderOptions(block.replay)));
          break;
        }
      }
    }
  }
}

function promptFromMessages<File extends AiSdkFilePart>(
  messages: readonly LlmMessage[],
  attachments: readonly LlmAttachment[],
  options: PromptMappingOptions,
  filePart: FilePartOf<File>,
): AiSdkPrompt<File> {
  const builder = new PromptBuilder(attachments, options, filePart);
  for (const message of messages) builder.add(message);
  return builder.prompt;
}

/**
 * Maps lash messages to an AI SDK prompt, the same way for both generations:
 * - leading `system` messages become system messages (their text blocks joined by blank lines); a
 *   system message inside the conversation becomes a user message with its text, because several
 *   providers reject system messages there;
 * - `user` and `assistant` messages keep their role; text and image blocks (as file parts with the
 *   attachment's bytes and media type) stay in order;
 * - `tool_result` blocks become `tool` messages with text output, naming the tool from the block
 *   or from the call earlier in the conversation;
 * - `tool_call` and `reasoning` blocks become assistant parts carrying the provider metadata they
 *   were produced with (`providerOptions`), so the provider can replay them.
 *
 * This one builds a `"v3"` prompt, whose file parts carry the bytes as `data`.
 *
 * @throws ProviderCallError (`validation`) when an image block points at a missing attachment.
 */
export function promptV3FromMessages(
  messages: readonly LlmMessage[],
  attachments: readonly LlmAttachment[],
  options: PromptMappingOptions = {},
): AiSdkPrompt<AiSdkFilePartV3> {
  return promptFromMessages(messages, attachments, options, filePartV3);
}

/**
 * Maps lash messages to a `"v4"` prompt: as `promptV3FromMessages`, but file parts tag their data
 * (`{ type: "data", data: bytes }`).
 *
 * @throws ProviderCallError (`validation`) when an image block points at a missing attachment.
 */
export function promptV4FromMessages(
  messages: readonly LlmMessage[],
  attachments: readonly LlmAttachment[],
  options: PromptMappingOptions = {},
): AiSdkPrompt<AiSdkFilePartV4> {
  return promptFromMessages(messages, attachments, options, filePartV4);
}
