import type { AttachmentRef, AttachmentStore } from "@lash/protocol";
import { sha256Hex } from "./ids.js";

/** The default attachment store: content-addressed, in process memory. */
export class InMemoryAttachmentStore implements AttachmentStore {
  readonly #blobs = new Map<string, Uint8Array>();

  async put(bytes: Uint8Array, options: { mediaType: string; label?: string }): Promise<AttachmentRef> {
    const id = sha256Hex(bytes);
    // Copy so a caller reusing its buffer cannot change stored content.
    if (!this.#blobs.has(id)) this.#blobs.set(id, new Uint8Array(bytes));
    const ref: AttachmentRef = { id, mediaType: options.mediaType, byteLength: bytes.byteLength };
    if (options.label !== undefined) ref.label = options.label;
    return ref;
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const bytes = this.#blobs.get(id);
    return bytes ? new Uint8Array(bytes) : undefined;
  }
}
