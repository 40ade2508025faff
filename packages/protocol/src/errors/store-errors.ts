import { LashError, type LashErrorOptions, markerFor } from "./lash-error.js";

const conflictMarker = markerFor("HeadRevisionConflictError");
const conflictSymbol = Symbol.for(conflictMarker);

/**
 * A commit named a head revision that is not the store's current one. Nothing was written. The
 * writer should reload the session (or rebase) and try again.
 */
export class HeadRevisionConflictError extends LashError {
  readonly [conflictSymbol] = true;
  /** The revision the commit expected; `undefined` means "the session must not exist yet". */
  readonly expected: number | undefined;
  /** The store's revision at the time of the commit (0 when the session does not exist). */
  readonly actual: number;
  readonly sessionId: string;

  constructor(sessionId: string, expected: number | undefined, actual: number, options: LashErrorOptions = {}) {
    super(
      "head_revision_conflict",
      `store head revision conflict for session \`${sessionId}\`: expected ${expected === undefined ? "no head" : expected}, actual ${actual}`,
      options,
    );
    this.name = "HeadRevisionConflictError";
    this.sessionId = sessionId;
    this.expected = expected;
    this.actual = actual;
  }

  static override isInstance(error: unknown): error is HeadRevisionConflictError {
    return LashError.hasMarker(error, conflictMarker);
  }
}

const commitIdMarker = markerFor("CommitIdConflictError");
const commitIdSymbol = Symbol.for(commitIdMarker);

/** A commit id was already used for a commit with different content. Nothing was written. */
export class CommitIdConflictError extends LashError {
  readonly [commitIdSymbol] = true;
  readonly sessionId: string;
  readonly commitId: string;

  constructor(sessionId: string, commitId: string, options: LashErrorOptions = {}) {
    super("commit_id_conflict", `commit id \`${commitId}\` was already used for different content in session \`${sessionId}\``, options);
    this.name = "CommitIdConflictError";
    this.sessionId = sessionId;
    this.commitId = commitId;
  }

  static override isInstance(error: unknown): error is CommitIdConflictError {
    return LashError.hasMarker(error, commitIdMarker);
  }
}

const bindingMarker = markerFor("SessionBindingMismatchError");
const bindingSymbol = Symbol.for(bindingMarker);

/** A store bound to one session was asked to write another session. Nothing was written. */
export class SessionBindingMismatchError extends LashError {
  readonly [bindingSymbol] = true;
  readonly boundSessionId: string;
  readonly attemptedSessionId: string;

  constructor(boundSessionId: string, attemptedSessionId: string, options: LashErrorOptions = {}) {
    super(
      "session_binding_mismatch",
      `store is already bound to session \`${boundSessionId}\` and cannot be reused for \`${attemptedSessionId}\``,
      options,
    );
    this.name = "SessionBindingMismatchError";
    this.boundSessionId = boundSessionId;
    this.attemptedSessionId = attemptedSessionId;
  }

  static override isInstance(error: unknown): error is SessionBindingMismatchError {
    return LashError.hasMarker(error, bindingMarker);
  }
}

const scopeMarker = markerFor("UnsupportedReadScopeError");
const scopeSymbol = Symbol.for(scopeMarker);

/** The store cannot serve the requested read scope; callers must not silently fall back. */
export class UnsupportedReadScopeError extends LashError {
  readonly [scopeSymbol] = true;
  readonly scope: string;

  constructor(scope: string, options: LashErrorOptions = {}) {
    super("unsupported_read_scope", `store does not support the read scope \`${scope}\``, options);
    this.name = "UnsupportedReadScopeError";
    this.scope = scope;
  }

  static override isInstance(error: unknown): error is UnsupportedReadScopeError {
    return LashError.hasMarker(error, scopeMarker);
  }
}

const unavailableMarker = markerFor("StoreUnavailableError");
const unavailableSymbol = Symbol.for(unavailableMarker);

/** The store's backend could not be reached or failed; the operation may be retried. */
export class StoreUnavailableError extends LashError {
  readonly [unavailableSymbol] = true;

  constructor(message: string, options: LashErrorOptions = {}) {
    super("store_unavailable", message, options);
    this.name = "StoreUnavailableError";
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return LashError.hasMarker(error, unavailableMarker);
  }
}

const persistedMarker = markerFor("InvalidPersistedDataError");
const persistedSymbol = Symbol.for(persistedMarker);

/**
 * Persisted data failed validation on load. The message names the session and the path of the bad
 * field; other sessions stay readable.
 */
export class InvalidPersistedDataError extends LashError {
  readonly [persistedSymbol] = true;
  readonly sessionId: string | undefined;
  /** Dotted path of the first bad field, for example `graph.nodes.3.payload.message.role`. */
  readonly path: string;

  constructor(sessionId: string | undefined, path: string, detail: string, options: LashErrorOptions = {}) {
    super(
      "invalid_persisted_data",
      `invalid persisted data${sessionId === undefined ? "" : ` for session \`${sessionId}\``} at \`${path || "(root)"}\`: ${detail}`,
      options,
    );
    this.name = "InvalidPersistedDataError";
    this.sessionId = sessionId;
    this.path = path;
  }

  static override isInstance(error: unknown): error is InvalidPersistedDataError {
    return LashError.hasMarker(error, persistedMarker);
  }
}
