import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { ToolError } from "@lash/protocol";
import type { PathGuard } from "./path-guard.js";

/** Not defined on Windows, where `open` has no such flag: the check after opening still applies. */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

function changedError(display: string): ToolError {
  return new ToolError({
    class: "permission_denied",
    code: "path_outside_workspace",
    message: `${display} changed while it was being opened (it is now, or passes through, a symbolic link); nothing was written`,
  });
}

/**
 * Opens a path the guard resolved, without following a final symbolic link, then checks the open
 * file is still the one at that path (the guard resolves to the same path, with the same device and
 * inode). This narrows the window in which another process could swap a component for a link
 * between the check and the open; it cannot close it for the folders above the file.
 */
export async function openConfinedFile(guard: PathGuard, absolute: string, mode: "read" | "write"): Promise<FileHandle> {
  const flags = mode === "read" ? constants.O_RDONLY | NO_FOLLOW : constants.O_WRONLY | constants.O_CREAT | NO_FOLLOW;
  let handle: FileHandle;
  try {
    handle = await open(absolute, flags, 0o666);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw changedError(guard.display(absolute));
    throw error;
  }
  try {
    const [again, opened, named] = await Promise.all([guard.resolve(absolute), handle.stat(), stat(absolute)]);
    if (again !== absolute || opened.ino !== named.ino || opened.dev !== named.dev) throw changedError(guard.display(absolute));
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Replaces the content of a confined file, creating it and its folders when missing. The file is
 * truncated only after the check of `openConfinedFile`, so a refused path is never emptied.
 */
export async function writeConfinedFile(guard: PathGuard, absolute: string, content: string): Promise<void> {
  await mkdir(dirname(absolute), { recursive: true });
  const handle = await openConfinedFile(guard, absolute, "write");
  try {
    await handle.truncate(0);
    await handle.writeFile(content, "utf8");
  } finally {
    await handle.close();
  }
}

/** The whole content of a confined file as UTF-8 text. */
export async function readConfinedFile(guard: PathGuard, absolute: string): Promise<string> {
  const handle = await openConfinedFile(guard, absolute, "read");
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
