import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
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
   * The absolute path for `path` (relative to the root), after following symbolic links of the
   * part that exists, so a link inside the root cannot lead outside it. Throws a `ToolError`
   * (`permission_denied`, code `path_outside_workspace`) for a path outside the allowed directories.
   */
  resolve(path: string): Promise<string>;
  /** `absolute` relative to the root, for output (`.` for the root itself). */
  display(absolute: string): string;
}

function isInside(directory: string, path: string): boolean {
  const fromDirectory = relative(directory, path);
  return fromDirectory === "" || (!fromDirectory.startsWith(`..${sep}`) && fromDirectory !== ".." && !isAbsolute(fromDirectory));
}

/** The real path of the longest existing prefix of `path`, with the missing rest appended. */
async function realPathOfExistingPrefix(path: string): Promise<string> {
  let existing = path;
  const missing: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      return missing.length === 0 ? real : resolve(real, ...missing.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      missing.push(existing.slice(parent.length).replace(/^[\\/]+/, ""));
      existing = parent;
    }
  }
}

/** Creates the guard of one tool set. */
export async function createPathGuard(options: PathGuardOptions): Promise<PathGuard> {
  const root = await realPathOfExistingPrefix(resolve(options.root));
  const allowed = [root, ...(await Promise.all((options.allowedDirectories ?? []).map((directory) => realPathOfExistingPrefix(resolve(root, directory)))))];
  return {
    root,
    async resolve(path: string): Promise<string> {
      if (typeof path !== "string" || path === "" || path.includes("\0")) {
        throw new ToolError({ class: "invalid_request", code: "invalid_path", message: `not a usable path: ${JSON.stringify(path)}` });
      }
      const absolute = await realPathOfExistingPrefix(resolve(root, path));
      if (options.allowAnyPath !== true && !allowed.some((directory) => isInside(directory, absolute))) {
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
