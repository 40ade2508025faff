import type { AttachmentRef, AttachmentStore, Message, MessagePart, TurnInput } from "@lash/protocol";
import { detectImageMediaType } from "@lash/protocol";
import { freshMessageId, partId } from "../session/ids.js";

/** A normalised input item: merged text, or a stored image. */
export type NormalizedInputItem =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly attachment: AttachmentRef };

export type NormalizedInput =
  | { readonly ok: true; readonly items: readonly NormalizedInputItem[] }
  | { readonly ok: false; readonly message: string };

// The signatures live in @lash/protocol: every attachment store checks bytes with the same rules.
export { detectImageMediaType };

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

/**
 * Normalises a turn's input items, in order: empty text is skipped, adjacent text items merge with
 * no separator, each image reference is checked (non-empty id, a blob present, a recognised image
 * format) and stored. The input is treated as untrusted: any malformed item is a clear message.
 */
export async function normalizeTurnInput(input: TurnInput, attachments: AttachmentStore): Promise<NormalizedInput> {
  if (typeof input !== "object" || input === null)
    return { ok: false, message: `Invalid turn input: expected an object, got ${describe(input)}` };
  if (!Array.isArray(input.items))
    return { ok: false, message: `Invalid turn input: items must be an array, got ${describe(input.items)}` };
  const blobs = input.imageBlobs ?? {};
  const items: NormalizedInputItem[] = [];
  for (const [index, item] of input.items.entries()) {
    if (typeof item !== "object" || item === null)
      return { ok: false, message: `Invalid input item ${index}: expected an object, got ${describe(item)}` };
    if (item.type === "text") {
      if (typeof item.text !== "string")
        return { ok: false, message: `Invalid input item ${index}: text must be a string, got ${describe(item.text)}` };
      if (item.text === "") continue;
      const previous = items.at(-1);
      if (previous?.type === "text") items[items.length - 1] = { type: "text", text: previous.text + item.text };
      else items.push({ type: "text", text: item.text });
      continue;
    }
    if (item.type === "image_ref") {
      const id = item.id;
      if (typeof id !== "string" || id === "") return { ok: false, message: "Invalid image_ref: id cannot be empty" };
      const bytes: unknown = Object.hasOwn(blobs, id) ? blobs[id] : undefined;
      if (!(bytes instanceof Uint8Array)) return { ok: false, message: `Invalid image_ref: missing blob for id '${id}'` };
      const mediaType = detectImageMediaType(bytes);
      if (!mediaType) return { ok: false, message: `Invalid image_ref: blob for id '${id}' is not a PNG, JPEG, GIF or WebP image` };
      try {
        items.push({ type: "image", attachment: await attachments.put(bytes, { mediaType, label: id }) });
      } catch (error) {
        return { ok: false, message: `Failed to store image_ref '${id}': ${error instanceof Error ? error.message : String(error)}` };
      }
      continue;
    }
    return { ok: false, message: `Invalid input item ${index}: unknown type ${JSON.stringify((item as { type?: unknown }).type)}` };
  }
  return { ok: true, items };
}

/** The turn's user message (one empty text part when the input had nothing). */
export function buildUserMessage(items: readonly NormalizedInputItem[]): Message {
  const id = freshMessageId();
  const parts: MessagePart[] = items.map((item, index) =>
    item.type === "text"
      ? { kind: "text", id: partId(id, index), content: item.text }
      : { kind: "image", id: partId(id, index), attachment: item.attachment },
  );
  if (parts.length === 0) parts.push({ kind: "text", id: partId(id, 0), content: "" });
  return { id, role: "user", parts };
}
