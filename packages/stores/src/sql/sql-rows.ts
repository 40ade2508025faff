import type { SessionMeta, SessionNodeRecord, TokenLedgerEntry } from "@lash/protocol";
import { InvalidPersistedDataError, LashError, sessionMetaSchema, sessionNodeRecordSchema, tokenLedgerEntrySchema } from "@lash/protocol";
import type { Selectable } from "kysely";
import type { z } from "zod";
import type { LashGraphNodesTable, LashSessionMetaTable, LashUsageDeltasTable } from "./sql-schema.js";

// Every stored byte is read as hostile: a row that does not parse is an `InvalidPersistedDataError`
// naming the session and the dotted path of the bad field, and never stops other sessions loading.

function joinPath(base: string, path: readonly PropertyKey[]): string {
  return [base, ...path.map((segment) => String(segment))].filter((segment) => segment !== "").join(".");
}

function firstIssue(error: z.ZodError): { path: readonly PropertyKey[]; message: string } {
  const issue = error.issues[0];
  return { path: issue?.path ?? [], message: issue?.message ?? "invalid" };
}

/**
 * Validates a caller's argument, turning a failure into `LashError("invalid_argument")` that names
 * the bad field (`what` is the argument, for example "commit").
 */
export function parseArgument<Output>(schema: z.ZodType<Output>, value: unknown, what: string): Output {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = firstIssue(parsed.error);
  throw new LashError("invalid_argument", `invalid ${what} at \`${joinPath("", issue.path)}\`: ${issue.message}`);
}

/** Parses a JSON text column. */
export function parseStoredJson(text: unknown, sessionId: string, path: string): unknown {
  if (typeof text !== "string") throw new InvalidPersistedDataError(sessionId, path, `expected JSON text, found ${typeof text}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidPersistedDataError(sessionId, path, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Validates a stored value against its protocol schema. */
export function parseStored<Output>(schema: z.ZodType<Output>, value: unknown, sessionId: string, path: string): Output {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = firstIssue(parsed.error);
  throw new InvalidPersistedDataError(sessionId, joinPath(path, issue.path), issue.message, { cause: parsed.error });
}

/**
 * Reads an integer column. `pg` returns `bigint` columns and `count(*)` as strings; anything that
 * is not a safe integer (a fraction, text, a count beyond 2^53) is corrupt data, not a number.
 */
export function storedInteger(value: unknown, sessionId: string, path: string): number {
  const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) {
    throw new InvalidPersistedDataError(
      sessionId,
      path,
      `expected a safe integer, found ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  }
  return number;
}

/** The columns a graph-node load reads. */
export type StoredNodeRow = Pick<LashGraphNodesTable, "node_id" | "parent_node_id" | "node_json">;

/**
 * Parses a node row. The `node_id` and `parent_node_id` columns drive queries (the active path is
 * walked through `parent_node_id`), so they must agree with the JSON they index.
 */
export function parseNodeRow(row: StoredNodeRow, sessionId: string, path: string): SessionNodeRecord {
  const record = parseStored(sessionNodeRecordSchema, parseStoredJson(row.node_json, sessionId, path), sessionId, path);
  if (record.nodeId !== row.node_id) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${path}.nodeId`,
      `the node JSON names \`${record.nodeId}\` but its row is \`${String(row.node_id)}\``,
    );
  }
  if ((record.parentNodeId ?? null) !== row.parent_node_id) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${path}.parentNodeId`,
      `the node JSON of \`${record.nodeId}\` names parent \`${record.parentNodeId ?? "(none)"}\` but its row names \`${row.parent_node_id ?? "(none)"}\``,
    );
  }
  return record;
}

/** The columns a ledger load reads. */
export type StoredUsageRow = Pick<
  Selectable<LashUsageDeltasTable>,
  "source" | "model" | "input_tokens" | "output_tokens" | "cached_input_tokens" | "reasoning_tokens"
>;

/** Parses a usage row into a ledger entry. */
export function parseUsageRow(row: StoredUsageRow, sessionId: string, path: string): TokenLedgerEntry {
  const entry = {
    source: row.source,
    model: row.model,
    usage: {
      inputTokens: storedInteger(row.input_tokens, sessionId, `${path}.usage.inputTokens`),
      outputTokens: storedInteger(row.output_tokens, sessionId, `${path}.usage.outputTokens`),
      cachedInputTokens: storedInteger(row.cached_input_tokens, sessionId, `${path}.usage.cachedInputTokens`),
      reasoningTokens: storedInteger(row.reasoning_tokens, sessionId, `${path}.usage.reasoningTokens`),
    },
  };
  return parseStored(tokenLedgerEntrySchema, entry, sessionId, path);
}

/** Parses a meta row back into `SessionMeta`; the filter columns must agree with the relation. */
export function parseMetaRow(row: LashSessionMetaTable, sessionId: string): SessionMeta {
  const candidate: Record<string, unknown> = {
    sessionId: row.session_id,
    sessionName: row.session_name,
    createdAt: row.created_at,
    model: row.model,
    relation: parseStoredJson(row.relation_json, sessionId, "meta.relation"),
  };
  if (row.cwd !== null) candidate.cwd = row.cwd;
  if (row.parent_session_id !== null) candidate.parentSessionId = row.parent_session_id;
  const meta = parseStored(sessionMetaSchema, candidate, sessionId, "meta");
  if (meta.relation.type !== row.relation_type) {
    throw new InvalidPersistedDataError(
      sessionId,
      "meta.relation.type",
      `the relation JSON says \`${meta.relation.type}\` but the row says \`${row.relation_type}\``,
    );
  }
  return meta;
}

/** The meta row written for `meta` (the inverse of `parseMetaRow`). */
export function metaRow(meta: SessionMeta): LashSessionMetaTable {
  return {
    session_id: meta.sessionId,
    session_name: meta.sessionName,
    created_at: meta.createdAt,
    model: meta.model,
    cwd: meta.cwd ?? null,
    parent_session_id: meta.parentSessionId ?? null,
    relation_type: meta.relation.type,
    relation_json: JSON.stringify(meta.relation),
  };
}
