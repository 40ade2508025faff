import type {
  PersistedSessionRead,
  SessionCommitResult,
  SessionListQuery,
  SessionMeta,
  SessionNodeRecord,
  SessionStore,
  SessionSummary,
  TokenLedgerEntry,
  TokenUsage,
} from "@lash/protocol";
import {
  CommitIdConflictError,
  compareCodePoints,
  HeadRevisionConflictError,
  LashError,
  SessionBindingMismatchError,
  UnsupportedReadScopeError,
} from "@lash/protocol";
import { vitestApi } from "./vitest-api.js";

/** The error a call rejected with; fails the test when the call resolved instead. */
export async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to be rejected, but it resolved");
}

/** A short description of a thrown value, for assertion messages. */
export function describeError(error: unknown): string {
  if (LashError.isInstance(error)) return `${error.name} (code ${error.code}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** `error` is a `HeadRevisionConflictError` naming `expected` and `actual`. */
export function expectHeadRevisionConflict(error: unknown, sessionId: string, expected: number | undefined, actual: number): void {
  const { expect } = vitestApi();
  expect(HeadRevisionConflictError.isInstance(error), `expected a HeadRevisionConflictError, got ${describeError(error)}`).toBe(true);
  if (!HeadRevisionConflictError.isInstance(error)) return;
  expect(error.code).toBe("head_revision_conflict");
  expect(LashError.isInstance(error)).toBe(true);
  expect({ sessionId: error.sessionId, expected: error.expected, actual: error.actual }).toEqual({ sessionId, expected, actual });
}

/** `error` is a `CommitIdConflictError` for `commitId`. */
export function expectCommitIdConflict(error: unknown, sessionId: string, commitId: string): void {
  const { expect } = vitestApi();
  expect(CommitIdConflictError.isInstance(error), `expected a CommitIdConflictError, got ${describeError(error)}`).toBe(true);
  if (!CommitIdConflictError.isInstance(error)) return;
  expect(error.code).toBe("commit_id_conflict");
  expect({ sessionId: error.sessionId, commitId: error.commitId }).toEqual({ sessionId, commitId });
}

/** `error` is a `SessionBindingMismatchError` from a store bound to `boundSessionId`. */
export function expectBindingMismatch(error: unknown, boundSessionId: string, attemptedSessionId: string): void {
  const { expect } = vitestApi();
  expect(SessionBindingMismatchError.isInstance(error), `expected a SessionBindingMismatchError, got ${describeError(error)}`).toBe(true);
  if (!SessionBindingMismatchError.isInstance(error)) return;
  expect(error.code).toBe("session_binding_mismatch");
  expect({ boundSessionId: error.boundSessionId, attemptedSessionId: error.attemptedSessionId }).toEqual({
    boundSessionId,
    attemptedSessionId,
  });
}

/** `error` is a `LashError` with code `invalid_argument` (contract rule 4). */
export function expectInvalidArgument(error: unknown): void {
  const { expect } = vitestApi();
  expect(LashError.isInstance(error), `expected a LashError with code invalid_argument, got ${describeError(error)}`).toBe(true);
  if (LashError.isInstance(error)) expect(error.code).toBe("invalid_argument");
}

/** `error` is a `LashError` (any code): the contract requires a typed error but names no code. */
export function expectLashError(error: unknown): void {
  const { expect } = vitestApi();
  expect(LashError.isInstance(error), `expected a LashError, got ${describeError(error)}`).toBe(true);
}

/** `error` is an `UnsupportedReadScopeError`. */
export function expectUnsupportedReadScope(error: unknown): void {
  const { expect } = vitestApi();
  expect(UnsupportedReadScopeError.isInstance(error), `expected an UnsupportedReadScopeError, got ${describeError(error)}`).toBe(true);
  if (UnsupportedReadScopeError.isInstance(error)) expect(error.code).toBe("unsupported_read_scope");
}

/**
 * The ledger in `(source, model)` code-point order: the contract fixes one row per pair but not the
 * order of the rows, so the suite compares ledgers in this order.
 */
export function sortedLedger(ledger: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  return [...ledger].sort(
    (left, right) =>
      compareCodePoints(left.source, right.source) ||
      compareCodePoints(left.model, right.model) ||
      compareCodePoints(left.priceTableDate ?? "", right.priceTableDate ?? ""),
  );
}

/** The ledger of a session (sorted), or `undefined` when it was never committed. */
export async function ledgerOf(store: SessionStore): Promise<TokenLedgerEntry[] | undefined> {
  const read = await store.loadSession({ type: "full_graph" });
  return read === undefined ? undefined : sortedLedger(read.tokenLedger);
}

/** Sum of every row of a ledger. */
export function ledgerTotal(ledger: readonly TokenLedgerEntry[]): TokenUsage {
  const total: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
  for (const entry of ledger) {
    total.inputTokens += entry.usage.inputTokens;
    total.outputTokens += entry.usage.outputTokens;
    total.cachedInputTokens += entry.usage.cachedInputTokens;
    total.reasoningTokens += entry.usage.reasoningTokens;
  }
  return total;
}

/** The head revision through `loadHeadRevision` when the store has it, else through a load. */
export async function headRevisionOf(store: SessionStore): Promise<number | undefined> {
  if (store.loadHeadRevision !== undefined) return store.loadHeadRevision();
  return (await store.loadSession({ type: "full_graph" }))?.headRevision;
}

/** The node ids of a loaded graph, in the order the store returned them. */
export function nodeIdsOf(read: PersistedSessionRead | undefined): string[] | undefined {
  return read?.graph.nodes.map((node) => node.nodeId);
}

/** Everything a session shows through its read methods; compared before and after a rejected call. */
export interface ObservedSession {
  readonly fullGraph: PersistedSessionRead | undefined;
  readonly activePath: PersistedSessionRead | undefined | "not served";
  readonly headRevision: number | undefined;
  readonly meta: SessionMeta | undefined;
  readonly nodes: Readonly<Record<string, SessionNodeRecord | undefined>>;
}

/**
 * Reads everything a session shows: both scopes (the active path only when `activePathScope`), the
 * head revision, the meta, and `loadNode` of every id in `probeNodeIds` (ids a rejected commit
 * tried to write, so a test can see they did not land). Ledgers are sorted (their row order is free).
 */
export async function observeSession(
  store: SessionStore,
  activePathScope: boolean,
  probeNodeIds: readonly string[] = [],
): Promise<ObservedSession> {
  const fullGraph = await store.loadSession({ type: "full_graph" });
  const activePath = activePathScope ? await store.loadSession({ type: "active_path" }) : "not served";
  const nodes: Record<string, SessionNodeRecord | undefined> = {};
  for (const nodeId of probeNodeIds) nodes[nodeId] = await store.loadNode(nodeId);
  return {
    fullGraph: fullGraph === undefined ? undefined : { ...fullGraph, tokenLedger: sortedLedger(fullGraph.tokenLedger) },
    activePath:
      activePath === undefined || activePath === "not served"
        ? activePath
        : { ...activePath, tokenLedger: sortedLedger(activePath.tokenLedger) },
    headRevision: await headRevisionOf(store),
    meta: await store.loadSessionMeta(),
    nodes,
  };
}

/** Every session of the backend, following cursors (at most `maxPages` pages, to stop a cursor loop). */
export async function listAllSessions(
  store: SessionStore,
  query: Omit<SessionListQuery, "cursor"> = {},
  maxPages = 1_000,
): Promise<SessionSummary[]> {
  const sessions: SessionSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await store.listSessions(cursor === undefined ? query : { ...query, cursor });
    sessions.push(...result.sessions);
    if (result.nextCursor === undefined) return sessions;
    cursor = result.nextCursor;
  }
  throw new Error(`listSessions still returned a nextCursor after ${maxPages} pages`);
}

/** What a listing entry says whatever the store keeps: its id, head revision, meta and problem. */
export type ListedCore = Pick<SessionSummary, "sessionId" | "headRevision" | "meta" | "problem">;

/**
 * Listing entries without the summary fields (`model`, `turnCount`, `lastActivityAt`, `tokenUsage`),
 * which only a store with the `sessionSummaries` capability fills (see summaries.ts).
 */
export function listedCore(sessions: readonly SessionSummary[]): ListedCore[] {
  return sessions.map(({ sessionId, headRevision, meta, problem }) => ({
    sessionId,
    headRevision,
    ...(meta === undefined ? {} : { meta }),
    ...(problem === undefined ? {} : { problem }),
  }));
}

/** The ids of every listed session, in listing order. */
export async function listedIds(store: SessionStore): Promise<string[]> {
  return (await listAllSessions(store)).map((summary) => summary.sessionId);
}

/** A commit result with `replayed: false` at `headRevision`. */
export function applied(commitId: string, headRevision: number): SessionCommitResult {
  return { headRevision, commitId, replayed: false };
}
