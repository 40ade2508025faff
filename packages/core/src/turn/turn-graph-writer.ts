import type { Message, ToolCallRecord } from "@lash/protocol";
import { isToolResultMessage, isTransientMessage } from "../session/message-text.js";
import type { SessionGraphEditor } from "../session/session-graph.js";

/**
 * Applies a turn's conversation to the session graph at each boundary. Messages are appended when
 * the graph's active path is a prefix of the conversation (the normal case); otherwise the active
 * read state is replaced (a context transform rewrote history), leaving the old branch in place.
 * Tool call records are placed right after the tool-result message of their batch.
 */
export class TurnGraphWriter {
  readonly #graph: SessionGraphEditor;
  #synced: Message[];
  #pendingRecords: ToolCallRecord[] = [];

  constructor(graph: SessionGraphEditor) {
    this.#graph = graph;
    this.#synced = graph.activeMessages();
  }

  recordToolCalls(records: readonly ToolCallRecord[]): void {
    this.#pendingRecords.push(...records);
  }

  /** Applies `messages`; `final` also writes records whose result message never came. */
  sync(messages: readonly Message[], final: boolean): void {
    const target = messages.filter((message) => !isTransientMessage(message));
    const synced = this.#synced;
    let isPrefix = target.length >= synced.length;
    for (let index = 0; isPrefix && index < synced.length; index += 1) {
      if (target[index]?.id !== synced[index]?.id) isPrefix = false;
    }
    if (isPrefix) {
      for (const message of target.slice(synced.length)) {
        this.#graph.appendMessage(message);
        if (isToolResultMessage(message)) this.#flushRecords();
      }
    } else {
      this.#graph.replaceActiveReadState(target);
    }
    this.#synced = target;
    if (final) this.#flushRecords();
  }

  #flushRecords(): void {
    for (const record of this.#pendingRecords) this.#graph.appendToolCall(record);
    this.#pendingRecords = [];
  }
}

/**
 * True when every tool call in the messages has a non-empty id and a matching later tool result, so
 * a resumed session could send the history to a provider as is.
 */
export function isResumeSafe(messages: readonly Message[]): boolean {
  const open = new Set<string>();
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.kind === "tool_call") {
        if (part.callId === "") return false;
        open.add(part.callId);
      } else if (part.kind === "tool_result") {
        open.delete(part.callId);
      }
    }
  }
  return open.size === 0;
}
