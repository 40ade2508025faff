import type { Message, MessagePart, PluginMessage } from "@lash/protocol";
import { freshMessageId, partId } from "./ids.js";

/**
 * Turns a plugin or injected message into a conversation message. An empty `parts` becomes one text
 * part from `content`; part ids are renumbered under the new message id.
 */
export function messageFromPluginMessage(message: PluginMessage, options: { pluginId: string; transient: boolean }): Message {
  const id = freshMessageId();
  const source: readonly MessagePart[] =
    message.parts && message.parts.length > 0 ? message.parts : [{ kind: "text", id: "", content: message.content }];
  return {
    id,
    role: message.role,
    parts: source.map((part, index) => ({ ...part, id: partId(id, index) })),
    origin: { type: "plugin", pluginId: options.pluginId, transient: options.transient },
  };
}
