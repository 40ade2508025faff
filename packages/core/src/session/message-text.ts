import type { Message, MessagePartKind } from "@lash/protocol";

const RENDERED_KINDS: ReadonlySet<MessagePartKind> = new Set(["text", "prose", "tool_result"]);

/**
 * The text of a message: the contents of its text, prose and tool-result parts concatenated with no
 * separator (images and tool-call payloads contribute nothing).
 */
export function renderMessageText(message: Message, kinds: ReadonlySet<MessagePartKind> = RENDERED_KINDS): string {
  let text = "";
  for (const part of message.parts) {
    if (!kinds.has(part.kind)) continue;
    if (part.kind === "text" || part.kind === "prose" || part.kind === "tool_result") text += part.content;
  }
  return text;
}

/** True when the message is a plugin message marked transient (never persisted). */
export function isTransientMessage(message: Message): boolean {
  return message.origin?.transient === true;
}

/** True when the message is a user message that carries tool results. */
export function isToolResultMessage(message: Message): boolean {
  return message.role === "user" && message.parts.some((part) => part.kind === "tool_result");
}
