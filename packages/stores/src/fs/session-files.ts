import { join } from "node:path";
import {
  InvalidPersistedDataError,
  persistedSessionConfigSchema,
  sessionCommitResultSchema,
  sessionMetaSchema,
  sessionNodeRecordSchema,
  tokenLedgerEntrySchema,
  tokenUsageSchema,
} from "@lash/protocol";
import { z } from "zod";
import { isStackExhaustion, parseJsonWithinDepth } from "../shared/json-depth.js";
import type { FileAccess } from "./file-access.js";
import { encodeIdAsFileName } from "./file-name-encoding.js";

/**
 * The on-disk layout of one root (see docs/decisions/0015-filesystem-store.md):
 *
 *     <root>/sessions/<encoded session id>/
 *       head.json                 the commit point: revision, config, leaf, checkpoint, base, lineage
 *       meta.json                 listing data
 *       bases/<generation>.json   every node (with tombstone flags) and the merged ledger at a revision
 *       revisions/<revision>.json what one commit appended (nodes, usage) and its commit id
 *       commits/<encoded id>.json idempotency record: content hash and result
 *       blobs/<sha256>.json       content-addressed checkpoints
 *     <root>/locks/<encoded session id>.lock   the session's write lock
 *     <root>/trash/                            sessions being deleted
 */
export const FILE_FORMAT = 1;

const formatSchema = z.literal(FILE_FORMAT);
const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase SHA-256 hex digest");
const lineageSchema = z.string().regex(/^[0-9a-f]{32}$/, "expected 32 lowercase hex digits");

/**
 * `head.json`. `lineage` is drawn at a session's first commit and kept by every later head, so a
 * session deleted and started again is never mistaken for the old one. The graph is the base of
 * `generation` (generation 0: the empty graph, no file) plus the revision files `baseRevision + 1` to
 * `revision`.
 */
export const headFileSchema = z
  .object({
    format: formatSchema,
    sessionId: z.string().min(1),
    lineage: lineageSchema,
    revision: z.number().int().positive(),
    generation: z.number().int().nonnegative(),
    baseRevision: z.number().int().nonnegative(),
    config: persistedSessionConfigSchema,
    leafNodeId: z.string().optional(),
    checkpointRef: sha256HexSchema,
    /**
     * What a listing shows without reading the session's graph, written with the head (so in the
     * same rename as the commit): when it was committed, the checkpoint's turn counter and the
     * lifetime usage of the ledger. Absent in heads written before summaries existed.
     */
    summary: z
      .object({
        committedAt: z.string(),
        turnCount: z.number().int().nonnegative(),
        tokenUsage: tokenUsageSchema,
      })
      .optional(),
  })
  .superRefine((head, context) => {
    if (head.baseRevision > head.revision) {
      context.addIssue({
        code: "custom",
        path: ["baseRevision"],
        message: `base revision ${head.baseRevision} is after the head revision ${head.revision}`,
      });
    }
    if (head.generation === 0 && head.baseRevision !== 0) {
      context.addIssue({ code: "custom", path: ["baseRevision"], message: "generation 0 (the empty graph) must have base revision 0" });
    }
  });
export type HeadFile = z.infer<typeof headFileSchema>;

/** One node in a base: tombstoned nodes keep their id taken until `vacuum`. */
export const baseNodeSchema = z.object({ record: sessionNodeRecordSchema, tombstoned: z.boolean() });

/** `bases/<generation>.json`: the whole graph and ledger as of `revision`. */
export const baseFileSchema = z.object({
  format: formatSchema,
  sessionId: z.string().min(1),
  lineage: lineageSchema,
  generation: z.number().int().positive(),
  revision: z.number().int().nonnegative(),
  nodes: z.array(baseNodeSchema),
  ledger: z.array(tokenLedgerEntrySchema),
});
export type BaseFile = z.infer<typeof baseFileSchema>;

/**
 * `revisions/<revision>.json`, written by every commit before its head. For a commit that also wrote
 * a base, `nodes` and `usage` are empty (the base holds them). A revision file after the head is the
 * leftover of an interrupted commit.
 */
export const revisionFileSchema = z.object({
  format: formatSchema,
  sessionId: z.string().min(1),
  lineage: lineageSchema,
  revision: z.number().int().positive(),
  commitId: z.string().min(1),
  nodes: z.array(sessionNodeRecordSchema),
  usage: z.array(tokenLedgerEntrySchema),
});
export type RevisionFile = z.infer<typeof revisionFileSchema>;

/** Just enough of a revision file to find the commit record an interrupted commit left behind. */
export const revisionCommitIdSchema = z.object({ commitId: z.string().min(1) });

/** `commits/<encoded commit id>.json`: what a replay of the commit id returns. */
export const commitRecordFileSchema = z.object({
  format: formatSchema,
  sessionId: z.string().min(1),
  commitId: z.string().min(1),
  hash: sha256HexSchema,
  result: sessionCommitResultSchema,
});
export type CommitRecordFile = z.infer<typeof commitRecordFileSchema>;

/** `meta.json`. */
export const metaFileSchema = z.object({ format: formatSchema, meta: sessionMetaSchema });
export type MetaFile = z.infer<typeof metaFileSchema>;

export const SESSIONS_DIRECTORY = "sessions";
export const LOCKS_DIRECTORY = "locks";
export const TRASH_DIRECTORY = "trash";

/** The paths of one session under a root, and the labels that name its files in errors. */
export class SessionPaths {
  readonly root: string;
  readonly sessionId: string;
  readonly encodedName: string;
  readonly sessionsDirectory: string;
  readonly directory: string;
  readonly head: string;
  readonly meta: string;
  readonly basesDirectory: string;
  readonly revisionsDirectory: string;
  readonly commitsDirectory: string;
  readonly blobsDirectory: string;
  readonly lock: string;

  constructor(root: string, sessionId: string) {
    this.root = root;
    this.sessionId = sessionId;
    this.encodedName = encodeIdAsFileName(sessionId, "session id");
    this.sessionsDirectory = join(root, SESSIONS_DIRECTORY);
    this.directory = join(this.sessionsDirectory, this.encodedName);
    this.head = join(this.directory, "head.json");
    this.meta = join(this.directory, "meta.json");
    this.basesDirectory = join(this.directory, "bases");
    this.revisionsDirectory = join(this.directory, "revisions");
    this.commitsDirectory = join(this.directory, "commits");
    this.blobsDirectory = join(this.directory, "blobs");
    this.lock = join(root, LOCKS_DIRECTORY, `${this.encodedName}.lock`);
  }

  base(generation: number): string {
    return join(this.basesDirectory, `${generation}.json`);
  }

  revision(revision: number): string {
    return join(this.revisionsDirectory, `${revision}.json`);
  }

  commitRecord(commitId: string): string {
    return join(this.commitsDirectory, `${encodeIdAsFileName(commitId, "commit id")}.json`);
  }

  /** `checkpointRef` must already be validated as a SHA-256 hex digest (it becomes a file name). */
  blob(checkpointRef: string): string {
    return join(this.blobsDirectory, `${checkpointRef}.json`);
  }
}

/** Labels of files in error paths (`InvalidPersistedDataError.path` starts with one). */
export const fileLabels = {
  head: "head.json",
  meta: "meta.json",
  base: (generation: number): string => `bases/${generation}.json`,
  revision: (revision: number): string => `revisions/${revision}.json`,
  commitRecord: (commitId: string): string => `commits/${encodeIdAsFileName(commitId, "commit id")}.json`,
  blob: (checkpointRef: string): string => `blobs/${checkpointRef}.json`,
};

/**
 * Parses stored JSON text against a schema. Every byte read is hostile: truncated JSON, JSON nested
 * deeper than `MAX_STORED_JSON_DEPTH` (refused before parsing, so that validating and copying it
 * cannot exhaust the stack) or a bad field throws `InvalidPersistedDataError` naming the session and
 * `<file label>.<dotted field path>`.
 */
export function parseStoredJson<Schema extends z.ZodType>(
  sessionId: string | undefined,
  label: string,
  text: string,
  schema: Schema,
): z.infer<Schema> {
  const reading = parseJsonWithinDepth(text);
  if (!reading.ok) throw new InvalidPersistedDataError(sessionId, label, reading.problem, { cause: reading.cause });
  let parsed: z.ZodSafeParseResult<z.infer<Schema>>;
  try {
    parsed = schema.safeParse(reading.value);
  } catch (error) {
    if (!isStackExhaustion(error)) throw error;
    throw new InvalidPersistedDataError(sessionId, label, "nested too deeply to validate", { cause: error });
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const fieldPath = issue?.path.map((segment) => String(segment)).join(".") ?? "";
    throw new InvalidPersistedDataError(sessionId, fieldPath === "" ? label : `${label}.${fieldPath}`, issue?.message ?? "invalid value");
  }
  return parsed.data;
}

/** Reads and parses a stored file; `undefined` when it does not exist. */
export async function readStoredFile<Schema extends z.ZodType>(
  access: FileAccess,
  sessionId: string | undefined,
  path: string,
  label: string,
  schema: Schema,
): Promise<z.infer<Schema> | undefined> {
  const text = await access.readTextIfExists(path);
  return text === undefined ? undefined : parseStoredJson(sessionId, label, text, schema);
}

/** Throws `InvalidPersistedDataError` when a stored file names another session than its directory. */
export function expectSessionId(sessionId: string, label: string, storedSessionId: string): void {
  if (storedSessionId !== sessionId) {
    throw new InvalidPersistedDataError(
      sessionId,
      `${label}.sessionId`,
      `the file belongs to session \`${storedSessionId}\`, not to the session of its directory`,
    );
  }
}

/** Reads the head; `undefined` when the session was never committed (or was deleted). */
export async function readHead(access: FileAccess, paths: SessionPaths): Promise<HeadFile | undefined> {
  const head = await readStoredFile(access, paths.sessionId, paths.head, fileLabels.head, headFileSchema);
  if (head !== undefined) expectSessionId(paths.sessionId, fileLabels.head, head.sessionId);
  return head;
}

/** Reads the meta; `undefined` when none was saved. */
export async function readMeta(access: FileAccess, paths: SessionPaths): Promise<MetaFile | undefined> {
  const meta = await readStoredFile(access, paths.sessionId, paths.meta, fileLabels.meta, metaFileSchema);
  if (meta !== undefined) expectSessionId(paths.sessionId, `${fileLabels.meta}.meta`, meta.meta.sessionId);
  return meta;
}

/** Serialises a stored file (compact: these files are read by machines). */
export function renderStoredJson(value: unknown): string {
  return JSON.stringify(value);
}
