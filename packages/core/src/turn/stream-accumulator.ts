import type { LlmOutputPart, LlmResponse, ReasoningReplay, ResponseMeta } from "@lash/protocol";

type ReasoningPart = Extract<LlmOutputPart, { type: "reasoning" }>;
type ToolCallPart = Extract<LlmOutputPart, { type: "tool_call" }>;

function isReplayless(replay: ReasoningReplay | undefined): boolean {
  return (
    replay === undefined ||
    (!replay.itemId && !replay.encryptedContent && !replay.signature && replay.summary.length === 0 && !replay.redacted)
  );
}

/**
 * Appends a streamed piece. Some providers stream cumulative text (each piece repeats everything
 * so far): when a piece starts with the whole existing text, only its unseen suffix is added.
 */
function appendStreamPiece(existing: string, piece: string): string {
  if (existing !== "" && piece.startsWith(existing)) return piece;
  return existing + piece;
}

function sameToolCall(left: ToolCallPart, right: ToolCallPart): boolean {
  if (left.callId !== "" && left.callId === right.callId) return true;
  const leftItem = left.replay?.itemId;
  return leftItem !== undefined && leftItem === right.replay?.itemId;
}

function sameReasoning(left: ReasoningPart, right: ReasoningPart): boolean {
  const leftText = left.text.trim();
  const rightText = right.text.trim();
  if (leftText !== "" && rightText !== "" && (leftText.includes(rightText) || rightText.includes(leftText))) return true;
  if (left.replay?.itemId && left.replay.itemId === right.replay?.itemId) return true;
  return Boolean(left.replay?.encryptedContent && left.replay.encryptedContent === right.replay?.encryptedContent);
}

/**
 * Keeps the parts seen while a model call streams, so a provider whose final response is empty or
 * partial still yields the complete response (the reference's `StandardStreamAccumulator`).
 */
export class StandardStreamAccumulator {
  #parts: LlmOutputPart[] = [];

  pushText(text: string, responseMeta?: ResponseMeta): void {
    if (text === "") return;
    const last = this.#parts.at(-1);
    const differentItem = last?.type === "text" && responseMeta?.id !== undefined && last.responseMeta?.id !== undefined && last.responseMeta.id !== responseMeta.id;
    if (last?.type === "text" && !differentItem) {
      // Parts are private and copied on the way out, so streamed text is appended in place.
      last.text = appendStreamPiece(last.text, text);
      if (!last.responseMeta && responseMeta) last.responseMeta = responseMeta;
      return;
    }
    this.#parts.push(responseMeta ? { type: "text", text, responseMeta } : { type: "text", text });
  }

  pushReasoning(text: string, replay?: ReasoningReplay): void {
    const last = this.#parts.at(-1);
    if (last?.type === "reasoning") {
      // (a) display-only chunks of one reasoning block merge.
      if (isReplayless(last.replay) && isReplayless(replay)) {
        this.#parts[this.#parts.length - 1] = { ...last, text: appendStreamPiece(last.text, text) };
        return;
      }
      // (b) the round-trip payload arrives after the display text: upgrade the part in place.
      const newEncrypted = replay?.encryptedContent;
      const lastEncrypted = last.replay?.encryptedContent;
      if (newEncrypted && !lastEncrypted && last.text.trim() !== "" && (text.trim() === "" || text.includes(last.text))) {
        const upgraded: ReasoningPart = { type: "reasoning", text: text.trim() !== "" && text !== last.text ? text : last.text };
        if (replay) upgraded.replay = replay;
        this.#parts[this.#parts.length - 1] = upgraded;
        return;
      }
      // (c) display text arrives after an encrypted-only part: fill it in.
      if (lastEncrypted && !newEncrypted && text.trim() !== "" && last.text.trim() === "") {
        const filled: ReasoningPart = { ...last, text: last.text + text };
        if (last.replay) {
          filled.replay = {
            ...last.replay,
            itemId: last.replay.itemId ?? replay?.itemId,
            summary: last.replay.summary.length > 0 ? last.replay.summary : (replay?.summary ?? []),
          };
          if (filled.replay.itemId === undefined) delete filled.replay.itemId;
        }
        this.#parts[this.#parts.length - 1] = filled;
        return;
      }
    }
    this.#parts.push(replay ? { type: "reasoning", text, replay } : { type: "reasoning", text });
  }

  pushToolCall(part: ToolCallPart): void {
    this.#parts.push({ ...part });
  }

  /** No text, no reasoning and no tool call has arrived. */
  isEmpty(): boolean {
    return !this.#parts.some((part) => part.type !== "text" || part.text !== "");
  }

  /** The accumulated text parts, concatenated. */
  text(): string {
    let text = "";
    for (const part of this.#parts) if (part.type === "text") text += part.text;
    return text;
  }

  parts(): LlmOutputPart[] {
    return this.#parts.map((part) => ({ ...part }));
  }

  /**
   * Completes a final response with what streamed: an empty response takes the streamed parts; a
   * response that already contains everything is returned as is; otherwise the two are reconciled
   * (final tool calls replace streamed ones, missing reasoning and text are kept).
   */
  applyToResponse(response: LlmResponse): LlmResponse {
    if (this.isEmpty()) return response;
    if (response.parts.length === 0) {
      return { ...response, parts: this.parts(), fullText: response.fullText === "" ? this.text() : response.fullText };
    }
    if (this.#parts.every((part) => this.#contained(part, response))) return response;
    const parts = this.parts();
    for (const part of response.parts) {
      if (part.type === "tool_call") {
        const index = parts.findIndex((candidate) => candidate.type === "tool_call" && sameToolCall(candidate, part));
        if (index >= 0) parts[index] = { ...part };
        else parts.push({ ...part });
      } else if (part.type === "reasoning") {
        if (!parts.some((candidate) => candidate.type === "reasoning" && sameReasoning(candidate, part))) parts.push({ ...part });
      } else if (part.text.trim() !== "" && !parts.some((candidate) => candidate.type === "text" && candidate.text.includes(part.text))) {
        parts.push({ ...part });
      }
    }
    let fullText = response.fullText;
    if (fullText === "") for (const part of parts) if (part.type === "text") fullText += part.text;
    return { ...response, parts, fullText };
  }

  #contained(part: LlmOutputPart, response: LlmResponse): boolean {
    switch (part.type) {
      case "text":
        return part.text === "" || response.fullText.includes(part.text) || response.parts.some((candidate) => candidate.type === "text" && candidate.text.includes(part.text));
      case "reasoning":
        return response.parts.some(
          (candidate) =>
            candidate.type === "reasoning" &&
            ((part.text !== "" && candidate.text.includes(part.text)) || (part.replay?.itemId !== undefined && candidate.replay?.itemId === part.replay.itemId)),
        );
      case "tool_call":
        return response.parts.some((candidate) => candidate.type === "tool_call" && sameToolCall(part, candidate));
    }
  }
}
