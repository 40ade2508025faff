import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ToolError } from "@lash/protocol";
import type { OpenedFile } from "./confined-directory.js";
import { openConfinedDirectory } from "./confined-directory.js";
import { fileSystemError, notFoundError } from "./confinement-errors.js";
import type { ConfiningPathGuard } from "./path-guard.js";

/**
 * Opens the regular file `absolute` (a path `guard.resolve` answered) for reading or writing, with
 * the guarantees of `ConfinedDirectory.openFile`: reached from the allowed directory one folder at a
 * time without following links, refused unless a regular file, and (Linux) refused unless its
 * real path, read from the open descriptor, is inside the allowed directories. `create` (writing
 * only) creates it, and missing folders on the way, when it does not exist. Every failure is a
 * `ToolError`. The caller closes `handle`.
 */
export async function openConfinedFile(
  guard: ConfiningPathGuard,
  absolute: string,
  access: "read" | "write",
  options: { readonly create?: boolean } = {},
): Promise<OpenedFile> {
  const display = guard.display(absolute);
  const create = access === "write" && options.create === true;
  if (guard.baseOf(absolute) === absolute)
    throw new ToolError({ class: "invalid_request", code: "not_a_file", message: `${display} is a directory` });
  try {
    const directory = await openConfinedDirectory(guard, dirname(absolute), { create });
    try {
      return await directory.openFile(basename(absolute), access, create);
    } finally {
      await directory.close();
    }
  } catch (error) {
    // A missing folder on the way is a missing file, named as the model wrote it.
    if (ToolError.isInstance(error) && error.failureCode === "file_not_found") throw notFoundError(display, access);
    throw fileSystemError(display, access, error);
  }
}

/** The whole content of a confined regular file as UTF-8 text. */
export async function readConfinedFile(guard: ConfiningPathGuard, absolute: string): Promise<string> {
  const { handle } = await openConfinedFile(guard, absolute, "read");
  try {
    return await handle.readFile("utf8");
  } catch (error) {
    throw fileSystemError(guard.display(absolute), "read", error);
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the content of a confined regular file; `create` (default true) creates it and its
 * folders when missing. Answers whether it was created.
 *
 * The content goes through the very descriptor that was checked, never through the path again:
 * the file is truncated only once checked, so a refused file is never emptied. Deliberately not a
 * temporary file renamed into place: `rename` resolves its destination path afresh, which is the
 * resolution a concurrent swap subverts (it could replace a file outside), and it would also give
 * the file a new inode, losing its owner, mode and hard links. The price is the one of any
 * in-place write: a crash halfway leaves the file partly written.
 */
export async function writeConfinedFile(
  guard: ConfiningPathGuard,
  absolute: string,
  content: string,
  options: { readonly create?: boolean } = {},
): Promise<{ readonly created: boolean }> {
  const { handle, created } = await openConfinedFile(guard, absolute, "write", { create: options.create ?? true });
  try {
    await handle.truncate(0);
    await handle.writeFile(content, "utf8");
    return { created };
  } catch (error) {
    throw fileSystemError(guard.display(absolute), "write", error);
  } finally {
    await handle.close();
  }
}

/**
 * What is at `absolute` (a path `guard.resolve` answered), without following a final link, looked
 * up from a folder reached like `openConfinedFile` does; `undefined` when it or a folder on the way
 * is missing. For answers and early refusals only: the open that follows does its own checks.
 */
export async function inspectConfinedPath(guard: ConfiningPathGuard, absolute: string): Promise<Stats | undefined> {
  const display = guard.display(absolute);
  try {
    // The allowed directory itself: no folder above it to look it up from.
    if (guard.baseOf(absolute) === absolute) return await lstat(absolute);
    const directory = await openConfinedDirectory(guard, dirname(absolute), { create: false });
    try {
      return await directory.lstat(basename(absolute));
    } finally {
      await directory.close();
    }
  } catch (error) {
    const typed = fileSystemError(display, "inspect", error);
    if (typed.failureCode === "file_not_found") return undefined;
    throw typed;
  }
}
