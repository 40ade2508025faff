import type { AttachmentRef, LlmBlock, LlmMessage, LlmRequest, LlmToolSpec, Message } from "@lash/protocol";

/** A projected request whose image blocks still point at attachment refs (bytes load at call time). */
export interface ProjectedRequest {
  readonly request: LlmRequest;
  /** `request.attachments[i]` is loaded from `attachmentRefs[i]`. */
  readonly attachmentRefs: readonly AttachmentRef[];
}

export interface ProjectionInput {
  readonly systemPrompt: string;
  readonly messages: readonly Message[];
  readonly tools: readonly LlmToolSpec[];
  readonly useTools: boolean;
  readonly model: string;
  readonly modelVariant: string | undefined;
  readonly sessionId: string;
}

function hasReplay(
  replay:
    | { itemId?: string | undefined; encryptedContent?: string | undefined; signature?: string | undefined; summary?: readonly string[] }
    | undefined,
): boolean {
  if (!replay) return false;
  return Boolean(replay.itemId || replay.encryptedContent || replay.signature || (replay.summary && replay.summary.length > 0));
}

function projectMessage(message: Message, attachmentRefs: AttachmentRef[]): LlmMessage | undefined {
  const blocks: LlmBlock[] = [];
  const isSystem = message.role === "system";
  for (const part of message.parts) {
    switch (part.kind) {
      case "reasoning":
        // Display-only reasoning (no replay data) is never sent back to a provider.
        if (hasReplay(part.replay))
          blocks.push(
            part.replay ? { type: "reasoning", text: part.content, replay: part.replay } : { type: "reasoning", text: part.content },
          );
        break;
      case "tool_call":
        blocks.push(
          part.replay
            ? { type: "tool_call", callId: part.callId, toolName: part.toolName, inputJson: part.inputJson, replay: part.replay }
            : { type: "tool_call", callId: part.callId, toolName: part.toolName, inputJson: part.inputJson },
        );
        break;
      case "tool_result":
        blocks.push(
          part.toolName === undefined
            ? { type: "tool_result", callId: part.callId, content: part.content }
            : { type: "tool_result", callId: part.callId, content: part.content, toolName: part.toolName },
        );
        break;
      case "image":
        if (message.role === "user" || part.callId !== undefined) {
          blocks.push({ type: "image", attachmentIndex: attachmentRefs.length });
          attachmentRefs.push(part.attachment);
        }
        break;
      case "output":
      case "error": {
        if (part.content.trim() === "") break;
        const tag = part.kind;
        blocks.push({ type: "text", text: isSystem ? `<${tag}>\n${part.content}\n</${tag}>` : part.content });
        break;
      }
      case "text":
      case "prose": {
        if (part.content.trim() === "") break;
        const text = isSystem ? `Runtime note:\n${part.content}` : part.content;
        blocks.push(
          part.kind === "prose" && part.responseMeta ? { type: "text", text, responseMeta: part.responseMeta } : { type: "text", text },
        );
        break;
      }
    }
  }
  return blocks.length === 0 ? undefined : { role: message.role, blocks };
}

/**
 * Builds the model request for the conversation: the system prompt first (when not blank), then
 * each message rendered structurally. Blank text is skipped, and messages left with no blocks are
 * dropped. Attachments are collected by reference, in block order.
 */
export function projectRequest(input: ProjectionInput): ProjectedRequest {
  const messages: LlmMessage[] = [];
  const attachmentRefs: AttachmentRef[] = [];
  if (input.systemPrompt.trim() !== "") {
    messages.push({ role: "system", blocks: [{ type: "text", text: input.systemPrompt }] });
  }
  for (const message of input.messages) {
    const projected = projectMessage(message, attachmentRefs);
    if (projected) messages.push(projected);
  }
  const request: LlmRequest = {
    model: input.model,
    messages,
    attachments: [],
    tools: input.useTools ? [...input.tools] : [],
    toolChoice: input.useTools && input.tools.length > 0 ? "auto" : "none",
    sessionId: input.sessionId,
  };
  if (input.modelVariant !== undefined) request.modelVariant = input.modelVariant;
  return { request, attachmentRefs };
}
