import type { ApprovalDecision, InputItem } from "@lash/protocol";
import { type UiChatRequest, uiTextPartSchema, uiToolApprovalResponsePartSchema } from "@lash/remote-protocol";
import { HttpError } from "../http/http-error.js";

/**
 * What a `useChat` request asks for: a new turn with the user's text, the same on a new branch in
 * place of the session's answer to that text (`regenerate`), or decisions that continue a waiting turn.
 */
export type UiChatAction =
  | { readonly type: "turn"; readonly items: InputItem[] }
  | { readonly type: "regenerate"; readonly items: InputItem[] }
  | { readonly type: "decisions"; readonly decisions: ApprovalDecision[] };

/** At most this many approval responses in one request (a turn asks for as many as its tool batch has calls). */
const MAX_DECISIONS = 64;

function refuse(message: string, details: Record<string, string> = {}): HttpError {
  return new HttpError("invalid_request", message, { details });
}

/** The user's text: the text parts of the last message, in order. Other parts (files) are refused. */
function userInput(message: UiChatRequest["messages"][number]): InputItem[] {
  const items: InputItem[] = [];
  for (const part of message.parts) {
    // Step markers and the like carry nothing to send.
    if (part.type === "step-start" || part.type.startsWith("data-")) continue;
    const text = uiTextPartSchema.safeParse(part);
    if (!text.success) {
      throw refuse(`the user's message may hold text parts only; a \`${part.type.slice(0, 64)}\` part is not supported`, {
        part: part.type.slice(0, 64),
      });
    }
    if (text.data.text !== "") items.push({ type: "text", text: text.data.text });
  }
  if (items.length === 0) throw refuse("the user's message has no text");
  return items;
}

/**
 * The approval responses of the assistant's last message: its tool parts in state
 * `approval-responded` (what `addToolApprovalResponse` leaves). A part that claims that state and
 * does not match the shape is refused, not skipped: a decision must not be lost silently.
 */
function approvalResponses(message: UiChatRequest["messages"][number]): ApprovalDecision[] {
  const decisions: ApprovalDecision[] = [];
  for (const part of message.parts) {
    if ((part as { state?: unknown }).state !== "approval-responded") continue;
    const parsed = uiToolApprovalResponsePartSchema.safeParse(part);
    if (!parsed.success) throw refuse("a tool part in state `approval-responded` needs `approval: { id, approved, reason? }`");
    const { approval } = parsed.data;
    if (decisions.some((decision) => decision.id === approval.id)) continue;
    decisions.push({
      id: approval.id,
      decision: approval.approved ? "approve" : "reject",
      ...(approval.reason === undefined ? {} : { reason: approval.reason }),
    });
  }
  if (decisions.length > MAX_DECISIONS) throw refuse(`at most ${MAX_DECISIONS} approval responses per request`);
  return decisions;
}

/**
 * Reads what a `useChat` request asks for. The session holds the conversation, so only the last
 * message counts: a user message is the next turn's input (or, with `regenerate-message`, the
 * message whose answer is replaced); an assistant message carrying approval responses continues
 * the turn that waits for them. Anything else is a 400 that says why.
 */
export function uiChatAction(request: UiChatRequest): UiChatAction {
  const last = request.messages.at(-1);
  if (last === undefined) throw refuse("the request has no messages");
  if (request.trigger === "regenerate-message") {
    // `regenerate()` drops the answer being regenerated (and what follows), so the user message it
    // answered is last.
    if (last.role !== "user") {
      throw refuse("to regenerate an answer, the last message must be the user message it answered", { role: last.role });
    }
    return { type: "regenerate", items: userInput(last) };
  }
  if (last.role === "user") return { type: "turn", items: userInput(last) };
  if (last.role === "assistant") {
    const decisions = approvalResponses(last);
    if (decisions.length > 0) return { type: "decisions", decisions };
  }
  throw refuse("the last message must be the user's new message, or the assistant's message with approval responses", {
    role: last.role,
  });
}
