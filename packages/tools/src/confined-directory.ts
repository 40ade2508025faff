import type { Dirent, Stats } from "node:fs";
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { lstat, mkdir, open, readdir, unlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ToolError } from "@lash/protocol";
import {
  changedError,
  errorCode,
  escapedError,
  fileSystemError,
  notADirectoryError,
  notFoundError,
  notRegularFileError,
} from "./confinement-errors.js";
import { fdPath, fdPathsAvailable, openedPath } from "./fd-paths.js";
import type { ConfiningPathGuard } from "./path-guard.js";

// Not defined on Windows, where `open` has none of these flags; the checks after opening still apply.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
/** A pipe opens at once instead of waiting for the other end; no effect on regular files. */
const NON_BLOCK = constants.O_NONBLOCK ?? 0;
/** Opening a terminal must not make it the process's controlling terminal. */
const NO_CTTY = constants.O_NOCTTY ?? 0;
const DIRECTORY = constants.O_DIRECTORY ?? 0;

const FOLDER_FLAGS = constants.O_RDONLY | DIRECTORY | NO_FOLLOW | NON_BLOCK;
const READ_FLAGS = constants.O_RDONLY | NO_FOLLOW | NON_BLOCK | NO_CTTY;
const WRITE_FLAGS = constants.O_WRONLY | NO_FOLLOW | NON_BLOCK | NO_CTTY;
/** `O_EXCL`: a file is created only when nothing is there, never a file (or link) that appeared meanwhile. */
const CREATE_FLAGS = WRITE_FLAGS | constants.O_CREAT | constants.O_EXCL;

/** How often one open looks again when another process keeps creating or removing the same name. */
const MAX_ATTEMPTS = 4;

/** A file opened by `ConfinedDirectory.openFile`: a regular file, checked once open. */
export interface OpenedFile {
  readonly handle: FileHandle;
  /** `fstat` of the open file. */
  readonly info: Stats;
  /** True when this open created the file. */
  readonly created: boolean;
}

/**
 * A folder inside the allowed directories, opened and checked once, through which its children
 * are opened. With `/proc/self/fd` (Linux) the folder is held open and every child is reached
 * through that descriptor (`fdPath`), never by its path again, and every opened child is checked
 * by its real path: a folder swapped for a link after the check cannot redirect anything. Without
 * it the folder is just a path and each open is checked by path afterwards (see the README).
 */
export class ConfinedDirectory {
  private constructor(
    private readonly guard: ConfiningPathGuard,
    /** Where the folder is, as the guard resolved it: what answers show. */
    readonly path: string,
    /** The open folder, with `/proc/self/fd`; `undefined` in the fallback by path. */
    private readonly handle: FileHandle | undefined,
  ) {}

  /** Opens `base`, an allowed directory (or `/` when any path is allowed), and checks it is still there. */
  static async openBase(guard: ConfiningPathGuard, base: string): Promise<ConfinedDirectory> {
    if (!(await fdPathsAvailable())) return new ConfinedDirectory(guard, base, undefined);
    const display = guard.display(base);
    let handle: FileHandle;
    try {
      handle = await open(base, FOLDER_FLAGS);
    } catch (error) {
      const code = errorCode(error);
      throw code === "ENOTDIR" || code === "ELOOP" ? changedError(display) : fileSystemError(display, "open", error);
    }
    const directory = new ConfinedDirectory(guard, base, handle);
    // The base itself must be the allowed directory, not something swapped into its place.
    const real = await openedPath(handle.fd).catch(() => undefined);
    if (real !== base) {
      await directory.close();
      throw escapedError(display);
    }
    return directory;
  }

  /** Where a child is reached: through the open folder, or (fallback) by path. */
  private child(name: string): string {
    return this.handle === undefined ? join(this.path, name) : fdPath(this.handle.fd, name);
  }

  private display(name: string): string {
    return this.guard.display(join(this.path, name));
  }

  /** The folder's entries. */
  list(): Promise<Dirent[]> {
    return readdir(this.handle === undefined ? this.path : fdPath(this.handle.fd), { withFileTypes: true });
  }

  /** What `name` is, without following a link; `undefined` when nothing is there. */
  async lstat(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.child(name));
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw fileSystemError(this.display(name), "inspect", error);
    }
  }

  /** Opens the child folder `name`, creating it first when missing and `create` is set. */
  async openDirectory(name: string, create: boolean): Promise<ConfinedDirectory> {
    const path = join(this.path, name);
    const display = this.display(name);
    const target = this.child(name);
    // `mkdir` never follows a link in the last place: a link there fails with EEXIST, and is refused below.
    const makeFolder = (): Promise<void> =>
      mkdir(target).then(
        () => undefined,
        (error: unknown) => {
          if (errorCode(error) !== "EEXIST") throw fileSystemError(display, "create", error);
        },
      );
    if (this.handle === undefined) {
      if (create) await makeFolder();
      const info = await this.lstat(name);
      if (info === undefined) throw notFoundError(display, "open");
      if (info.isSymbolicLink()) throw changedError(display);
      if (!info.isDirectory()) throw notADirectoryError(display);
      return new ConfinedDirectory(this.guard, path, undefined);
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      let handle: FileHandle;
      try {
        handle = await open(target, FOLDER_FLAGS);
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT" && create) {
          await makeFolder();
          continue;
        }
        // `O_DIRECTORY | O_NOFOLLOW` refuses a link and a file alike (ENOTDIR): tell them apart.
        if (code === "ENOTDIR" || code === "ELOOP") {
          const info = await this.lstat(name);
          if (info?.isSymbolicLink() === true) throw changedError(display);
          if (info !== undefined && !info.isDirectory()) throw notADirectoryError(display);
          continue;
        }
        throw fileSystemError(display, "open", error);
      }
      const directory = new ConfinedDirectory(this.guard, path, handle);
      try {
        await this.check(handle, display);
        return directory;
      } catch (error) {
        await directory.close();
        throw error;
      }
    }
    throw keptChangingError(display);
  }

  /**
   * Opens the regular file `name` for reading or writing (`create`: creating it when missing).
   * Nothing else is ever opened for reading or writing: a pipe, socket or device is refused by
   * `lstat` before opening, and by `fstat` of the open file, which is the check that counts; the
   * open never blocks (`O_NONBLOCK`) nor follows a link (`O_NOFOLLOW`). A file this call created and
   * then refused is removed before the error is thrown, so a refused write leaves nothing behind.
   */
  async openFile(name: string, access: "read" | "write", create = false): Promise<OpenedFile> {
    const path = join(this.path, name);
    const display = this.display(name);
    const target = this.child(name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      // Refused before it is opened when possible: opening a device can have effects of its own.
      const before = await this.lstat(name);
      if (before?.isSymbolicLink() === true) throw changedError(display);
      if (before !== undefined && !before.isFile()) throw notRegularFileError(display, before);
      const creating = before === undefined;
      if (creating && !(access === "write" && create)) throw notFoundError(display, access);
      let handle: FileHandle;
      try {
        handle = await open(target, creating ? CREATE_FLAGS : access === "read" ? READ_FLAGS : WRITE_FLAGS, 0o666);
      } catch (error) {
        const code = errorCode(error);
        // Created (EEXIST) or removed (ENOENT) since the `lstat`: look again.
        if ((creating && code === "EEXIST") || (!creating && code === "ENOENT" && create)) continue;
        if (code === "ELOOP") throw changedError(display);
        // A pipe with no reader (opened for writing) or a socket that replaced the file: name it.
        if (code === "ENXIO") {
          const now = await this.lstat(name).catch(() => undefined);
          if (now !== undefined && !now.isFile()) throw notRegularFileError(display, now);
        }
        throw fileSystemError(display, access, error);
      }
      let info: Stats | undefined;
      try {
        info = await handle.stat();
        if (!info.isFile()) throw notRegularFileError(display, info);
        await this.checkFile(handle, path, display, info);
        return { handle, info, created: creating };
      } catch (error) {
        // Only what this call created, and only while the name is still that very file.
        if (creating && info !== undefined) await this.removeCreated(target, info);
        await handle.close().catch(() => undefined);
        throw fileSystemError(display, access, error);
      }
    }
    throw keptChangingError(display);
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
  }

  /**
   * The check of an opened child, with `/proc/self/fd`: its real path, read back from the kernel,
   * must be inside the allowed directories. Being reached through this checked folder is not
   * enough on its own: the folder may have been moved out of the workspace since it was checked.
   */
  private async check(handle: FileHandle, display: string): Promise<void> {
    const real = await openedPath(handle.fd).catch(() => undefined);
    if (real === undefined || !this.guard.allows(real)) throw escapedError(display);
  }

  /**
   * The check of an opened file. Fallback without `/proc/self/fd`: the path must still resolve to
   * itself (no link on the way) and name the same file (device and inode) as the one that is open.
   * That is a second resolution, so a swap timed between the two can still slip through.
   */
  private async checkFile(handle: FileHandle, path: string, display: string, info: Stats): Promise<void> {
    if (this.handle !== undefined) return this.check(handle, display);
    const [again, named] = await Promise.all([this.guard.resolve(path), lstat(path)]);
    if (again !== path || named.ino !== info.ino || named.dev !== info.dev) throw changedError(display);
  }

  /** Removes a file this open created, through the same folder, if the name still holds that file. */
  private async removeCreated(target: string, info: Stats): Promise<void> {
    try {
      const now = await lstat(target);
      if (now.ino === info.ino && now.dev === info.dev) await unlink(target);
    } catch {
      // Already gone, or replaced by something that is not ours: nothing to remove.
    }
  }
}

function keptChangingError(display: string): ToolError {
  return new ToolError({
    class: "conflict",
    code: "path_changing",
    message: `${display} kept changing while it was being opened (another process is creating and removing it); nothing was read or written`,
  });
}

/**
 * Opens the folder `absolute` (a path the guard resolved) by walking down from the allowed
 * directory that holds it, one name at a time, each opened without following a link: the walk
 * never leaves that directory by a link, whatever is swapped meanwhile. `create` makes missing
 * folders on the way (each inside a folder already opened and checked).
 */
export async function openConfinedDirectory(
  guard: ConfiningPathGuard,
  absolute: string,
  options: { readonly create: boolean },
): Promise<ConfinedDirectory> {
  const base = guard.baseOf(absolute);
  if (base === undefined) throw escapedError(guard.display(absolute));
  const names = relative(base, absolute)
    .split(sep)
    .filter((name) => name !== "");
  let directory = await ConfinedDirectory.openBase(guard, base);
  try {
    for (const name of names) {
      const next = await directory.openDirectory(name, options.create);
      await directory.close();
      directory = next;
    }
    return directory;
  } catch (error) {
    await directory.close();
    throw error;
  }
}
