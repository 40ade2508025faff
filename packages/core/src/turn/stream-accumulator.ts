import type { LlmOutputPart, LlmResponse, ReasoningReplay, ResponseMeta } from "@lash/protocol";

type TextPart = Extract<LlmOutputPart, { type: "text" }>;
type ReasoningPart = Extract<LlmOutputPart, { type: "reasoning" }>;
type ToolCallPart = Extract<LlmOutputPart, { type: "tool_call" }>;

function isBlank(text: string): boolean {
  return text.trim() === "";
}

/**
 * True when a replay carries nothing a provider could send back (display-only reasoning). A
 * redacted block is never display-only: the flag itself must be replayed.
 */
function isEmptyReplay(replay: ReasoningReplay | undefined): boolean {
  return (
    replay === undefined ||
    (replay.itemId === undefined &&
      replay.encryptedContent === undefined &&
      replay.signature === undefined &&
      !replay.redacted &&
      replay.summary.length === 0)
  );
}

/**
 * Appends a streamed piece. Some providers stream cumulative text (each piece repeats everything
 * sent so far): when a piece starts with the whole existing text, only its unseen suffix is added.
 */
function appendStreamPiece(existing: string, piece: string): string {
  if (piece === "") return existing;
  return piece.startsWith(existing) ? piece : existing + piece;
}

/** Text parts of two different provider items (both carry an item id, and the ids differ). */
function fromDifferentItems(left: ResponseMeta | undefined, right: ResponseMeta | undefined): boolean {
  return left?.id !== undefined && right?.id !== undefined && left.id !== right.id;
}

function copyPart(part: LlmOutputPart): LlmOutputPart {
  return { ...part };
}

function textOfParts(parts: readonly LlmOutputPart[]): string {
  let text = "";
  for (const part of parts) if (part.type === "text") text += part.text;
  return text;
}

/** The same call: equal call ids, or equal provider item ids. */
function sameToolCall(left: ToolCallPart, right: ToolCallPart): boolean {
  if (left.callId === right.callId) return true;
  const leftItem = left.replay?.itemId;
  return leftItem !== undefined && leftItem === right.replay?.itemId;
}

/** The same reasoning: one non-blank text contains the other, or equal item ids, or equal encrypted content. */
function sameReasoning(left: ReasoningPart, right: ReasoningPart): boolean {
  if (!isBlank(left.text) && !isBlank(right.text) && (left.text.includes(right.text) || right.text.includes(left.text))) {
    return true;
  }
  const leftItem = left.replay?.itemId;
  if (leftItem !== undefined && leftItem === right.replay?.itemId) return true;
  const leftEncrypted = left.replay?.encryptedContent;
  return leftEncrypted !== undefined && leftEncrypted === right.replay?.encryptedContent;
}

/** Whether a streamed part has something a final response could be missing. */
function hasContent(part: LlmOutputPart): boolean {
  switch (part.type) {
    case "text":
      return !isBlank(part.text);
    case "reasoning":
      return !isBlank(part.text) || !isEmptyReplay(part.replay);
    case "tool_call":
      return true;
  }
}

/** Whether the final response already carries a streamed part. */
function responseContains(response: LlmResponse, part: LlmOutputPart): boolean {
  switch (part.type) {
    case "text":
      return (
        isBlank(part.text) ||
        response.fullText.includes(part.text) ||
        response.parts.some((candidate) => candidate.type === "text" && candidate.text.includes(part.text))
      );
    case "reasoning": {
      if (isBlank(part.text)) return true;
      const itemId = part.replay?.itemId;
      return response.parts.some(
        (candidate) =>
          candidate.type === "reasoning" &&
          (candidate.text.includes(part.text) ||
            // An item id match only counts when the final part has text of its own.
            (itemId !== undefined && candidate.replay?.itemId === itemId && !isBlank(candidate.text))),
      );
    }
    case "tool_call":
      return response.parts.some((candidate) => candidate.type === "tool_call" && sameToolCall(part, candidate));
  }
}

/**
 * Keeps the parts seen while a model call streams, so that a provider whose final response is empty
 * or partial still yields the complete response. Parts are private: every part handed out is a copy.
 */
export class StandardStreamAccumulator {
  #parts: LlmOutputPart[] = [];

  /**
   * Adds streamed text. It extends the last part when that part is text of the same provider item
   * (cumulative pieces only add their unseen suffix); otherwise it starts a new text part.
   */
  pushText(text: string, responseMeta?: ResponseMeta): void {
    if (text === "") return;
    const last = this.#parts.at(-1);
    if (last?.type === "text" && !fromDifferentItems(last.responseMeta, responseMeta)) {
      // The part is private and copied on the way out, so appending in place is safe and avoids
      // copying the part for every delta.
      last.text = appendStreamPiece(last.text, text);
      if (last.responseMeta === undefined && responseMeta !== undefined) last.responseMeta = { ...responseMeta };
      return;
    }
    const part: TextPart = responseMeta === undefined ? { type: "text", text } : { type: "text", text, responseMeta: { ...responseMeta } };
    this.#parts.push(part);
  }

  /**
   * Adds streamed reasoning. Providers send the display text and the replay payload (item id,
   * encrypted content, summary) as separate events, so a piece may complete the last part instead
   * of starting a new one:
   * - (a) display-only pieces of one block merge;
   * - (b) a payload with encrypted content that repeats (or omits) the displayed text upgrades the
   *   last part in place; its text wins when non-blank and different, and its replay replaces the old;
   * - (c) display text that follows an encrypted-only part fills that part in, along with a missing
   *   item id and summary.
   */
  pushReasoning(text: string, replay?: ReasoningReplay): void {
    const incoming = isEmptyReplay(replay) ? undefined : replay;
    const last = this.#parts.at(-1);
    if (last?.type === "reasoning") {
      if (isEmptyReplay(last.replay) && incoming === undefined) {
        last.text = appendStreamPiece(last.text, text);
        return;
      }
      const lastReplay = last.replay;
      if (
        incoming?.encryptedContent !== undefined &&
        lastReplay?.encryptedContent === undefined &&
        !isBlank(last.text) &&
        (isBlank(text) || text.includes(last.text))
      ) {
        if (!isBlank(text) && text !== last.text) last.text = text;
        last.replay = { ...incoming };
        return;
      }
      if (incoming?.encryptedContent === undefined && lastReplay?.encryptedContent !== undefined && !isBlank(text) && isBlank(last.text)) {
        last.text = appendStreamPiece(last.text, text);
        // A new replay object: copies handed out earlier share the old one.
        const filled: ReasoningReplay = { ...lastReplay };
        const incomingItem = incoming?.itemId;
        if (filled.itemId === undefined && incomingItem !== undefined) filled.itemId = incomingItem;
        if (filled.summary.length === 0 && incoming !== undefined) filled.summary = [...incoming.summary];
        last.replay = filled;
        return;
      }
    }
    const part: ReasoningPart = incoming === undefined ? { type: "reasoning", text } : { type: "reasoning", text, replay: { ...incoming } };
    this.#parts.push(part);
  }

  /** Adds a streamed tool call (tool calls never merge while streaming). */
  pushToolCall(part: ToolCallPart): void {
    this.#parts.push({ ...part });
  }

  /** Nothing arrived: no non-empty text, and no reasoning or tool-call part. */
  isEmpty(): boolean {
    return !this.#parts.some((part) => part.type !== "text" || part.text !== "");
  }

  /** The text parts, concatenated without separators. */
  text(): string {
    return textOfParts(this.#parts);
  }

  /** Copies of the accumulated parts, in arrival order. */
  parts(): LlmOutputPart[] {
    return this.#parts.map(copyPart);
  }

  /**
   * Completes a final response with what streamed, as a new response (the input is never changed):
   * - nothing streamed: the response as it is;
   * - the response has no parts: the streamed parts (and their text when `fullText` is empty);
   * - every streamed part with content is already in the response: the response as it is;
   * - otherwise the streamed parts, reconciled with the final ones: a final tool call replaces the
   *   matching streamed call (or is appended), final reasoning and non-blank text are appended
   *   unless already present. `fullText`, when empty, becomes the text of the resulting parts.
   */
  applyToResponse(response: LlmResponse): LlmResponse {
    if (this.isEmpty()) return { ...response, parts: response.parts.map(copyPart) };
    if (response.parts.length === 0) {
      return { ...response, parts: this.parts(), fullText: response.fullText === "" ? this.text() : response.fullText };
    }
    if (this.#parts.filter(hasContent).every((part) => responseContains(response, part))) {
      return { ...response, parts: response.parts.map(copyPart) };
    }
    const parts = this.#reconcile(response.parts);
    return { ...response, parts, fullText: response.fullText === "" ? textOfParts(parts) : response.fullText };
  }

  #reconcile(finalParts: readonly LlmOutputPart[]): LlmOutputPart[] {
    const parts = this.parts();
    for (const finalPart of finalParts) {
      switch (finalPart.type) {
        case "tool_call": {
          // The final call wins: streamed arguments may be partial.
          const index = parts.findIndex((candidate) => candidate.type === "tool_call" && sameToolCall(candidate, finalPart));
          if (index >= 0) parts[index] = copyPart(finalPart);
          else parts.push(copyPart(finalPart));
          break;
        }
        case "reasoning":
          if (!parts.some((candidate) => candidate.type === "reasoning" && sameReasoning(candidate, finalPart))) {
            parts.push(copyPart(finalPart));
          }
          break;
        case "text":
          if (
            !isBlank(finalPart.text) &&
            !parts.some((candidate) => candidate.type === "text" && candidate.text.includes(finalPart.text))
          ) {
            parts.push(copyPart(finalPart));
          }
          break;
      }
    }
    return parts;
  }
}
