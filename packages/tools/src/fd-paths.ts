import { constants } from "node:fs";
import { open, readlink } from "node:fs/promises";

/**
 * Linux names every open file descriptor in `/proc/self/fd`. `readlink` of `/proc/self/fd/N` is the
 * path the kernel holds for the open file *now*: whatever was swapped on the way while it was being
 * opened, this is where the opened file really is. And a path through it, `/proc/self/fd/N/name`,
 * starts at the open folder itself rather than at its path: Node has no `openat`, and this is the
 * same thing, relative to a folder that was already checked and cannot be swapped any more.
 */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** The path the kernel holds for an open file descriptor (see `fdPath`). */
export function openedPath(fd: number): Promise<string> {
  return readlink(fdPath(fd));
}

let available: Promise<boolean> | undefined;

/**
 * Whether `fdPath` works here: Linux with `/proc` mounted and showing this process. Probed once, by
 * opening `/` and reading its name back. Elsewhere (macOS, Windows, a sandbox without `/proc`) the
 * confined file access falls back to checks by path, which a concurrent swap can defeat.
 */
export function fdPathsAvailable(): Promise<boolean> {
  available ??= (async () => {
    if (process.platform !== "linux") return false;
    try {
      const handle = await open("/", constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        return (await openedPath(handle.fd)) === "/";
      } finally {
        await handle.close();
      }
    } catch {
      return false;
    }
  })();
  return available;
}
