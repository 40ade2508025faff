import type { PersistedSessionRead, SessionMeta, SessionSummary } from "@lash/protocol";
import { totalTokens } from "@lash/protocol";
import type { CliStore } from "../store/open-store.js";

/** One row of `lash sessions list`. */
export interface SessionRow {
  readonly sessionId: string;
  readonly title: string;
  readonly model: string;
  /** Completed turns (finished, stopped or cancelled), see `completedTurns`. */
  readonly turns: number;
  /** ISO timestamp of the newest node (or the creation time of a session without turns). */
  readonly lastActivity: string | undefined;
  /** Lifetime tokens of the ledger (input + output + reasoning). */
  readonly tokens: number;
  readonly parentSessionId: string | undefined;
}

/**
 * The turns a session completed: the turn counter of its checkpoint, which a turn advances in its
 * final commit. Counting the prompts in the graph would also count a turn whose process was killed
 * (its prompt is committed when the turn starts, its end never is).
 */
export function completedTurns(read: Pick<PersistedSessionRead, "checkpoint"> | undefined): number {
  return read?.checkpoint?.turnState.turnIndex ?? 0;
}

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
 * The sessions of the store with their figures, newest activity first: the sessions a person
 * started, and with `includeChildren` also the child sessions (subagents) they created.
 */
export async function listSessionRows(store: CliStore, options: { readonly includeChildren?: boolean } = {}): Promise<SessionRow[]> {
  const summaries: SessionSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSessions({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    summaries.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const listed = options.includeChildren === true ? summaries : summaries.filter((summary) => summary.meta?.parentSessionId === undefined);
  const rows = await Promise.all(
    listed.map(async (summary) => rowOf(summary, await store.openSession(summary.sessionId).loadSession({ type: "active_path" }))),
  );
  return rows.sort(
    (left, right) => (right.lastActivity ?? "").localeCompare(left.lastActivity ?? "") || left.sessionId.localeCompare(right.sessionId),
  );
}
