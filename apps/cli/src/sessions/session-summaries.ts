import type { PersistedSessionRead, SessionMeta, SessionSummary } from "@lash/protocol";
import { InvalidPersistedDataError, totalTokens } from "@lash/protocol";
import type { CliStore } from "../store/open-store.js";

/** What is wrong with a session whose stored data cannot be read. */
export interface SessionProblem {
  /** The damaged field (`graph.nodes.3`, `meta.relation`, `config`): the path of the store's `InvalidPersistedDataError`. */
  readonly field: string;
  /** The store's message: the session, the field and where it is stored (table and column, or file). */
  readonly message: string;
}

/** One row of `lash sessions list`. */
export interface SessionRow {
  readonly sessionId: string;
  readonly title: string;
  readonly model: string;
  /** Completed turns (finished, stopped or cancelled), see `completedTurns`; `null` when the session cannot be read. */
  readonly turns: number | null;
  /**
   * ISO timestamp of the session's last commit, from the store's summary (of its newest node for a
   * store that keeps no summary); the creation time of a session without turns.
   */
  readonly lastActivity: string | undefined;
  /** Lifetime tokens of the ledger (input + output + reasoning); `null` when the session cannot be read. */
  readonly tokens: number | null;
  readonly parentSessionId: string | undefined;
  /** Present when the session is damaged: its stored data cannot be read (`lash sessions rm` still removes it). */
  readonly problem?: SessionProblem;
  /** `true` for a session with a meta but no commit: its process ended before its first turn was stored. */
  readonly empty?: true;
}

/** What `listSessionRows` lists. */
export interface SessionListing {
  /** The rows asked for, newest activity first. */
  readonly rows: SessionRow[];
  /** Empty sessions left out (without `includeEmpty`). */
  readonly hiddenEmpty: number;
}

/**
 * The turns a session completed: the turn counter of its checkpoint, which a turn advances in its
 * final commit. Counting the prompts in the graph would also count a turn whose process was killed
 * (its prompt is committed when the turn starts, its end never is).
 */
export function completedTurns(read: Pick<PersistedSessionRead, "checkpoint"> | undefined): number {
  return read?.checkpoint?.turnState.turnIndex ?? 0;
}

/** A loaded session's row, for a store whose listing carries no summary figures. */
function rowOf(summary: SessionSummary, read: PersistedSessionRead | undefined): SessionRow {
  const meta: SessionMeta | undefined = summary.meta;
  const nodes = read?.graph.nodes ?? [];
  const newest = nodes.reduce<string | undefined>(
    (latest, node) => (latest === undefined || node.timestamp > latest ? node.timestamp : latest),
    undefined,
  );
  return {
    sessionId: summary.sessionId,
    title: meta?.sessionName ?? summary.sessionId,
    model: read?.config.model ?? meta?.model ?? "",
    turns: completedTurns(read),
    lastActivity: newest ?? meta?.createdAt,
    tokens: (read?.tokenLedger ?? []).reduce((sum, entry) => sum + totalTokens(entry.usage), 0),
    parentSessionId: meta?.parentSessionId,
  };
}

/**
 * The row of a committed session from its listing entry alone: the store keeps each session's
 * model, completed turns, last activity and lifetime usage with every commit. `undefined` when the
 * entry has no such figures (a store that keeps no summaries).
 */
function summaryRow(summary: SessionSummary): SessionRow | undefined {
  const { model, turnCount, tokenUsage, meta } = summary;
  if (model === undefined || turnCount === undefined || tokenUsage === undefined) return undefined;
  return {
    sessionId: summary.sessionId,
    title: meta?.sessionName ?? summary.sessionId,
    model,
    turns: turnCount,
    lastActivity: summary.lastActivityAt ?? meta?.createdAt,
    tokens: totalTokens(tokenUsage),
    parentSessionId: meta?.parentSessionId,
  };
}

/** The row of a damaged session: what its listing data says (when readable), no figures, and the problem. */
function damagedRow(summary: SessionSummary, problem: SessionProblem): SessionRow {
  return {
    sessionId: summary.sessionId,
    title: summary.meta?.sessionName ?? summary.sessionId,
    model: summary.meta?.model ?? "",
    turns: null,
    lastActivity: summary.meta?.createdAt,
    tokens: null,
    parentSessionId: summary.meta?.parentSessionId,
    problem,
  };
}

/** What the store found damaged without loading (absent: damage shows only by loading each session). */
type FoundDamage = ReadonlyMap<string, SessionProblem> | undefined;

/**
 * The row of one listed session. Its figures come from its listing entry; it is damaged when the
 * entry says so or the store's check found damage. A store that cannot check without loading (or
 * keeps no summaries) has the session loaded: a load reads every row and names any damage.
 */
async function rowFor(store: CliStore, summary: SessionSummary, damage: FoundDamage): Promise<SessionRow> {
  if (summary.problem !== undefined) return damagedRow(summary, summary.problem);
  // Head revision 0 without a problem: a meta and no commit. Nothing to load.
  if (summary.headRevision === 0) return { ...rowOf(summary, undefined), empty: true };
  const figures = summaryRow(summary);
  if (damage !== undefined) {
    const problem = damage.get(summary.sessionId);
    if (problem !== undefined) return damagedRow(summary, problem);
    if (figures !== undefined) return figures;
  }
  try {
    const read = await store.openSession(summary.sessionId).loadSession({ type: "active_path" });
    return figures ?? rowOf(summary, read);
  } catch (error) {
    // A damaged node, checkpoint or ledger row: the listing data was readable, the session is not.
    if (InvalidPersistedDataError.isInstance(error)) return damagedRow(summary, { field: error.path, message: error.message });
    throw error;
  }
}

/** Newest activity first (ISO timestamps compare as text), then by id. */
function byActivity(left: SessionRow, right: SessionRow): number {
  const leftActivity = left.lastActivity ?? "";
  const rightActivity = right.lastActivity ?? "";
  if (leftActivity !== rightActivity) return leftActivity < rightActivity ? 1 : -1;
  return left.sessionId.localeCompare(right.sessionId);
}

/**
 * The sessions of the store with their figures, newest activity first: the sessions a person
 * started, and with `includeChildren` also the child sessions (subagents) they created. The figures
 * are the summaries the store keeps with every commit, so no session is loaded where the store can
 * find damage without loading (SQLite); elsewhere each session is loaded to find it. A damaged
 * session is a row with `problem` (and its parent, when its meta cannot be read, unknown: it is
 * listed with the sessions a person started); an empty one (a meta, no commit) is left out unless
 * `includeEmpty`, and counted in `hiddenEmpty`.
 */
export async function listSessionRows(
  store: CliStore,
  options: { readonly includeChildren?: boolean; readonly includeEmpty?: boolean } = {},
): Promise<SessionListing> {
  const summaries: SessionSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSessions({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    summaries.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const listed = options.includeChildren === true ? summaries : summaries.filter((summary) => summary.meta?.parentSessionId === undefined);
  const damage = await store.findDamagedSessions?.();
  const all = await Promise.all(listed.map((summary) => rowFor(store, summary, damage)));
  const rows = options.includeEmpty === true ? all : all.filter((row) => row.empty !== true);
  rows.sort(byActivity);
  return { rows, hiddenEmpty: all.length - rows.length };
}
