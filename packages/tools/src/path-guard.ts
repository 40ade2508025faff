import { lstat, readlink } from "node:fs/promises";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import { ToolError } from "@lash/protocol";

/** Where the tools may read and write. */
export interface PathGuardOptions {
  /** The working directory: relative paths resolve against it, and it is always allowed. */
  readonly root: string;
  /** More directories the tools may use (each with everything below it). */
  readonly allowedDirectories?: readonly string[];
  /** Allow any path. Off by default: the model only sees the working directory. */
  readonly allowAnyPath?: boolean;
}

/** Resolves paths the model names and refuses those outside the allowed directories. */
export interface PathGuard {
  readonly root: string;
  /**
   * The absolute path for `path` (relative to the root) with every symbolic link in it followed,
   * dangling ones included (a link to a missing file is checked where the file would be created),
   * so a link inside the root cannot lead outside it. Throws a `ToolError` (`permission_denied`,
   * code `path_outside_workspace`) for a path outside the allowed directories, and (`invalid_request`,
   * code `invalid_path`) for a path that cannot be resolved (a loop of links, an unreadable folder).
   */
  resolve(path: string): Promise<string>;
  /** `absolute` relative to the root, for output (`.` for the root itself). */
  display(absolute: string): string;
}

function isInside(directory: string, path: string): boolean {
  const fromDirectory = relative(directory, path);
  return fromDirectory === "" || (!fromDirectory.startsWith(`..${sep}`) && fromDirectory !== ".." && !isAbsolute(fromDirectory));
}

/** The most symbolic links one path may pass through, like the kernel's own limit (ELOOP). */
const MAX_SYMBOLIC_LINKS = 40;

/** How often one resolution looks again at a link that changed under it before giving up. */
const MAX_CHANGES = 8;

/** Windows accepts both separators; elsewhere a backslash is an ordinary character of a name. */
const SEPARATORS = sep === "\\" ? /[\\/]+/ : /\/+/;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * `path` with every symbolic link replaced by its target, whether the target exists or not.
 * Walks the path one component at a time with `lstat`: a link is read (`readlink`) and its target
 * walked in its place, so a dangling link cannot hide where a write would land; a missing component
 * (ENOENT, or ENOTDIR under a file) is kept as written and the walk goes on, so a later `..` can
 * come back to existing folders and their links are still checked. The answer has no `..` and, at
 * the time of the walk, no link in it.
 */
async function resolveSymbolicLinks(path: string, original: string): Promise<string> {
  const parsed = parse(path);
  let current = parsed.root;
  const pending = path.slice(parsed.root.length).split(SEPARATORS);
  let links = 0;
  let changes = 0;
  while (pending.length > 0) {
    const name = pending.shift() ?? "";
    if (name === "" || name === ".") continue;
    if (name === "..") {
      current = dirname(current);
      continue;
    }
    const candidate = join(current, name);
    let isLink: boolean;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (error) {
      const code = errorCode(error);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        throw new ToolError({
          class: "invalid_request",
          code: "invalid_path",
          message: `cannot resolve ${original}: ${(error as Error).message}`,
        });
      }
      isLink = false;
    }
    if (!isLink) {
      current = candidate;
      continue;
    }
    links += 1;
    if (links > MAX_SYMBOLIC_LINKS) {
      throw new ToolError({
        class: "invalid_request",
        code: "invalid_path",
        message: `cannot resolve ${original}: more than ${MAX_SYMBOLIC_LINKS} symbolic links (a loop?)`,
      });
    }
    let target: string;
    try {
      target = await readlink(candidate);
    } catch (error) {
      // The link was replaced (EINVAL: it is no longer a link) or removed (ENOENT) since `lstat`:
      // another process is changing the path. Look at this name again, a bounded number of times.
      const code = errorCode(error);
      if ((code === "EINVAL" || code === "ENOENT") && changes < MAX_CHANGES) {
        changes += 1;
        links -= 1;
        pending.unshift(name);
        continue;
      }
      throw new ToolError({
        class: "invalid_request",
        code: "invalid_path",
        message: `cannot resolve ${original}: it kept changing while it was being resolved`,
      });
    }
    if (isAbsolute(target)) current = parse(target).root;
    pending.unshift(...target.slice(isAbsolute(target) ? parse(target).root.length : 0).split(SEPARATORS));
  }
  return current;
}

/**
 * The guard the workspace tools use: the public `PathGuard` plus what checking an *opened* file
 * needs. The real path of an open file (read back from the kernel) is checked with `allows`, a
 * pure comparison: resolving the path a second time would ask the filesystem again, which is
 * exactly what a concurrent swap makes unreliable.
 */
export interface ConfiningPathGuard extends PathGuard {
  /** Whether `absolute`, a path without links or `..` (such as an open file's real path), is allowed. No I/O. */
  allows(absolute: string): boolean;
  /**
   * Where a confined walk to `absolute` (a path `resolve` answered) starts: the allowed directory
   * holding it, or the filesystem root when any path is allowed; `undefined` when none holds it.
   */
  baseOf(absolute: string): string | undefined;
}

/** Creates the guard of one tool set, with the checks the confined file access needs. */
export async function createConfiningPathGuard(options: PathGuardOptions): Promise<ConfiningPathGuard> {
  const root = await resolveSymbolicLinks(resolve(options.root), options.root);
  const allowed = [
    root,
    ...(await Promise.all(
      (options.allowedDirectories ?? []).map((directory) => resolveSymbolicLinks(resolve(root, directory), directory)),
    )),
  ];
  const allows = (absolute: string): boolean => options.allowAnyPath === true || allowed.some((directory) => isInside(directory, absolute));
  return {
    root,
    allows,
    baseOf(absolute: string): string | undefined {
      const directory = allowed.find((candidate) => isInside(candidate, absolute));
      if (directory !== undefined) return directory;
      return options.allowAnyPath === true ? parse(absolute).root : undefined;
    },
    async resolve(path: string): Promise<string> {
      if (typeof path !== "string" || path === "" || path.includes("\0")) {
        throw new ToolError({ class: "invalid_request", code: "invalid_path", message: `not a usable path: ${JSON.stringify(path)}` });
      }
      // Links are resolved before `..` is applied, as the kernel does: `link/..` is the target's parent.
      const absolute = await resolveSymbolicLinks(isAbsolute(path) ? path : `${root}${sep}${path}`, path);
      if (!allows(absolute)) {
        throw new ToolError({
          class: "permission_denied",
          code: "path_outside_workspace",
          message: `${path} is outside the working directory ${root}; only paths inside it${allowed.length > 1 ? " and the allowed directories" : ""} can be used`,
        });
      }
      return absolute;
    },
    display(absolute: string): string {
      if (!isInside(root, absolute)) return absolute;
      return relative(root, absolute) || ".";
    },
  };
}

/** Creates the guard of one tool set. */
export async function createPathGuard(options: PathGuardOptions): Promise<PathGuard> {
  return createConfiningPathGuard(options);
}
