import type { PersistedSessionConfig, SessionMeta, SessionNodeRecord, TokenLedgerEntry } from "@lash/protocol";
import {
  InvalidPersistedDataError,
  LashError,
  persistedSessionConfigSchema,
  sessionMetaSchema,
  sessionNodeRecordSchema,
  tokenLedgerEntrySchema,
} from "@lash/protocol";
import type { Selectable } from "kysely";
import type { z } from "zod";
import { isStackExhaustion, parseJsonWithinDepth } from "../shared/json-depth.js";
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

/**
 * Parses a JSON text column, refusing text nested deeper than `MAX_STORED_JSON_DEPTH` before
 * parsing it (see json-depth.ts): one hostile row fails its own session with a typed error, and
 * never exhausts the stack of the process.
 *
 * @param source - where the text is stored, for the message: `lash_graph_nodes.node_json of node \`m2\``.
 */
export function parseStoredJson(text: unknown, sessionId: string, path: string, source: string): unknown {
  if (typeof text !== "string") throw new InvalidPersistedDataError(sessionId, path, `${source}: expected JSON text, found ${typeof text}`);
  const reading = parseJsonWithinDepth(text);
  if (!reading.ok) throw new InvalidPersistedDataError(sessionId, path, `${source}: ${reading.problem}`, { cause: reading.cause });
  return reading.value;
}

/**
 * Validates a stored value against its protocol schema. The value comes from `parseStoredJson`, so
 * its depth is bounded; a stack exhausted all the same is reported as damage, not as a crash.
 */
export function parseStored<Output>(schema: z.ZodType<Output>, value: unknown, sessionId: string, path: string, source: string): Output {
  let parsed: ReturnType<typeof schema.safeParse>;
  try {
    parsed = schema.safeParse(value);
  } catch (error) {
    if (!isStackExhaustion(error)) throw error;
    throw new InvalidPersistedDataError(sessionId, path, `${source}: nested too deeply to validate`, { cause: error });
  }
  if (parsed.success) return parsed.data;
  const issue = firstIssue(parsed.error);
  throw new InvalidPersistedDataError(sessionId, joinPath(path, issue.path), `${source}: ${issue.message}`, { cause: parsed.error });
}

/**
 * Reads an integer column. `pg` returns `bigint` columns and `count(*)` as strings; anything that
 * is not a safe integer (a fraction, text, a count beyond 2^53) is corrupt data, not a number.
 */
export function storedInteger(value: unknown, sessionId: string, path: string, source?: string): number {
  const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) {
    throw new InvalidPersistedDataError(
      sessionId,
      path,
      `${source === undefined ? "" : `${source}: `}expected a safe integer, found ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
    );
  }
  return number;
}

/** Parses the head's `config_json` (read by loads and, to mark damage, by the listing). */
export function parseHeadConfig(text: unknown, sessionId: string): PersistedSessionConfig {
  const source = "lash_heads.config_json";
  return parseStored(persistedSessionConfigSchema, parseStoredJson(text, sessionId, "config", source), sessionId, "config", source);
}

/** The columns a graph-node load reads. */
export type StoredNodeRow = Pick<LashGraphNodesTable, "node_id" | "parent_node_id" | "node_json">;

/**
 * Parses a node row. The `node_id` and `parent_node_id` columns drive queries (the active path is
 * walked through `parent_node_id`), so they must agree with the JSON they index.
 */
export function parseNodeRow(row: StoredNodeRow, sessionId: string, path: string): SessionNodeRecord {
  const source = `lash_graph_nodes.node_json of node \`${String(row.node_id)}\``;
  const record = parseStored(sessionNodeRecordSchema, parseStoredJson(row.node_json, sessionId, path, source), sessionId, path, source);
  if (record.nodeId !== row.node_id) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${path}.nodeId`,
      `${source}: the node JSON names \`${record.nodeId}\` but its row is \`${String(row.node_id)}\``,
    );
  }
  if ((record.parentNodeId ?? null) !== row.parent_node_id) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${path}.parentNodeId`,
      `${source}: the node JSON of \`${record.nodeId}\` names parent \`${record.parentNodeId ?? "(none)"}\` but its row names \`${row.parent_node_id ?? "(none)"}\``,
    );
  }
  return record;
}

/** The columns a ledger load reads. */
export type StoredUsageRow = Pick<
  Selectable<LashUsageDeltasTable>,
  "source" | "model" | "input_tokens" | "output_tokens" | "cached_input_tokens" | "reasoning_tokens" | "price_table_date"
>;

/** Parses a usage row into a ledger entry. */
export function parseUsageRow(row: StoredUsageRow, sessionId: string, path: string): TokenLedgerEntry {
  const entry = {
    source: row.source,
    model: row.model,
    ...(row.price_table_date === null ? {} : { priceTableDate: row.price_table_date }),
    usage: {
      inputTokens: storedInteger(row.input_tokens, sessionId, `${path}.usage.inputTokens`, "lash_usage_deltas.input_tokens"),
      outputTokens: storedInteger(row.output_tokens, sessionId, `${path}.usage.outputTokens`, "lash_usage_deltas.output_tokens"),
      cachedInputTokens: storedInteger(
        row.cached_input_tokens,
        sessionId,
        `${path}.usage.cachedInputTokens`,
        "lash_usage_deltas.cached_input_tokens",
      ),
      reasoningTokens: storedInteger(
        row.reasoning_tokens,
        sessionId,
        `${path}.usage.reasoningTokens`,
        "lash_usage_deltas.reasoning_tokens",
      ),
    },
  };
  return parseStored(tokenLedgerEntrySchema, entry, sessionId, path, "lash_usage_deltas");
}

/** Parses a meta row back into `SessionMeta`; the filter columns must agree with the relation. */
export function parseMetaRow(row: LashSessionMetaTable, sessionId: string): SessionMeta {
  const candidate: Record<string, unknown> = {
    sessionId: row.session_id,
    sessionName: row.session_name,
    createdAt: row.created_at,
    model: row.model,
    relation: parseStoredJson(row.relation_json, sessionId, "meta.relation", "lash_session_meta.relation_json"),
  };
  if (row.cwd !== null) candidate.cwd = row.cwd;
  if (row.parent_session_id !== null) candidate.parentSessionId = row.parent_session_id;
  const meta = parseStored(sessionMetaSchema, candidate, sessionId, "meta", "lash_session_meta");
  if (meta.relation.type !== row.relation_type) {
    throw new InvalidPersistedDataError(
      sessionId,
      "meta.relation.type",
      `lash_session_meta: the relation JSON says \`${meta.relation.type}\` but the row says \`${row.relation_type}\``,
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
