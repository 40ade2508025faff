import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type {
  AttachmentGcOptions,
  AttachmentGcReport,
  AttachmentPutOptions,
  AttachmentRef,
  AttachmentStat,
  AttachmentStore,
} from "@lash/protocol";
import {
  ATTACHMENT_CHUNK_BYTES,
  AttachmentNotFoundError,
  attachmentGcMinimumAge,
  checkAttachmentPut,
  detectImageMediaType,
  InvalidPersistedDataError,
  isAttachmentId,
  MEDIA_TYPE_SIGNATURE_BYTES,
  TEXT_ATTACHMENT_MEDIA_TYPE,
} from "@lash/protocol";
import { asStoreError, type FileAccess, isMissingFileError, randomHex, TEMPORARY_FILE_PREFIX } from "./file-access.js";

/** The folder of the attachments under a root: `<root>/attachments/<first two hex digits>/<id>`. */
export const ATTACHMENTS_DIRECTORY = "attachments";

/** Prefix of a blob `gc` has set aside to delete (and puts back when a `put` renewed it meanwhile). */
const COLLECTING_PREFIX = ".gc-";

/** What the filesystem attachment store needs from its database object. */
export interface FileAttachmentStoreContext {
  readonly root: string;
  readonly access: FileAccess;
  readonly maxBytes: number;
  /** Every attachment id the root's sessions reference (loaded from their live graphs and head checkpoints). */
  readonly references: () => Promise<Set<string>>;
}

async function closeQuietly(handle: FileHandle | undefined): Promise<void> {
  await handle?.close().catch(() => undefined);
}

/**
 * The attachment store of a filesystem session database (`FileSessionDatabase.attachments`): one
 * file per blob, named by its SHA-256, under `<root>/attachments/`. The file holds the bytes and
 * nothing else: its size is the length, its modification time is `storedAt`, and its media type is
 * read from its first bytes. `put` writes a temporary file, flushes it, renames it into place and
 * flushes the directory, so a blob is whole on disk before `put` resolves (and before any commit that
 * references it); a failed `put` leaves nothing behind. `gc` reads the references from the sessions
 * under the same root. See `AttachmentStore` for the contract.
 */
export class FileAttachmentStore implements AttachmentStore {
  readonly #context: FileAttachmentStoreContext;
  readonly #directory: string;

  /** @internal Use `FileSessionDatabase.attachments`. */
  constructor(context: FileAttachmentStoreContext) {
    this.#context = context;
    this.#directory = join(context.root, ATTACHMENTS_DIRECTORY);
  }

  /** The longest blob `put` accepts, in bytes (the database's `maxAttachmentBytes`). */
  get maxAttachmentBytes(): number {
    return this.#context.maxBytes;
  }

  /** Where the blob `id` lives (for an id that `isAttachmentId` accepts). */
  #path(id: string): string {
    return join(this.#directory, id.slice(0, 2), id);
  }

  get #fileSystem() {
    return this.#context.access.fileSystem;
  }

  async put(bytes: Uint8Array, options: AttachmentPutOptions = {}): Promise<AttachmentRef> {
    const mediaType = checkAttachmentPut(bytes, options.mediaType, this.#context.maxBytes);
    const id = createHash("sha256").update(bytes).digest("hex");
    const path = this.#path(id);
    if (!(await this.#renew(path, bytes.byteLength))) await this.#write(path, bytes);
    const ref: AttachmentRef = { id, mediaType, byteLength: bytes.byteLength };
    if (options.label !== undefined) ref.label = options.label;
    return ref;
  }

  /**
   * Renews the time of a blob already stored, so that a `gc` keeps it until its commit lands. True
   * when the file at `path` is whole and now renewed; false when it must be written. The file must
   * still be at `path` after the renewal: a `gc` that set it aside meanwhile sees the new time and
   * puts it back, or, if it had already decided, the blob is written again.
   */
  async #renew(path: string, byteLength: number): Promise<boolean> {
    let handle: FileHandle | undefined;
    try {
      handle = await this.#fileSystem.open(path, "r");
      const opened = await handle.stat();
      if (opened.size !== byteLength) return false;
      const now = new Date();
      await handle.utimes(now, now);
      const current = await this.#fileSystem.stat(path);
      return current.ino === opened.ino && current.dev === opened.dev;
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw asStoreError(error, "renew the attachment", path);
    } finally {
      await closeQuietly(handle);
    }
  }

  /** Writes the blob: temporary file, flush, rename into place, flush the directory. */
  async #write(path: string, bytes: Uint8Array): Promise<void> {
    const access = this.#context.access;
    const folder = join(path, "..");
    if (await access.ensureDirectory(folder)) {
      // New directory entries, up to the root: each parent is flushed so the folder survives a crash.
      await access.syncDirectory(this.#directory);
      await access.syncDirectory(this.#context.root);
    }
    const temporaryPath = join(folder, `${TEMPORARY_FILE_PREFIX}${randomHex(12)}`);
    try {
      await this.#fileSystem.writeFile(temporaryPath, bytes, { flag: "wx" });
      const handle = await this.#fileSystem.open(temporaryPath, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#fileSystem.rename(temporaryPath, path);
    } catch (error) {
      await access.removeFileQuietly(temporaryPath);
      throw asStoreError(error, "write the attachment", path);
    }
    await access.syncDirectory(folder);
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    if (!isAttachmentId(id)) return undefined;
    const path = this.#path(id);
    try {
      const content = await this.#fileSystem.readFile(path);
      return new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
    } catch (error) {
      if (isMissingFileError(error)) return undefined;
      throw asStoreError(error, "read the attachment", path);
    }
  }

  async open(id: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    if (!(await this.has(id))) return undefined;
    return this.#chunks(id, this.#path(id));
  }

  /** Opens the file when the iteration starts and closes it when it ends (or is abandoned). */
  async *#chunks(id: string, path: string): AsyncGenerator<Uint8Array> {
    let handle: FileHandle | undefined;
    try {
      try {
        handle = await this.#fileSystem.open(path, "r");
      } catch (error) {
        if (isMissingFileError(error)) throw new AttachmentNotFoundError(id);
        throw asStoreError(error, "read the attachment", path);
      }
      for (;;) {
        const buffer = new Uint8Array(ATTACHMENT_CHUNK_BYTES);
        let filled = 0;
        // A read may return less than asked before the end; fill the chunk so every one but the last is whole.
        while (filled < buffer.byteLength) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, null).catch((error: unknown) => {
            throw asStoreError(error, "read the attachment", path);
          });
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled > 0) yield filled === buffer.byteLength ? buffer : buffer.slice(0, filled);
        if (filled < buffer.byteLength) return;
      }
    } finally {
      await closeQuietly(handle);
    }
  }

  async has(id: string): Promise<boolean> {
    return isAttachmentId(id) && (await this.#context.access.exists(this.#path(id)));
  }

  async stat(id: string): Promise<AttachmentStat | undefined> {
    if (!isAttachmentId(id)) return undefined;
    const path = this.#path(id);
    let handle: FileHandle | undefined;
    try {
      handle = await this.#fileSystem.open(path, "r");
      const info = await handle.stat();
      const head = new Uint8Array(MEDIA_TYPE_SIGNATURE_BYTES);
      const { bytesRead } = await handle.read(head, 0, head.byteLength, 0);
      // The file holds only the bytes: an image names itself by its signature; anything else was
      // stored as text, which the whole file must still be (read only here, where it is rare).
      const mediaType = detectImageMediaType(head.subarray(0, bytesRead)) ?? (await textMediaType(handle, info.size));
      if (mediaType === undefined) {
        throw new InvalidPersistedDataError(
          undefined,
          `attachments.${id}`,
          `${path}: the file is neither an image nor UTF-8 text a put would have stored`,
        );
      }
      return { id, mediaType, byteLength: info.size, storedAt: info.mtime.toISOString() };
    } catch (error) {
      if (isMissingFileError(error)) return undefined;
      throw asStoreError(error, "inspect the attachment", path);
    } finally {
      await closeQuietly(handle);
    }
  }

  async delete(id: string): Promise<boolean> {
    if (!isAttachmentId(id)) return false;
    const path = this.#path(id);
    try {
      await this.#fileSystem.unlink(path);
      return true;
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw asStoreError(error, "delete the attachment", path);
    }
  }

  async gc(options: AttachmentGcOptions = {}): Promise<AttachmentGcReport> {
    const minimumAgeMs = attachmentGcMinimumAge(options.minimumAgeMs);
    const cutoff = Date.now() - minimumAgeMs;
    // References first: a session that cannot be read throws here, before anything is deleted.
    const referenced = await this.#context.references();
    const access = this.#context.access;
    let retainedCount = 0;
    let deletedCount = 0;
    let deletedBytes = 0;
    for (const prefix of await access.listDirectory(this.#directory)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      const folder = join(this.#directory, prefix);
      for (const name of await access.listDirectory(folder)) {
        const path = join(folder, name);
        if (name.startsWith(TEMPORARY_FILE_PREFIX) || name.startsWith(COLLECTING_PREFIX)) {
          // Left by a put or a gc that was killed; nothing names these files.
          if (await this.#olderThan(path, cutoff)) await access.removeFileQuietly(path);
          continue;
        }
        if (!isAttachmentId(name)) continue;
        if (referenced.has(name)) {
          retainedCount += 1;
          continue;
        }
        const removed = await this.#collect(path, folder, cutoff);
        if (removed === undefined) retainedCount += 1;
        else {
          deletedCount += 1;
          deletedBytes += removed;
        }
      }
    }
    return { referencedCount: referenced.size, retainedCount, deletedCount, deletedBytes };
  }

  async #olderThan(path: string, cutoff: number): Promise<boolean> {
    try {
      return (await this.#fileSystem.stat(path)).mtimeMs <= cutoff;
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw asStoreError(error, "inspect", path);
    }
  }

  /**
   * Deletes one unreferenced blob when it is older than `cutoff`; returns its size, or `undefined`
   * when it was kept. The file is first renamed aside, then its time is read again: a `put` that
   * renewed it in between (it holds the file open) is seen, and the file goes back in place.
   */
  async #collect(path: string, folder: string, cutoff: number): Promise<number | undefined> {
    if (!(await this.#olderThan(path, cutoff))) return undefined;
    const aside = join(folder, `${COLLECTING_PREFIX}${randomHex(12)}`);
    if (!(await this.#context.access.rename(path, aside))) return undefined;
    const info = await this.#fileSystem.stat(aside).catch((error: unknown) => {
      throw asStoreError(error, "inspect", aside);
    });
    if (info.mtimeMs > cutoff) {
      // Renewed meanwhile: back in place (a put may have written the same bytes there already).
      await this.#context.access.rename(aside, path);
      return undefined;
    }
    await this.#context.access.removeFile(aside);
    return info.size;
  }
}

/** `TEXT_ATTACHMENT_MEDIA_TYPE` when the whole file is UTF-8 text, else `undefined`. */
async function textMediaType(handle: FileHandle, size: number): Promise<string | undefined> {
  const bytes = new Uint8Array(size);
  const { bytesRead } = await handle.read(bytes, 0, size, 0);
  try {
    return checkAttachmentPut(bytes.subarray(0, bytesRead), TEXT_ATTACHMENT_MEDIA_TYPE, Number.MAX_SAFE_INTEGER);
  } catch {
    return undefined;
  }
}
