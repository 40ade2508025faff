import type { Message } from "@lash/protocol";
import { freshMessageId, partId } from "../session/ids.js";
import { isToolResultMessage } from "../session/message-text.js";

/** The origin id of the messages context management adds (compaction summaries). */
export const CONTEXT_ORIGIN_ID = "lash.context";

/** The first line of a summary message, so the model (and a reader of the session) knows what it is. */
export const SUMMARY_HEADING =
  "Summary of the earlier conversation (older messages were compacted to fit the context window; the session keeps the originals):";

/** True for a compaction summary made by the runtime. */
export function isSummaryMessage(message: Message): boolean {
  return message.origin?.pluginId === CONTEXT_ORIGIN_ID && message.role === "user";
}

/** A summary message: a user message (every provider accepts one first) with the heading and the summary. */
export function summaryMessage(summary: string): Message {
  const id = freshMessageId();
  return {
    id,
    role: "user",
    parts: [{ kind: "text", id: partId(id, 0), content: `${SUMMARY_HEADING}\n\n${summary}` }],
    origin: { type: "plugin", pluginId: CONTEXT_ORIGIN_ID, transient: false },
  };
}

/** The summary text of a summary message (the heading left out). */
export function summaryText(message: Message): string {
  let text = "";
  for (const part of message.parts) if (part.kind === "text") text += part.content;
  return text.startsWith(SUMMARY_HEADING) ? text.slice(SUMMARY_HEADING.length).trimStart() : text;
}

/** True for the message that starts a user turn: the user's own input, not tool results or a summary. */
export function isUserTurnStart(message: Message): boolean {
  return message.role === "user" && !isToolResultMessage(message) && !isSummaryMessage(message);
}

/** The index of the last assistant message, or -1. */
export function lastAssistantIndex(messages: readonly Message[]): number {
  for (let index = messages.length - 1; index >= 0; index -= 1) if (messages[index]?.role === "assistant") return index;
  return -1;
}
