import type { InvalidPersistedDataError, SessionListPage, SessionSummary } from "@lash/protocol";

/**
 * Why a listed session's listing data cannot be read. Listing does not fail for one damaged session:
 * the session is listed with this instead (and without what could not be read), and loading it
 * throws the `InvalidPersistedDataError` described here.
 */
export interface SessionListingProblem {
  /** The damaged field: the `path` of the `InvalidPersistedDataError` (`meta.relation`, `head.json.config.model`). */
  readonly field: string;
  /** What is wrong, naming the session, the field and where it is stored (SQL: table and column; files: the file). */
  readonly message: string;
}

/**
 * One listed session: the protocol's `SessionSummary`, plus `problem` when its listing data cannot
 * be read. `headRevision` is 0 both for a session with a meta but no commit yet and for one whose
 * head cannot be read: check `problem` before treating 0 as "empty".
 */
export type ListedSession = SessionSummary & { readonly problem?: SessionListingProblem };

/** One page of a lash store's `listSessions` (a `SessionListPage` whose entries may carry `problem`). */
export interface ListedSessionPage extends SessionListPage {
  /** The page's sessions, in ascending code-point order of id; damaged ones carry `problem`. */
  readonly sessions: ListedSession[];
}

/** The listing problem for a damaged session. */
export function listingProblem(error: InvalidPersistedDataError): SessionListingProblem {
  return { field: error.path, message: error.message };
}
