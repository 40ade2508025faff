import type { Readable, Writable } from "node:stream";

/**
 * Everything a command touches outside itself: the streams, the environment, the working
 * directory and the home folder. `process` in production; the tests run the real binary instead of
 * faking this, but keeping it in one place keeps the commands honest about what they read.
 */
export interface CliIo {
  readonly stdin: Readable & { readonly isTTY?: boolean; readonly fd?: number };
  readonly stdout: Writable & { readonly isTTY?: boolean };
  readonly stderr: Writable & { readonly isTTY?: boolean; readonly columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly homeDirectory: string;
  /** `--debug`: print stacks and causes. */
  debug: boolean;
}

/** The `CliIo` of this process. */
export function processIo(homeDirectory: string): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    homeDirectory,
    debug: false,
  };
}

/** Writes without waiting; the streams of a process flush before it exits. */
export function writeLine(stream: Writable, text: string): void {
  stream.write(`${text}\n`);
}
