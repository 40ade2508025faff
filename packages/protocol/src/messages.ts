import { z } from "zod";

/** Who wrote a message. Tool results are `user` messages, as the providers expect. */
export const messageRoleSchema = z.enum(["user", "assistant", "system"]);
export type MessageRole = z.infer<typeof messageRoleSchema>;

/**
 * A stored image (or other binary attachment). `id` is the hex SHA-256 of the bytes, so the same
 * bytes always get the same id; `mediaType` is detected from the bytes.
 */
export const attachmentRefSchema = z.object({
  /** Hex SHA-256 of the bytes: the key in the `AttachmentStore`. */
  id: z.string().min(1),
  /** The MIME type detected from the bytes (`image/png`, ...). */
  mediaType: z.string().min(1),
  /** Size of the bytes. */
  byteLength: z.number().int().nonnegative(),
  /** A name to show (a file name); absent when the host gave none. */
  label: z.string().optional(),
});
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;

/** Provider metadata of a text item (its raw item id and, for the Responses API, its phase). */
export const responseMetaSchema = z.object({
  /** The provider's id of the item (a Responses `msg_...` id); absent when it gave none. */
  id: z.string().optional(),
  /** The item's status as the provider reported it (`completed`, `incomplete`); absent when it gave none. */
  status: z.string().optional(),
  /** Whether the text is commentary between tool calls or the final answer; absent when the provider does not say. */
  phase: z.enum(["commentary", "final_answer"]).optional(),
});
export type ResponseMeta = z.infer<typeof responseMetaSchema>;

/**
 * What a provider needs to replay a reasoning item on the next call (encrypted content, signature,
 * summaries). A reasoning part without replay data is display-only and never sent back.
 */
export const reasoningReplaySchema = z.object({
  /** The provider's id of the reasoning item (Responses `rs_...`); absent when it has none. */
  itemId: z.string().optional(),
  /** Opaque reasoning the provider encrypted (Responses `encrypted_content`, Anthropic redacted data); absent when none. */
  encryptedContent: z.string().optional(),
  /** The provider's signature over the reasoning text (Anthropic thinking); absent when none. */
  signature: z.string().optional(),
  /** True when the provider withheld the text (only `encryptedContent` can be sent back). */
  redacted: z.boolean().default(false),
  /** The reasoning summary parts, in order (empty when the provider sent none). */
  summary: z.array(z.string()).default([]),
});
export type ReasoningReplay = z.infer<typeof reasoningReplaySchema>;

/** Provider data needed to replay a tool call (its raw item id, opaque provider data). */
export const toolCallReplaySchema = z.object({
  /** The provider's id of the call item (Responses `fc_...`); absent when it has none. */
  itemId: z.string().optional(),
  /** Provider data the adapter sends back as it received it; absent when none. */
  opaque: z.json().optional(),
});
export type ToolCallReplay = z.infer<typeof toolCallReplaySchema>;

/** The part's id, unique within its message. */
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
  z.object({
    kind: z.literal("text"),
    id: partId,
    /** The text. */
    content: z.string(),
  }),
  z.object({
    kind: z.literal("prose"),
    id: partId,
    /** The assistant's text. */
    content: z.string(),
    /** The provider metadata the text came with; absent when it had none. */
    responseMeta: responseMetaSchema.optional(),
  }),
  z.object({
    kind: z.literal("image"),
    id: partId,
    /** The stored bytes. */
    attachment: attachmentRefSchema,
    /** The tool call that produced the image; absent for an image the user sent. */
    callId: z.string().optional(),
    /** The tool that produced the image; absent for an image the user sent. */
    toolName: z.string().optional(),
  }),
  z.object({
    kind: z.literal("tool_call"),
    id: partId,
    /** The call id; its `tool_result` carries the same. */
    callId: z.string(),
    /** The tool's name. */
    toolName: z.string(),
    /** The arguments exactly as the model produced them (possibly invalid JSON). */
    inputJson: z.string(),
    /** Provider data to send the call back with; absent when none. */
    replay: toolCallReplaySchema.optional(),
  }),
  z.object({
    kind: z.literal("tool_result"),
    id: partId,
    /** The `callId` of the call this answers. */
    callId: z.string(),
    /** The tool's name; absent when unknown. */
    toolName: z.string().optional(),
    /** The result as the model reads it. */
    content: z.string(),
  }),
  z.object({
    kind: z.literal("reasoning"),
    id: partId,
    /** The reasoning text (empty when the provider withheld it). */
    content: z.string(),
    /** What the provider needs to receive it back; absent = display-only, never sent. */
    replay: reasoningReplaySchema.optional(),
  }),
  z.object({
    kind: z.literal("output"),
    id: partId,
    /** A note of the runtime or the mode. */
    content: z.string(),
  }),
  z.object({
    kind: z.literal("error"),
    id: partId,
    /** An error the runtime or the mode reports in the conversation. */
    content: z.string(),
  }),
]);
export type MessagePart = z.infer<typeof messagePartSchema>;
export type MessagePartKind = MessagePart["kind"];

/**
 * Where a message came from when it was not typed by the user or the model. A `transient` plugin
 * message is sent to the model for the rest of the turn but never persisted.
 */
export const messageOriginSchema = z.object({
  type: z.literal("plugin"),
  /** The plugin that added the message. */
  pluginId: z.string(),
  /** True: sent to the model for the rest of the turn, never persisted (default `false`). */
  transient: z.boolean().default(false),
});
export type MessageOrigin = z.infer<typeof messageOriginSchema>;

/** A conversation message as stored in the session graph. */
export const messageSchema = z.object({
  /** Unique within the session; also the id of the graph node that holds the message. */
  id: z.string().min(1),
  /** Who wrote it. */
  role: messageRoleSchema,
  /** The content, in order. */
  parts: z.array(messagePartSchema),
  /** Set for a message a plugin added; absent for the user's, the model's and the runtime's own. */
  origin: messageOriginSchema.optional(),
});
export type Message = z.infer<typeof messageSchema>;

/**
 * A message a plugin or host injects into a running turn (at a checkpoint). `parts` wins over
 * `content` when present; assistant-role injections are dropped.
 */
export const pluginMessageSchema = z.object({
  /** `user` or `system` (`assistant` is dropped). */
  role: messageRoleSchema,
  /** The text, used when `parts` is absent. */
  content: z.string(),
  /** The full content; absent = one text part with `content`. */
  parts: z.array(messagePartSchema).optional(),
});
export type PluginMessage = z.infer<typeof pluginMessageSchema>;
