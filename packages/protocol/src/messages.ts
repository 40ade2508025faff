import { z } from "zod";

/** Who wrote a message. Tool results are `user` messages, as the providers expect. */
export const messageRoleSchema = z.enum(["user", "assistant", "system"]);
export type MessageRole = z.infer<typeof messageRoleSchema>;

/**
 * A stored image (or other binary attachment). `id` is the hex SHA-256 of the bytes, so the same
 * bytes always get the same id; `mediaType` is detected from the bytes.
 */
export const attachmentRefSchema = z.object({
  id: z.string().min(1),
  mediaType: z.string().min(1),
  byteLength: z.number().int().nonnegative(),
  label: z.string().optional(),
});
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;

/** Provider metadata of a text item (its raw item id and, for the Responses API, its phase). */
export const responseMetaSchema = z.object({
  id: z.string().optional(),
  status: z.string().optional(),
  phase: z.enum(["commentary", "final_answer"]).optional(),
});
export type ResponseMeta = z.infer<typeof responseMetaSchema>;

/**
 * What a provider needs to replay a reasoning item on the next call (encrypted content, signature,
 * summaries). A reasoning part without replay data is display-only and never sent back.
 */
export const reasoningReplaySchema = z.object({
  itemId: z.string().optional(),
  encryptedContent: z.string().optional(),
  signature: z.string().optional(),
  redacted: z.boolean().default(false),
  summary: z.array(z.string()).default([]),
});
export type ReasoningReplay = z.infer<typeof reasoningReplaySchema>;

/** Provider data needed to replay a tool call (its raw item id, opaque provider data). */
export const toolCallReplaySchema = z.object({
  itemId: z.string().optional(),
  opaque: z.json().optional(),
});
export type ToolCallReplay = z.infer<typeof toolCallReplaySchema>;

const partId = z.string();

/**
 * One part of a message. `kind` is the discriminator:
 * - `text`: user or system text; `prose`: assistant prose;
 * - `image`: an attachment (user input, or a tool result when `callId` is set);
 * - `tool_call` / `tool_result`: a native tool call and its result, paired by `callId`;
 * - `reasoning`: model reasoning (sent back only with replay data);
 * - `output` / `error`: runtime notes in system messages (for example the turn-limit message).
 */
export const messagePartSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("text"), id: partId, content: z.string() }),
  z.object({
    kind: z.literal("prose"),
    id: partId,
    content: z.string(),
    responseMeta: responseMetaSchema.optional(),
  }),
  z.object({
    kind: z.literal("image"),
    id: partId,
    attachment: attachmentRefSchema,
    callId: z.string().optional(),
    toolName: z.string().optional(),
  }),
  z.object({
    kind: z.literal("tool_call"),
    id: partId,
    callId: z.string(),
    toolName: z.string(),
    /** The arguments exactly as the model produced them (possibly invalid JSON). */
    inputJson: z.string(),
    replay: toolCallReplaySchema.optional(),
  }),
  z.object({
    kind: z.literal("tool_result"),
    id: partId,
    callId: z.string(),
    toolName: z.string().optional(),
    content: z.string(),
  }),
  z.object({
    kind: z.literal("reasoning"),
    id: partId,
    content: z.string(),
    replay: reasoningReplaySchema.optional(),
  }),
  z.object({ kind: z.literal("output"), id: partId, content: z.string() }),
  z.object({ kind: z.literal("error"), id: partId, content: z.string() }),
]);
export type MessagePart = z.infer<typeof messagePartSchema>;
export type MessagePartKind = MessagePart["kind"];

/**
 * Where a message came from when it was not typed by the user or the model. A `transient` plugin
 * message is sent to the model for the rest of the turn but never persisted.
 */
export const messageOriginSchema = z.object({
  type: z.literal("plugin"),
  pluginId: z.string(),
  transient: z.boolean().default(false),
});
export type MessageOrigin = z.infer<typeof messageOriginSchema>;

/** A conversation message as stored in the session graph. */
export const messageSchema = z.object({
  id: z.string().min(1),
  role: messageRoleSchema,
  parts: z.array(messagePartSchema),
  origin: messageOriginSchema.optional(),
});
export type Message = z.infer<typeof messageSchema>;

/**
 * A message a plugin or host injects into a running turn (at a checkpoint). `parts` wins over
 * `content` when present; assistant-role injections are dropped.
 */
export const pluginMessageSchema = z.object({
  role: messageRoleSchema,
  content: z.string(),
  parts: z.array(messagePartSchema).optional(),
});
export type PluginMessage = z.infer<typeof pluginMessageSchema>;
