import { constants } from "node:fs";
import { access, mkdir, stat, statfs } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";

/**
 * Linux pseudo filesystems (`statfs` magic numbers): they hold no files of ours, and Node's
 * recursive `mkdir` can loop forever in some of them (`/proc/self/...` spins at 100% CPU).
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0xcafe4a11, "bpf"],
  [0x62656570, "configfs"],
  [0x6165676c, "pstore"],
  [0xde5e81e4, "efivarfs"],
]);

/** The top folders of the pseudo filesystems, for a platform or a mount where `statfs` cannot tell. */
const PSEUDO_ROOTS = ["/proc", "/sys"];

/** A folder the command cannot create or use; the message says which folder is wrong and why. */
export class UnusableDirectoryError extends Error {
  /** The folder that was to be created or used. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(reason);
    this.name = "UnusableDirectoryError";
    this.path = path;
  }
}

/** The nearest of `path` and its ancestors that exists, with what it is. */
async function nearestExisting(path: string): Promise<{ path: string; isDirectory: boolean }> {
  for (let current = path; ; current = dirname(current)) {
    try {
      const info = await stat(current);
      return { path: current, isDirectory: info.isDirectory() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file somewhere above; walking up reaches it and reports it.
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(current) === current) throw error;
    }
  }
}

async function pseudoFilesystem(path: string): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  if (PSEUDO_ROOTS.some((root) => path === root || path.startsWith(`${root}${sep}`))) return path.split(sep)[1];
  try {
    return PSEUDO_FILESYSTEMS.get((await statfs(path)).type);
  } catch {
    return undefined;
  }
}

/**
 * Creates the folder `path` (and its parents) after checking where it would go: the nearest
 * existing ancestor must be a folder, writable when something has to be created, and not on a
 * pseudo filesystem such as /proc or /sys. Checked first, because there a recursive `mkdir` may
 * never return.
 *
 * @throws UnusableDirectoryError saying which folder is wrong and why.
 */
export async function prepareDirectory(target: string): Promise<void> {
  const path = resolve(target);
  const existing = await nearestExisting(path).catch((error: unknown) => {
    throw new UnusableDirectoryError(path, (error as Error).message);
  });
  if (!existing.isDirectory) throw new UnusableDirectoryError(path, `${existing.path} is a file, not a folder`);
  const pseudo = await pseudoFilesystem(existing.path);
  if (pseudo !== undefined)
    throw new UnusableDirectoryError(path, `${existing.path} is on a pseudo filesystem (${pseudo}), which cannot hold files`);
  if (existing.path === path) return;
  try {
    await access(existing.path, constants.W_OK);
  } catch {
    throw new UnusableDirectoryError(path, `${existing.path} is not writable`);
  }
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new UnusableDirectoryError(path, (error as Error).message);
  }
}
