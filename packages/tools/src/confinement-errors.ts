import type { Stats } from "node:fs";
import { ToolError } from "@lash/protocol";

/** The kind of a file that is not a regular file, as the model reads it ("a named pipe"). */
export function describeKind(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isSymbolicLink()) return "a symbolic link";
  if (info.isFIFO()) return "a named pipe";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/**
 * Only regular files are read or written: reading a pipe or a device can block forever (holding one
 * of the few threads every file operation of the process shares) or never end (`/dev/zero`).
 */
export function notRegularFileError(display: string, info: Stats): ToolError {
  if (info.isDirectory()) return new ToolError({ class: "invalid_request", code: "not_a_file", message: `${display} is a directory` });
  return new ToolError({
    class: "invalid_request",
    code: "not_a_file",
    message: `${display} is ${describeKind(info)}, not a regular file; only regular files can be read or written`,
  });
}

/** The opened file's real path is outside the allowed directories: a folder on the way was swapped or moved. */
export function escapedError(display: string): ToolError {
  return new ToolError({
    class: "permission_denied",
    code: "path_outside_workspace",
    message: `${display} escapes the workspace: while it was being opened, a folder on its way was swapped for a symbolic link or moved out of the working directory; nothing was read or written`,
  });
}

/** A name the guard resolved to a file or folder is now a symbolic link: another process changed it. */
export function changedError(display: string): ToolError {
  return new ToolError({
    class: "permission_denied",
    code: "path_outside_workspace",
    message: `${display} changed while it was being opened (it is now, or passes through, a symbolic link); nothing was read or written`,
  });
}

export function notFoundError(display: string, action: string): ToolError {
  return new ToolError({ class: "not_found", code: "file_not_found", message: `cannot ${action} ${display}: it does not exist` });
}

export function notADirectoryError(display: string): ToolError {
  return new ToolError({ class: "invalid_request", code: "not_a_directory", message: `${display} is not a folder` });
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Any other failure of the file system as a `ToolError`, so a race never surfaces as a raw
 * `ENOENT` or `EINVAL`. The message names the path as the model wrote it and the error code only:
 * the system's own message would show `/proc/self/fd/…` paths that mean nothing to the model.
 */
export function fileSystemError(display: string, action: string, error: unknown): ToolError {
  if (ToolError.isInstance(error)) return error;
  const code = errorCode(error);
  switch (code) {
    case "ENOENT":
      return notFoundError(display, action);
    case "ENOTDIR":
      return new ToolError({
        class: "invalid_request",
        code: "not_a_directory",
        message: `cannot ${action} ${display}: a part of the path is not a folder`,
      });
    case "EISDIR":
      return new ToolError({ class: "invalid_request", code: "not_a_file", message: `${display} is a directory` });
    case "EACCES":
    case "EPERM":
      return new ToolError({
        class: "permission_denied",
        code: "access_denied",
        message: `cannot ${action} ${display}: permission denied`,
      });
    default:
      return new ToolError({
        class: "invalid_request",
        code: "file_unusable",
        message: `cannot ${action} ${display}: ${code ?? (error as Error | undefined)?.message ?? String(error)}`,
      });
  }
}
