import type {
  AttachmentGcOptions,
  AttachmentGcReport,
  AttachmentPutOptions,
  AttachmentRef,
  AttachmentStat,
  AttachmentStore,
} from "@lash/protocol";
import { ATTACHMENT_CHUNK_BYTES, attachmentByteLimit, attachmentGcMinimumAge, checkAttachmentPut, isAttachmentId } from "@lash/protocol";
import { sha256Hex } from "./ids.js";

/** Options of the in-memory attachment store. */
export interface InMemoryAttachmentStoreOptions {
  /** The longest blob `put` accepts, in bytes (default 20 MiB, `DEFAULT_MAX_ATTACHMENT_BYTES`). */
  readonly maxAttachmentBytes?: number | undefined;
  /**
   * The ids of the attachments the host's sessions reference, asked for by each `gc`. Without it the
   * store sees no sessions, and `gc` keeps every blob.
   */
  readonly references?: (() => Iterable<string> | Promise<Iterable<string>>) | undefined;
}

interface StoredBlob {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  storedAt: string;
}

/**
 * The default attachment store: content-addressed, in process memory, gone with the process. A
 * runtime built on a durable session store uses that store's `attachments` instead; this one is for
 * runtimes without a store and for tests.
 */
export class InMemoryAttachmentStore implements AttachmentStore {
  readonly #blobs = new Map<string, StoredBlob>();
  readonly #maxBytes: number;
  readonly #references: InMemoryAttachmentStoreOptions["references"];

  constructor(options: InMemoryAttachmentStoreOptions = {}) {
    this.#maxBytes = attachmentByteLimit(options.maxAttachmentBytes);
    this.#references = options.references;
  }

  async put(bytes: Uint8Array, options: AttachmentPutOptions = {}): Promise<AttachmentRef> {
    const mediaType = checkAttachmentPut(bytes, options.mediaType, this.#maxBytes);
    const id = sha256Hex(bytes);
    const storedAt = new Date().toISOString();
    const existing = this.#blobs.get(id);
    // Copy so a caller reusing its buffer cannot change stored content.
    if (existing === undefined) this.#blobs.set(id, { bytes: new Uint8Array(bytes), mediaType, storedAt });
    else existing.storedAt = storedAt;
    const ref: AttachmentRef = { id, mediaType, byteLength: bytes.byteLength };
    if (options.label !== undefined) ref.label = options.label;
    return ref;
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const blob = this.#find(id);
    return blob ? new Uint8Array(blob.bytes) : undefined;
  }

  async open(id: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const blob = this.#find(id);
    if (blob === undefined) return undefined;
    const { bytes } = blob;
    return (async function* chunks() {
      for (let start = 0; start < bytes.byteLength; start += ATTACHMENT_CHUNK_BYTES) {
        yield bytes.slice(start, start + ATTACHMENT_CHUNK_BYTES);
      }
    })();
  }

  async has(id: string): Promise<boolean> {
    return this.#find(id) !== undefined;
  }

  async stat(id: string): Promise<AttachmentStat | undefined> {
    const blob = this.#find(id);
    return blob === undefined ? undefined : { id, mediaType: blob.mediaType, byteLength: blob.bytes.byteLength, storedAt: blob.storedAt };
  }

  async delete(id: string): Promise<boolean> {
    return isAttachmentId(id) && this.#blobs.delete(id);
  }

  async gc(options: AttachmentGcOptions = {}): Promise<AttachmentGcReport> {
    const minimumAgeMs = attachmentGcMinimumAge(options.minimumAgeMs);
    if (this.#references === undefined) {
      return { referencedCount: 0, retainedCount: this.#blobs.size, deletedCount: 0, deletedBytes: 0 };
    }
    const referenced = new Set(await this.#references());
    const cutoff = new Date(Date.now() - minimumAgeMs).toISOString();
    let deletedCount = 0;
    let deletedBytes = 0;
    for (const [id, blob] of this.#blobs) {
      if (referenced.has(id) || blob.storedAt > cutoff) continue;
      this.#blobs.delete(id);
      deletedCount += 1;
      deletedBytes += blob.bytes.byteLength;
    }
    return { referencedCount: referenced.size, retainedCount: this.#blobs.size, deletedCount, deletedBytes };
  }

  #find(id: string): StoredBlob | undefined {
    return isAttachmentId(id) ? this.#blobs.get(id) : undefined;
  }
}
