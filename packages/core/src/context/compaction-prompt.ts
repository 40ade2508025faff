import type { LlmRequest, Message } from "@lash/protocol";
import { isSummaryMessage, summaryText } from "./context-messages.js";
import { CHARACTERS_PER_TOKEN } from "./token-estimate.js";

/**
 * The instructions the model summarizes older history with (`{words}` becomes the length the
 * summary may have). The summary replaces the messages it covers in every later prompt, so it has
 * to carry what the assistant needs to go on: goals, decisions, facts found with tools, and where
 * the work stands.
 */
export const COMPACTION_PROMPT = [
  "You are compacting the history of a conversation between a user and an AI assistant that uses tools, so that the assistant can go on with less context.",
  "The transcript below is the older part of the conversation; the newest messages stay as they are and are not shown. Write the summary the assistant will read instead of the transcript.",
  "Include:",
  "1. The user's goals and requests, and every constraint or preference they stated.",
  "2. What was done: decisions, the tool calls that mattered and what they found (file paths, names, identifiers, values, errors and their fixes).",
  "3. Where the work stands: what is finished, what is in progress, what comes next.",
  "Keep every fact the assistant would need to continue; leave out pleasantries and repetition. If the transcript starts with an earlier summary, fold it into yours.",
  "Answer with the summary only, in plain text, in at most {words} words.",
].join("\n");

/** The characters of one tool output the transcript shows (the summary needs its gist, not all of it). */
const TOOL_OUTPUT_CHARACTERS = 2_000;
/** Characters of a tool call's arguments the transcript shows. */
const TOOL_ARGUMENTS_CHARACTERS = 500;

function cut(text: string, characters: number): string {
  if (text.length <= characters) return text;
  return `${text.slice(0, characters)}… [${text.length - characters} more characters]`;
}

/** One message of the transcript, as the summarizing model reads it. */
export function renderTranscriptMessage(message: Message): string {
  if (isSummaryMessage(message)) return `[earlier summary]\n${summaryText(message)}`;
  const lines: string[] = [];
  for (const part of message.parts) {
    switch (part.kind) {
      case "text":
      case "prose":
        if (part.content.trim() !== "") lines.push(`[${message.role}]\n${part.content}`);
        break;
      case "output":
      case "error":
        if (part.content.trim() !== "") lines.push(`[runtime ${part.kind}]\n${part.content}`);
        break;
      case "tool_call":
        lines.push(`[assistant called ${part.toolName}] ${cut(part.inputJson, TOOL_ARGUMENTS_CHARACTERS)}`);
        break;
      case "tool_result":
        lines.push(`[${part.toolName ?? "tool"} result]\n${cut(part.content, TOOL_OUTPUT_CHARACTERS)}`);
        break;
      case "image":
        lines.push(`[${message.role} image: ${part.attachment.mediaType}${part.attachment.label ? `, ${part.attachment.label}` : ""}]`);
        break;
      case "reasoning":
        break;
    }
  }
  return lines.join("\n");
}

/**
 * The transcript of `messages`, within `maxTokens`: the oldest messages give way first (an earlier
 * summary at the start always stays, cut if it alone is too long), and a line says how many were
 * left out.
 */
export function renderTranscript(messages: readonly Message[], maxTokens: number): string {
  const budget = Math.max(1, maxTokens) * CHARACTERS_PER_TOKEN;
  const rendered = messages.map(renderTranscriptMessage).filter((text) => text !== "");
  const leading = messages[0] !== undefined && isSummaryMessage(messages[0]) ? rendered.shift() : undefined;
  const kept: string[] = [];
  let used = leading === undefined ? 0 : Math.min(leading.length, Math.floor(budget / 2));
  for (let index = rendered.length - 1; index >= 0; index -= 1) {
    const text = rendered[index] as string;
    if (used + text.length + 2 > budget) break;
    kept.unshift(text);
    used += text.length + 2;
  }
  const omitted = rendered.length - kept.length;
  const parts: string[] = [];
  if (leading !== undefined) parts.push(cut(leading, Math.floor(budget / 2)));
  if (omitted > 0) parts.push(`[${omitted} older message${omitted === 1 ? "" : "s"} not shown: too long to summarize at once]`);
  parts.push(...kept);
  return parts.join("\n\n");
}

/** The summarizing request: the instructions as the system prompt, the transcript as the one user message. */
export function compactionRequest(input: {
  readonly messages: readonly Message[];
  readonly prompt: string;
  readonly summaryTokens: number;
  readonly transcriptTokens: number;
  readonly model: string;
  readonly modelVariant: string | undefined;
  readonly sessionId: string;
}): LlmRequest {
  const words = Math.max(50, Math.floor(input.summaryTokens * 0.75));
  const transcript = renderTranscript(input.messages, input.transcriptTokens);
  const request: LlmRequest = {
    model: input.model,
    messages: [
      { role: "system", blocks: [{ type: "text", text: input.prompt.replaceAll("{words}", String(words)) }] },
      { role: "user", blocks: [{ type: "text", text: `<transcript>\n${transcript}\n</transcript>\n\nWrite the summary now.` }] },
    ],
    attachments: [],
    tools: [],
    toolChoice: "none",
    sessionId: input.sessionId,
  };
  if (input.modelVariant !== undefined) request.modelVariant = input.modelVariant;
  return request;
}
