import { constants, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { CliError } from "../cli-error.js";
import { EXIT_CODES } from "../exit-codes.js";

/**
 * The largest config file or script the command reads. Both are small JSON documents; the cap
 * keeps a wrong path (a log file, `/dev/zero`) from being read into memory before it fails.
 */
export const MAX_INPUT_FILE_BYTES = 4 * 1024 * 1024;

/** Why an input file was refused: `missing` lets a caller treat an optional file as absent. */
export type InputFileProblem = "missing" | "not_a_file" | "too_large" | "unreadable";

/** A config file or script that cannot be read; a usage error (exit 2). */
export class InputFileError extends CliError {
  readonly problem: InputFileProblem;
  readonly path: string;

  constructor(problem: InputFileProblem, path: string, message: string, cause?: unknown) {
    super(message, { exitCode: EXIT_CODES.usage, ...(cause === undefined ? {} : { cause }) });
    this.name = "InputFileError";
    this.problem = problem;
    this.path = path;
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a named pipe";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads a regular file of at most `MAX_INPUT_FILE_BYTES` as UTF-8. The file is checked before it
 * is opened (a device or a named pipe is refused without reading it, and a pipe would block the
 * open), opened non-blocking in case it was swapped for a pipe in between, and checked again on the
 * open handle; at most one byte past the cap is ever read. `what` names the file in messages
 * (`the config file`, `the script`).
 */
export async function readInputFile(path: string, what: string): Promise<string> {
  const refuse = (problem: InputFileProblem, detail: string, cause?: unknown): InputFileError =>
    new InputFileError(problem, path, `cannot read ${what} ${path}: ${detail}`, cause);
  const tooLarge = (): InputFileError => refuse("too_large", `it is larger than ${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB`);
  const check = (info: Stats): void => {
    if (!info.isFile()) throw refuse("not_a_file", `it is ${kindOf(info)}, not a regular file`);
    if (info.size > MAX_INPUT_FILE_BYTES) throw tooLarge();
  };
  try {
    check(await stat(path));
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a path through a file (a LASH_HOME that is a file) has no config file either.
    throw refuse(code === "ENOENT" || code === "ENOTDIR" ? "missing" : "unreadable", (error as Error).message, error);
  }
  // O_NONBLOCK does not exist on Windows, where opening a pipe does not block anyway.
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((error: unknown) => {
    throw refuse("unreadable", (error as Error).message, error);
  });
  try {
    check(await handle.stat());
    const chunks: Buffer[] = [];
    let length = 0;
    // The size was checked, but a file that grows while it is read must not get past the cap.
    while (length <= MAX_INPUT_FILE_BYTES) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, MAX_INPUT_FILE_BYTES + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > MAX_INPUT_FILE_BYTES) throw tooLarge();
    return Buffer.concat(chunks, length).toString("utf8");
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw refuse("unreadable", (error as Error).message, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
