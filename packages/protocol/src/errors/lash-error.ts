/**
 * Stable error codes. Every failure a lash package throws carries one of these in `code`; hosts map
 * codes to HTTP statuses or exit codes, never error classes or messages.
 *
 * | code | who is at fault | meaning |
 * | --- | --- | --- |
 * | `invalid_configuration` | caller | a builder or option is missing or wrong (thrown before any side effect) |
 * | `invalid_argument` | caller | an argument to a runtime method is malformed |
 * | `handoff_successor_missing` | runtime | a handoff points at a session this runtime does not manage |
 * | `handoff_missing_first_turn` | runtime | a handoff successor has no seed input for its first turn |
 * | `mode_turn_extension` | caller | the execution mode rejected the turn's mode extension |
 * | `plugin_session_manager` | plugin | a plugin's session-manager call failed |
 * | `context_prepare_turn` | plugin | a context transform failed while preparing the turn |
 * | `plugin_prepare_turn` | plugin | a `beforeTurn` hook failed or returned an invalid directive |
 * | `plugin_finalize_turn` | plugin | an `afterTurn` hook failed or returned an invalid directive |
 * | `store_commit_failed` | store | the session store rejected or failed a commit during a turn |
 * | `session_manager` | caller | a child-session operation was invalid (duplicate id, unknown session, ...) |
 * | `turn_in_progress` | caller | a turn was started while another turn of the same session was running |
 * | `provider_failure` | provider | a model provider call failed (carries a `ProviderFailure`) |
 * | `unsupported_provider_version` | caller | a provider implements a specification version lash does not know |
 * | `tool_failure` | tool | thrown by a tool to report a structured failure |
 * | `head_revision_conflict` | concurrency | a commit expected another head revision |
 * | `commit_id_conflict` | caller | a commit id was reused with different content |
 * | `session_binding_mismatch` | caller | a store bound to one session was used for another |
 * | `unsupported_read_scope` | store | the store cannot serve the requested read scope |
 * | `store_unavailable` | store | the store could not be reached |
 * | `invalid_persisted_data` | store | persisted data failed validation (the message names the field) |
 * | `park_failed` | store | `park()` could not persist the session |
 * | `session_load_failed` | store | a session could not be loaded from its store |
 * | `turn_awaiting_approval` | caller | a new turn (or a branch) was asked for while a turn waits for approval decisions |
 * | `no_suspended_turn` | caller | `resumeTurn` was called on a session with no turn waiting for approval |
 * | `suspended_turn_mismatch` | store | the stored suspended turn does not match the session's history |
 * | `approval_not_found` | caller | a decision named a request the suspended turn does not have |
 * | `approval_already_decided` | caller | a decision named a request that was already decided (or expired) |
 * | `approval_conflict` | concurrency | another decider decided the same request first |
 * | `attachment_too_large` | caller | an attachment is longer than the attachment store's limit (nothing stored) |
 * | `attachment_media_type_unsupported` | caller | an attachment's bytes are no known image format, or disagree with its declared type (nothing stored) |
 * | `attachment_not_found` | store | an attachment was deleted while it was being read |
 */
export type LashErrorCode =
  | "invalid_configuration"
  | "invalid_argument"
  | "handoff_successor_missing"
  | "handoff_missing_first_turn"
  | "mode_turn_extension"
  | "plugin_session_manager"
  | "context_prepare_turn"
  | "plugin_prepare_turn"
  | "plugin_finalize_turn"
  | "store_commit_failed"
  | "session_manager"
  | "turn_in_progress"
  | "provider_failure"
  | "unsupported_provider_version"
  | "tool_failure"
  | "head_revision_conflict"
  | "commit_id_conflict"
  | "session_binding_mismatch"
  | "unsupported_read_scope"
  | "store_unavailable"
  | "invalid_persisted_data"
  | "park_failed"
  | "session_load_failed"
  | "turn_awaiting_approval"
  | "no_suspended_turn"
  | "suspended_turn_mismatch"
  | "approval_not_found"
  | "approval_already_decided"
  | "approval_conflict"
  | "attachment_too_large"
  | "attachment_media_type_unsupported"
  | "attachment_not_found";

const baseMarker = "lash.error";
const baseSymbol = Symbol.for(baseMarker);

export interface LashErrorOptions {
  /** The underlying error, kept as the native `cause`. */
  cause?: unknown;
}

/**
 * Base class of every error lash throws for an infrastructure failure. Expected stops of a turn
 * (limits, cancellation, provider errors inside a turn) are values in `TurnOutcome`, never errors.
 *
 * Recognise errors with the static `isInstance` methods, not `instanceof`: two copies of a lash
 * package in one process (a plugin and a host pinning different versions) still agree on brands.
 */
export class LashError extends Error {
  readonly [baseSymbol] = true;
  readonly code: LashErrorCode;

  constructor(code: LashErrorCode, message: string, options: LashErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LashError";
    this.code = code;
  }

  /** `"{code}: {message}"`: the stable code first, so a log line can be matched on it. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }

  /** True for any error thrown by a lash package, whatever copy of the package created it. */
  static isInstance(error: unknown): error is LashError {
    return typeof error === "object" && error !== null && baseSymbol in error;
  }

  /** True when `error` carries the brand registered under `marker` (used by subclasses). */
  protected static hasMarker(error: unknown, marker: string): boolean {
    const symbol = Symbol.for(marker);
    return LashError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[symbol] === true;
  }
}

/** The brand key for a subclass; subclasses set `[Symbol.for(markerFor(name))] = true`. */
export function markerFor(name: string): string {
  return `${baseMarker}.${name}`;
}
