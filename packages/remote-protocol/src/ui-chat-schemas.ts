import { z } from "zod";
import { MAX_ID_LENGTH } from "./session-schemas.js";
import { MAX_DECISION_REASON_LENGTH } from "./turn-schemas.js";

/*
 * `POST /v1/sessions/{id}/chat`: the body the AI SDK's `useChat` (its `DefaultChatTransport`)
 * sends, answered with the AI SDK 7 UI message stream. The session keeps the conversation, so the
 * server reads only the last message: the user's new text, or the assistant message that carries
 * the user's approval responses. The message parts are open (the SDK adds fields across versions);
 * the parts the server reads are checked by the schemas below.
 */

/** At most this many messages in one request. */
export const MAX_UI_MESSAGES = 4096;
/** At most this many parts in one message. */
export const MAX_UI_MESSAGE_PARTS = 1024;

/** One part of a UI message, as the server first sees it: a `type`, the rest open. */
export const uiMessagePartSchema = z.looseObject({
  type: z.string().min(1).max(200),
});

/** One UI message. */
export const uiMessageSchema = z.looseObject({
  id: z.string().max(MAX_ID_LENGTH),
  role: z.enum(["system", "user", "assistant"]),
  parts: z.array(uiMessagePartSchema).max(MAX_UI_MESSAGE_PARTS),
});
export type UiMessage = z.infer<typeof uiMessageSchema>;

/**
 * The body of `POST /v1/sessions/{id}/chat`: `useChat`'s own fields and nothing else (extra
 * fields an app adds with the transport's `body` option are refused, naming them).
 * With `regenerate-message` the last message is the user message whose answer is replaced (on a
 * new branch of the session).
 */
export const uiChatRequestSchema = z.strictObject({
  /** The chat's id on the client (not the session's; the path names the session). */
  id: z.string().min(1).max(MAX_ID_LENGTH),
  /** The conversation as the client has it; only the last message is read. */
  messages: z.array(uiMessageSchema).min(1).max(MAX_UI_MESSAGES),
  trigger: z.enum(["submit-message", "regenerate-message"]),
  /** The message the request continues (an assistant message answering approvals) or replaces. */
  messageId: z.string().max(MAX_ID_LENGTH).optional(),
});
export type UiChatRequest = z.infer<typeof uiChatRequestSchema>;

/** A text part of the user's message. */
export const uiTextPartSchema = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
});

/**
 * A tool part of the assistant's message after `addToolApprovalResponse`: state
 * `approval-responded`, with the approval's id (lash's approval request id) and the answer.
 */
export const uiToolApprovalResponsePartSchema = z.looseObject({
  type: z.string().regex(/^(tool-.+|dynamic-tool)$/),
  toolCallId: z.string().max(MAX_ID_LENGTH),
  state: z.literal("approval-responded"),
  approval: z.looseObject({
    id: z.string().min(1).max(MAX_ID_LENGTH),
    approved: z.boolean(),
    reason: z.string().max(MAX_DECISION_REASON_LENGTH).optional(),
  }),
});
export type UiToolApprovalResponsePart = z.infer<typeof uiToolApprovalResponsePartSchema>;

/** The header that tells AI SDK clients the response is a UI message stream, and its version. */
export const UI_MESSAGE_STREAM_HEADER = "x-vercel-ai-ui-message-stream";
