import type { AttachmentGcReport, AttachmentStat } from "../attachment-rules.js";
import type { AttachmentRef } from "../messages.js";

/** Options of `AttachmentStore.put`. */
export interface AttachmentPutOptions {
  /**
   * The media type the caller believes the bytes have. Optional: the store detects it from the
   * bytes, and a declared type that disagrees is refused (`AttachmentMediaTypeError`).
   */
  readonly mediaType?: string | undefined;
  /** A name to show (a file name), copied into the returned reference; not stored with the bytes. */
  readonly label?: string | undefined;
}

/** Options of `AttachmentStore.gc`. */
export interface AttachmentGcOptions {
  /**
   * Blobs stored (or stored again) less than this many milliseconds ago are kept even when no
   * session references them, since the commit that references them may not have landed yet. Default
   * `DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS` (one hour); 0 collects every unreferenced blob, which is
   * only safe while no turn of any session sharing the store is running.
   */
  readonly minimumAgeMs?: number | undefined;
}

/**
 * Content-addressed storage for the binary attachments of messages (images). A blob's id is the hex
 * SHA-256 of its bytes, so the same bytes always have the same id, and one blob serves every
 * message of every session that references it. The rules every implementation applies are in
 * `attachment-rules.ts` (`checkAttachmentPut`, `collectAttachmentIds`, ...); `@lash/testkit`'s
 * `describeAttachmentStoreConformance` checks an implementation against this contract.
 *
 * Every method may be called concurrently. Backend failures are `StoreUnavailableError`; an id that
 * is not 64 lowercase hex digits is never stored (reads answer "not there", never an error), so a
 * hostile id cannot reach a path or a query. Memory: `put` and `get` hold one whole blob;
 * `open` holds one chunk at a time.
 */
export interface AttachmentStore {
  /**
   * Stores `bytes` and returns the reference messages keep (`{ id, mediaType, byteLength, label? }`).
   *
   * - Checked first, nothing stored on failure: not a `Uint8Array` → `LashError("invalid_argument")`;
   *   longer than the store's `maxAttachmentBytes` (default 20 MiB) → `AttachmentTooLargeError`;
   *   bytes that are no PNG, JPEG, GIF or WebP image, or a declared `mediaType` that disagrees with
   *   the bytes → `AttachmentMediaTypeError`. The recorded media type is the detected one.
   * - Idempotent: the same bytes give the same reference (the label aside) and are stored once; a
   *   `put` of bytes already stored renews their `storedAt`, which protects them from a `gc` until
   *   the commit that references them lands.
   * - Durable on return: the blob survives a crash or a power loss from then on, so a commit made
   *   after `put` resolved never references a blob that is not there.
   * - The store keeps its own copy: changing `bytes` afterwards changes nothing stored.
   */
  put(bytes: Uint8Array, options?: AttachmentPutOptions): Promise<AttachmentRef>;
  /**
   * The bytes stored under `id`, whole, or `undefined` when there are none. The caller owns the
   * returned array. For large blobs prefer `open`.
   */
  get(id: string): Promise<Uint8Array | undefined>;
  /**
   * A streaming read: resolves to `undefined` when nothing is stored under `id`, else to an
   * `AsyncIterable` that yields the bytes in order, in chunks of at most `ATTACHMENT_CHUNK_BYTES`
   * (256 KiB), each one the caller's to keep. The blob is read as the iteration goes (one chunk in
   * memory at a time); when it is deleted meanwhile the iteration either still yields all of its
   * bytes (a store that holds them, or a file already open) or throws `AttachmentNotFoundError`,
   * never ends short. Breaking out of the loop releases what the read holds. Works with
   * `Readable.from(iterable)` and `ReadableStream.from(iterable)`.
   */
  open(id: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** True when bytes are stored under `id`. */
  has(id: string): Promise<boolean>;
  /** What is known of the blob under `id` (media type, length, when it was stored), or `undefined`. */
  stat(id: string): Promise<AttachmentStat | undefined>;
  /**
   * Deletes the blob under `id` whatever references it (an erasure request): a message that still
   * references it fails its next model call with `attachment_resolution_failed`. Resolves to true
   * when a blob was deleted, false when there was none. A reader streaming it meanwhile gets all of
   * its bytes or `AttachmentNotFoundError` (see `open`).
   */
  delete(id: string): Promise<boolean>;
  /**
   * Deletes every blob that no stored session references and that was stored at least
   * `minimumAgeMs` ago. A session references the attachments named anywhere in its live graph nodes
   * (messages, tool results) and in its head checkpoint (a suspended turn, plugin snapshots);
   * tombstoned nodes do not count, since no read returns them. Deleting a session therefore makes
   * the blobs only it referenced collectable. A store that sees no sessions (an in-memory store
   * without a reference source) keeps everything. When some session's stored data cannot be read,
   * `gc` deletes nothing and throws (`InvalidPersistedDataError`): what that session references is
   * unknown.
   */
  gc(options?: AttachmentGcOptions): Promise<AttachmentGcReport>;
}
