import { HeadRevisionConflictError } from "@lash/protocol";
import { CliError } from "../cli-error.js";
import { EXIT_CODES } from "../exit-codes.js";
import { causeChain } from "../store/open-store.js";

/**
 * A turn whose commit the store refused because another writer (a second `lash run` or `lash chat`
 * on the same session) committed first. Its answer may already be on the screen, so the message
 * says plainly that it is not in the store; exit code 1 (the command failed).
 */
export class UnstoredTurnError extends CliError {
  readonly sessionId: string;

  constructor(sessionId: string, options: { readonly shown: boolean; readonly hint: string; readonly cause: unknown }) {
    super(
      options.shown
        ? `the answer above was shown but NOT stored: another process wrote to session ${sessionId} while this turn ran`
        : `this turn was NOT stored: another process wrote to session ${sessionId} while this turn started`,
      { exitCode: EXIT_CODES.failed, hint: options.hint, cause: options.cause },
    );
    this.name = "UnstoredTurnError";
    this.sessionId = sessionId;
  }
}

/**
 * `error` as an `UnstoredTurnError` when a head revision conflict caused it (the runtime wraps it
 * in a `store_commit_failed` error), else `undefined`. `sessionId`: the session the command runs
 * (a conflict may be reported by a child session's store); `shown`: whether the turn got as far
 * as a model call, whose output is then on the screen; `hint` says how to run the turn again.
 */
export function unstoredTurnError(
  error: unknown,
  options: { readonly sessionId: string; readonly shown: boolean; readonly hint: string },
): UnstoredTurnError | undefined {
  if (!causeChain(error).some((entry) => HeadRevisionConflictError.isInstance(entry))) return undefined;
  return new UnstoredTurnError(options.sessionId, { shown: options.shown, hint: options.hint, cause: error });
}
