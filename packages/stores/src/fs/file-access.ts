import { randomBytes } from "node:crypto";
import * as nodeFileSystem from "node:fs/promises";
import { dirname, join } from "node:path";
import { LashError, StoreUnavailableError } from "@lash/protocol";

/**
 * The `node:fs/promises` functions the filesystem store uses. The default is `node:fs/promises`
 * itself; a test may pass a copy with one function replaced to cause a fault it cannot cause
 * otherwise (a full disk, an I/O error).
 */
export type FileSystemOperations = Pick<
  typeof nodeFileSystem,
  "link" | "mkdir" | "open" | "readFile" | "readdir" | "rename" | "rm" | "stat" | "unlink" | "writeFile"
>;

export const defaultFileSystem: FileSystemOperations = nodeFileSystem;

/** Prefix of temporary files; every reader ignores names that start with it. */
export const TEMPORARY_FILE_PREFIX = ".tmp-";

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`, ...), or `undefined`. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** True for "there is no such file" (a missing parent directory counts). */
export function isMissingFileError(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Wraps an I/O failure (EACCES, ENOSPC, EIO, ...) as the `StoreUnavailableError` callers may retry;
 * errors lash already classified pass through.
 */
export function asStoreError(error: unknown, operation: string, path: string): Error {
  if (LashError.isInstance(error)) return error;
  const code = errorCode(error);
  return new StoreUnavailableError(`filesystem store could not ${operation} \`${path}\`${code === undefined ? "" : ` (${code})`}`, {
    cause: error,
  });
}

/** Random lowercase hex, for temporary names, lock tokens and lineages. */
export function randomHex(byteCount: number): string {
  return randomBytes(byteCount).toString("hex");
}

/**
 * The file operations of the store, each either done or failed with a typed error. Every write goes
 * to a unique temporary file in the target's directory, is flushed to disk, and is renamed over the
 * target, so a reader (or a process that survives a crash) sees the old file or the new one, never a
 * torn one. Directory entries are made durable with {@link FileAccess.syncDirectory}, which the
 * caller orders (data files before the file that references them).
 */
export class FileAccess {
  readonly fileSystem: FileSystemOperations;

  constructor(fileSystem: FileSystemOperations = defaultFileSystem) {
    this.fileSystem = fileSystem;
  }

  /** The file's text, or `undefined` when it does not exist. */
  async readTextIfExists(path: string): Promise<string | undefined> {
    try {
      return await this.fileSystem.readFile(path, "utf8");
    } catch (error) {
      if (isMissingFileError(error)) return undefined;
      throw asStoreError(error, "read", path);
    }
  }

  /** True when `path` exists. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.fileSystem.stat(path);
      return true;
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw asStoreError(error, "inspect", path);
    }
  }

  /** The names in a directory, or none when the directory does not exist. */
  async listDirectory(path: string): Promise<string[]> {
    try {
      return await this.fileSystem.readdir(path);
    } catch (error) {
      if (isMissingFileError(error)) return [];
      throw asStoreError(error, "list", path);
    }
  }

  /**
   * Creates a directory and its missing parents. Returns true when something was created, so the
   * caller knows it must make the new entries durable.
   */
  async ensureDirectory(path: string): Promise<boolean> {
    try {
      return (await this.fileSystem.mkdir(path, { recursive: true })) !== undefined;
    } catch (error) {
      throw asStoreError(error, "create the directory", path);
    }
  }

  /**
   * Replaces `path` with `content` atomically (temporary file, flush, rename). The new directory entry
   * is not yet durable: call {@link syncDirectory} on the parent when the rename must survive a crash.
   */
  async writeAtomically(path: string, content: string): Promise<void> {
    const temporaryPath = join(dirname(path), `${TEMPORARY_FILE_PREFIX}${randomHex(12)}`);
    try {
      await this.fileSystem.writeFile(temporaryPath, content, { encoding: "utf8", flag: "wx" });
      const handle = await this.fileSystem.open(temporaryPath, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.fileSystem.rename(temporaryPath, path);
    } catch (error) {
      // A failed write leaves the target as it was; the temporary file is removed when possible and
      // ignored (then cleaned by maintenance) when not.
      await this.removeFileQuietly(temporaryPath);
      throw asStoreError(error, "write", path);
    }
  }

  /**
   * Flushes a directory's entries (the renames and creations in it) to disk. Platforms that cannot
   * open a directory for flushing (Windows) skip it; their renames are durable on return.
   */
  async syncDirectory(path: string): Promise<void> {
    let handle: nodeFileSystem.FileHandle | undefined;
    try {
      handle = await this.fileSystem.open(path, "r");
      await handle.sync();
    } catch (error) {
      const code = errorCode(error);
      if (code === "EISDIR" || code === "EPERM" || code === "EINVAL" || code === "EBADF") return;
      throw asStoreError(error, "flush the directory", path);
    } finally {
      await handle?.close();
    }
  }

  /** Moves an entry; a missing source is reported as `false`. */
  async rename(from: string, to: string): Promise<boolean> {
    try {
      await this.fileSystem.rename(from, to);
      return true;
    } catch (error) {
      if (isMissingFileError(error)) return false;
      throw asStoreError(error, "rename", from);
    }
  }

  /** Deletes a file; a file that is already gone is fine. */
  async removeFile(path: string): Promise<void> {
    try {
      await this.fileSystem.unlink(path);
    } catch (error) {
      if (isMissingFileError(error)) return;
      throw asStoreError(error, "delete", path);
    }
  }

  /** Deletes a file when possible: for leftovers that nothing trusts, whose removal may wait. */
  async removeFileQuietly(path: string): Promise<void> {
    try {
      await this.fileSystem.unlink(path);
    } catch {
      // Left for the next maintenance run; nothing reads it.
    }
  }

  /** Deletes a directory tree; a tree that is already gone is fine. */
  async removeTree(path: string): Promise<void> {
    try {
      await this.fileSystem.rm(path, { recursive: true, force: true });
    } catch (error) {
      throw asStoreError(error, "delete", path);
    }
  }
}
