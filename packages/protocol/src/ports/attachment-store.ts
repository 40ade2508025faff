import type { AttachmentRef } from "../messages.js";

/**
 * Content-addressed storage for turn attachments (images). `put` of the same bytes returns the same
 * id (the hex SHA-256 of the bytes); `get` of an unknown id returns `undefined`.
 */
export interface AttachmentStore {
  put(bytes: Uint8Array, options: { mediaType: string; label?: string }): Promise<AttachmentRef>;
  get(id: string): Promise<Uint8Array | undefined>;
}
