import { LashError } from "@lash/protocol";
import type { ExitCode } from "./exit-codes.js";
import { EXIT_CODES } from "./exit-codes.js";

/**
 * An error the command explains to the user: `message` is printed as is (no stack unless
 * `--debug`), `hint` on the next line, and the process exits with `exitCode`.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? EXIT_CODES.failed;
    this.hint = options.hint;
  }
}

/** A usage or configuration error (exit code 2). */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, { exitCode: EXIT_CODES.usage, ...(hint === undefined ? {} : { hint }) });
}

/** Lash error codes that mean "fix your configuration" rather than "something failed". */
const CONFIGURATION_CODES = new Set(["invalid_configuration", "invalid_argument", "unsupported_provider_version"]);

/** What to print and which exit code to use for any error that reached the top. */
export function describeError(error: unknown): { message: string; hint: string | undefined; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, hint: error.hint, exitCode: error.exitCode };
  if (LashError.isInstance(error)) {
    const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? `: ${error.cause.message}` : "";
    return {
      message: `${error.message}${cause}`,
      hint: undefined,
      exitCode: CONFIGURATION_CODES.has(error.code) ? EXIT_CODES.usage : EXIT_CODES.failed,
    };
  }
  if (error instanceof Error) return { message: error.message, hint: undefined, exitCode: EXIT_CODES.failed };
  return { message: String(error), hint: undefined, exitCode: EXIT_CODES.failed };
}
