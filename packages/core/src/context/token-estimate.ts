import type { LlmMessage, LlmRequest, LlmToolSpec, Message, MessagePart } from "@lash/protocol";

/**
 * The token estimator of context management. It never calls a tokenizer: counting real tokens
 * would tie core to every vendor's vocabulary and cost more than the prompt preparation it guards.
 * Instead it counts characters and errs on the large side:
 *
 * - text of every kind (user text, prose, tool results, runtime notes, tool-call arguments,
 *   reasoning that is sent back): characters ÷ `CHARACTERS_PER_TOKEN` (4), rounded up;
 * - `MESSAGE_OVERHEAD_TOKENS` (4) per message, for the role and the framing providers add;
 * - `IMAGE_TOKENS` (1,600) per image, the most a provider charges for one image at its default
 *   resolution (Anthropic: about 1,600 for a 1.15-megapixel image; OpenAI: 765 to 1,105);
 * - per tool spec, its name, description and JSON Schema as characters ÷ 4, plus the per-message
 *   overhead.
 *
 * The runtime then calibrates these figures with what the provider reported for the previous
 * model call (see `managed-llm-call.ts`), so a tokenizer that counts more than one token per four
 * characters is accounted for after the first call.
 */
export const CHARACTERS_PER_TOKEN = 4;
/** Tokens added for each message (role and framing). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens counted for each image. */
export const IMAGE_TOKENS = 1_600;

/** Tokens of a text: characters ÷ 4, rounded up. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

/** Tokens of one message part as a provider receives it (display-only reasoning is never sent). */
export function estimatePartTokens(part: MessagePart): number {
  switch (part.kind) {
    case "text":
    case "prose":
    case "tool_result":
    case "output":
    case "error":
      return estimateTextTokens(part.content);
    case "tool_call":
      return estimateTextTokens(part.toolName) + estimateTextTokens(part.inputJson) + MESSAGE_OVERHEAD_TOKENS;
    case "image":
      return IMAGE_TOKENS;
    case "reasoning":
      return part.replay === undefined ? 0 : estimateTextTokens(part.content) + estimateTextTokens(part.replay.encryptedContent ?? "");
  }
}

/**
 * Tokens of a message: its parts plus the per-message overhead. Not cached: adding up a message's
 * part lengths costs less than looking the message up in a weak map, and a cache keyed by every
 * message a server holds would grow the garbage collector's work with them.
 */
export function estimateMessageTokens(message: Message): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const part of message.parts) tokens += estimatePartTokens(part);
  return tokens;
}

/** Tokens of a list of messages. */
export function estimateMessagesTokens(messages: readonly Message[]): number {
  let tokens = 0;
  for (const message of messages) tokens += estimateMessageTokens(message);
  return tokens;
}

const toolSpecEstimates = new WeakMap<LlmToolSpec, number>();

/** Tokens of a tool spec: name, description and JSON Schema (cached per spec object). */
export function estimateToolSpecTokens(spec: LlmToolSpec): number {
  const cached = toolSpecEstimates.get(spec);
  if (cached !== undefined) return cached;
  const tokens =
    MESSAGE_OVERHEAD_TOKENS +
    estimateTextTokens(spec.name) +
    estimateTextTokens(spec.description) +
    estimateTextTokens(JSON.stringify(spec.inputSchema));
  toolSpecEstimates.set(spec, tokens);
  return tokens;
}

function estimateLlmMessageTokens(message: LlmMessage): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const block of message.blocks) {
    switch (block.type) {
      case "text":
      case "reasoning":
      case "tool_result":
        tokens += estimateTextTokens(block.type === "tool_result" ? block.content : block.text);
        break;
      case "tool_call":
        tokens += estimateTextTokens(block.toolName) + estimateTextTokens(block.inputJson) + MESSAGE_OVERHEAD_TOKENS;
        break;
      case "image":
        tokens += IMAGE_TOKENS;
        break;
    }
  }
  return tokens;
}

/**
 * Tokens of what a request sends besides the conversation: the system prompt (the request's first
 * message when it is a system message that `conversationHead` says is not part of the conversation)
 * and the tool specs.
 */
export function estimateRequestOverheadTokens(request: LlmRequest, conversationHead: number): number {
  let tokens = 0;
  for (let index = 0; index < conversationHead; index += 1) {
    const message = request.messages[index];
    if (message) tokens += estimateLlmMessageTokens(message);
  }
  for (const spec of request.tools) tokens += estimateToolSpecTokens(spec);
  return tokens;
}

/** Tokens of a whole request, as the estimator counts them (tests and strict models use it). */
export function estimateRequestTokens(request: LlmRequest): number {
  let tokens = 0;
  for (const message of request.messages) tokens += estimateLlmMessageTokens(message);
  for (const spec of request.tools) tokens += estimateToolSpecTokens(spec);
  return tokens;
}
