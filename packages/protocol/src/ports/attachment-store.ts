import type { AttachmentRef } from "../messages.js";

/**
 * Content-addressed storage for turn attachments (images). `put` of the same bytes returns the same
 * id (the hex SHA-256 of the bytes); `get` of an unknown id returns `undefined`.
 */
export interface AttachmentStore {
  /**
   * Stores the bytes (idempotent: the same bytes return the same reference) and returns the
   * reference messages keep. `mediaType` is what the host detected; `label` is a name to show.
   */
  put(bytes: Uint8Array, options: { mediaType: string; label?: string }): Promise<AttachmentRef>;
  /** The bytes stored under `id` (the hex SHA-256 `put` returned), or `undefined` when there are none. */
  get(id: string): Promise<Uint8Array | undefined>;
}
