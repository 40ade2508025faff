// Models for the context-management tests: they answer from what the request holds (the scripted
// provider plays a fixed list, but when a compaction happens depends on the prompt's size).
import type { LlmRequest, LlmResponse, ModelProvider, ProviderCallOptions } from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError } from "@lash/protocol";

/** True for the summarizing request of a compaction (its system prompt is the compaction prompt). */
export function isCompactionRequest(request: LlmRequest): boolean {
  const system = request.messages[0];
  return system?.role === "system" && system.blocks.some((block) => block.type === "text" && block.text.startsWith("You are compacting"));
}

/**
 * Counts a request more strictly than the runtime's estimator does: 3.5 characters a token, 8
 * tokens a message and a block, 1,600 an image. A model that refuses past its window by this count
 * proves that the runtime keeps a margin, rather than matching its own arithmetic.
 */
export function strictRequestTokens(request: LlmRequest): number {
  let characters = 0;
  let tokens = 0;
  for (const message of request.messages) {
    tokens += 8;
    for (const block of message.blocks) {
      tokens += 8;
      if (block.type === "text" || block.type === "reasoning") characters += block.text.length;
      else if (block.type === "tool_result") characters += block.content.length;
      else if (block.type === "tool_call") characters += block.toolName.length + block.inputJson.length;
      else tokens += 1_600;
    }
  }
  for (const tool of request.tools) characters += tool.name.length + tool.description.length + JSON.stringify(tool.inputSchema).length;
  return tokens + Math.ceil(characters / 3.5);
}

/** The text of every tool result in `blocks` order, per message. */
function toolResults(request: LlmRequest): { readonly content: string; readonly messageIndex: number }[] {
  const results: { content: string; messageIndex: number }[] = [];
  request.messages.forEach((message, messageIndex) => {
    for (const block of message.blocks) if (block.type === "tool_result") results.push({ content: block.content, messageIndex });
  });
  return results;
}

/** What a `WindowedModel` answers to a request that fits. */
export type WindowedAnswer = (request: LlmRequest, call: number) => Partial<LlmResponse>;

/**
 * A model with a context window: a request past `window` tokens (by `strictRequestTokens`) fails
 * with `context_overflow`, as a real provider does; one within it is answered by `answer`, with the
 * prompt's strict count reported as the usage. It also checks, on every request, that the tool
 * results after the last assistant message (the ones the call answers) reach it unpruned.
 */
export class WindowedModel implements ModelProvider {
  readonly specificationVersion = MODEL_PROVIDER_SPECIFICATION_VERSION;
  readonly providerId = "windowed";
  readonly defaultModel = "windowed-model";
  readonly retryPolicy = { enabled: false, maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitterMs: 0, retryAfterCapMs: 0 };
  readonly requests: LlmRequest[] = [];
  overflows = 0;
  largestPrompt = 0;
  /** Requests whose open tool results reached the model pruned. */
  prunedOpenResults = 0;
  #calls = 0;

  constructor(
    readonly window: number,
    readonly answer: WindowedAnswer,
  ) {}

  async doComplete(request: LlmRequest, _options: ProviderCallOptions): Promise<LlmResponse> {
    this.#calls += 1;
    this.requests.push(request);
    const tokens = strictRequestTokens(request);
    if (tokens > this.window) {
      this.overflows += 1;
      throw new ProviderCallError({
        kind: "validation",
        message: `prompt is too long: ${tokens} tokens > ${this.window} maximum`,
        retryable: false,
        terminalReason: "context_overflow",
      });
    }
    this.largestPrompt = Math.max(this.largestPrompt, tokens);
    const lastAssistant = request.messages.findLastIndex((message) => message.role === "assistant");
    const open = toolResults(request).filter((result) => result.messageIndex > lastAssistant);
    if (open.some((result) => result.content.startsWith("[tool output pruned"))) this.prunedOpenResults += 1;
    const answer = this.answer(request, this.#calls);
    const text = answer.fullText ?? "";
    return {
      fullText: text,
      parts: answer.parts ?? (text === "" ? [] : [{ type: "text", text }]),
      usage: { inputTokens: tokens, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 },
      terminalReason: answer.terminalReason ?? "stop",
    };
  }
}

/** The last user text of a request (the newest prompt), or "". */
export function lastUserText(request: LlmRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index -= 1) {
    const message = request.messages[index];
    if (message?.role !== "user") continue;
    const text = message.blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
    if (text !== "") return text;
  }
  return "";
}

/** True when the request ends with tool results (the model answers a tool batch). */
export function endsWithToolResults(request: LlmRequest): boolean {
  return request.messages.at(-1)?.blocks.some((block) => block.type === "tool_result") === true;
}
