import { createHash } from "node:crypto";
import {
  addTokenUsage,
  CommitIdConflictError,
  checkExpectedHeadRevision,
  checkGraphCommitDelta,
  emptyTokenUsage,
  InvalidPersistedDataError,
  isEmptyTokenUsage,
  LashError,
  type SessionCommit,
  type SessionCommitResult,
  sessionCommitSchema,
  stableStringify,
  type TokenLedgerEntry,
} from "@lash/protocol";
import { checkCommitDepth, parseJsonWithinDepth } from "../shared/json-depth.js";
import { randomHex } from "./file-access.js";
import {
  type BaseFile,
  type CommitRecordFile,
  commitRecordFileSchema,
  expectSessionId,
  FILE_FORMAT,
  fileLabels,
  type HeadFile,
  parseStoredJson,
  type RevisionFile,
  readHead,
  readStoredFile,
  renderStoredJson,
  revisionCommitIdSchema,
} from "./session-files.js";
import {
  appendToGraphState,
  emptyGraphState,
  type GraphState,
  graphStateFrom,
  isLiveNode,
  loadGraphState,
  type SessionFiles,
} from "./session-graph-state.js";
import type { HeldLock } from "./session-lock.js";

/**
 * A commit that leaves more revision files than this after the base also writes a new base (and the
 * older files are deleted), so loading a session reads a bounded number of files and each commit
 * stays cheap: the base is rewritten once per this many commits, not on every append.
 */
export const MAX_REVISIONS_PER_BASE = 64;

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Makes the session's directories exist, durably, before anything is written in them. */
export async function ensureSessionDirectories(files: SessionFiles): Promise<void> {
  const { access, paths } = files;
  const created = await access.ensureDirectory(paths.directory);
  const subdirectories = [paths.basesDirectory, paths.revisionsDirectory, paths.commitsDirectory, paths.blobsDirectory];
  const createdSubdirectories = await Promise.all(subdirectories.map((directory) => access.ensureDirectory(directory)));
  if (created) {
    await access.syncDirectory(paths.sessionsDirectory);
    await access.syncDirectory(paths.root);
  }
  if (created || createdSubdirectories.some(Boolean)) await access.syncDirectory(paths.directory);
}

/**
 * Removes what an interrupted commit left after the head: its revision file (`head + 1`) and the
 * commit record it had already written. Without this, the record would claim a revision that a later
 * commit with another id takes, and a retry of the interrupted commit would be reported as applied.
 * Runs under the lock before every write, so a record whose revision is at or before the head is
 * always the record of the commit that made that revision.
 */
export async function discardInterruptedCommit(files: SessionFiles, headRevision: number): Promise<void> {
  const { access, paths } = files;
  const leftoverRevision = headRevision + 1;
  const leftoverPath = paths.revision(leftoverRevision);
  const text = await access.readTextIfExists(leftoverPath);
  if (text === undefined) return;
  // A damaged leftover (malformed, or nested too deeply to read) names no record; nothing trusts it
  // either way.
  const reading = parseJsonWithinDepth(text);
  const parsed = reading.ok ? revisionCommitIdSchema.safeParse(reading.value) : undefined;
  const commitId = parsed?.success === true ? parsed.data.commitId : undefined;
  if (commitId !== undefined) {
    const recordPath = paths.commitRecord(commitId);
    const record = await readRecordQuietly(files, recordPath);
    if (record !== undefined && record.result.headRevision === leftoverRevision) {
      await access.removeFile(recordPath);
      await access.syncDirectory(paths.commitsDirectory);
    }
  }
  await access.removeFile(leftoverPath);
  await access.syncDirectory(paths.revisionsDirectory);
}

async function readRecordQuietly(files: SessionFiles, recordPath: string): Promise<CommitRecordFile | undefined> {
  const text = await files.access.readTextIfExists(recordPath);
  if (text === undefined) return undefined;
  const reading = parseJsonWithinDepth(text);
  if (!reading.ok) return undefined;
  const parsed = commitRecordFileSchema.safeParse(reading.value);
  return parsed.success ? parsed.data : undefined;
}

/** The applied commit `commitId`, or `undefined` when it was never applied to this session's head. */
async function readAppliedCommit(files: SessionFiles, commitId: string, head: HeadFile | undefined): Promise<CommitRecordFile | undefined> {
  const { access, paths } = files;
  const label = fileLabels.commitRecord(commitId);
  const record = await readStoredFile(access, paths.sessionId, paths.commitRecord(commitId), label, commitRecordFileSchema);
  if (record === undefined) return undefined;
  expectSessionId(paths.sessionId, label, record.sessionId);
  if (record.commitId !== commitId) {
    throw new InvalidPersistedDataError(paths.sessionId, `${label}.commitId`, `the record is for commit \`${record.commitId}\``);
  }
  // A record after the head is the leftover of an interrupted commit (discarded before this, unless its
  // revision file was damaged): that commit never landed.
  if (head === undefined || record.result.headRevision > head.revision) return undefined;
  // While its revision file is still kept, it must name this commit too: a damaged leftover whose
  // record could not be discarded must not pass for the commit that took its revision.
  if (record.result.headRevision > head.baseRevision) {
    const text = await access.readTextIfExists(paths.revision(record.result.headRevision));
    if (text === undefined) return undefined;
    const revision = parseStoredJson(paths.sessionId, fileLabels.revision(record.result.headRevision), text, revisionCommitIdSchema);
    if (revision.commitId !== commitId) return undefined;
  }
  return record;
}

/** Writes a base file for `state` (its generation and revision). */
export async function writeBase(files: SessionFiles, state: GraphState): Promise<void> {
  const base: BaseFile = {
    format: FILE_FORMAT,
    sessionId: files.paths.sessionId,
    lineage: state.lineage,
    generation: state.generation,
    revision: state.revision,
    nodes: state.nodes.map((node) => ({ record: node.record, tombstoned: node.tombstoned })),
    ledger: [...state.ledger],
  };
  await files.access.writeAtomically(files.paths.base(state.generation), renderStoredJson(base));
}

/**
 * Deletes what a head no longer references after it moved to a new base: the previous base and the
 * revision files the new base folded in. Best effort: readers never trust these files, so a failure
 * only leaves garbage for `vacuum` or `gcUnreachable`.
 */
export async function removeFoldedFiles(files: SessionFiles, previous: HeadFile | undefined, next: HeadFile): Promise<void> {
  const { access, paths } = files;
  const removals: Promise<void>[] = [];
  if (previous !== undefined && previous.generation !== 0 && previous.generation !== next.generation) {
    removals.push(access.removeFileQuietly(paths.base(previous.generation)));
  }
  for (let revision = (previous?.baseRevision ?? 0) + 1; revision <= next.baseRevision; revision += 1) {
    removals.push(access.removeFileQuietly(paths.revision(revision)));
  }
  await Promise.all(removals);
}

/** Writes `head.json`, the commit point, after confirming the lock is still held; durable on return. */
export async function writeHead(files: SessionFiles, lock: HeldLock, head: HeadFile): Promise<void> {
  await lock.confirm();
  await files.access.writeAtomically(files.paths.head, renderStoredJson(head));
  await files.access.syncDirectory(files.paths.directory);
}

function parseCommit(commit: SessionCommit): SessionCommit {
  // Before validation, which would exhaust the stack on a hostile value; and never store what the
  // store could not read back.
  checkCommitDepth(commit);
  const parsed = sessionCommitSchema.safeParse(commit);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError(
      "invalid_argument",
      `invalid commit at \`${issue?.path.map((segment) => String(segment)).join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/**
 * Applies one commit (the store contract; the caller checked the binding and holds the lock). Files
 * are written in an order that keeps every crash point safe: the revision file (then its directory),
 * then the commit record, the checkpoint blob and a base when one is due (then their directories),
 * and last the head, whose rename is the commit point. Until then nothing a reader trusts changed.
 */
export async function applyCommit(files: SessionFiles, lock: HeldLock, commit: SessionCommit): Promise<SessionCommitResult> {
  const { access, paths } = files;
  const valid = parseCommit(commit);
  // The hash is over what the caller sent, as in the in-memory store: a replay compares like with
  // like. `durability` says how the commit is written, not what it writes, so it is left out (and
  // this store writes every commit at the `turn` level: see the stores README).
  const { durability: _durability, ...content } = commit;
  const hash = sha256Hex(stableStringify(content));
  const head = await readHead(access, paths);
  const actual = head?.revision ?? 0;
  await discardInterruptedCommit(files, actual);

  const applied = await readAppliedCommit(files, commit.commitId, head);
  if (applied !== undefined) {
    if (applied.hash !== hash) throw new CommitIdConflictError(commit.sessionId, commit.commitId);
    return { ...applied.result, replayed: true };
  }
  const revision = checkExpectedHeadRevision(valid, head?.revision);

  const lineage = head?.lineage ?? randomHex(16);
  const state = head === undefined ? emptyGraphState(lineage) : await loadGraphState(files, head);
  const nextLeaf = checkGraphCommitDelta(valid, head?.leafNodeId, {
    isTaken: (nodeId) => state.positions.has(nodeId),
    isLive: (nodeId) => isLiveNode(state, nodeId),
  });
  const usage: TokenLedgerEntry[] = valid.usageDeltas.filter((entry) => !isEmptyTokenUsage(entry.usage));
  const delta = valid.graph;

  let nextState: GraphState;
  let writesBase: boolean;
  if (delta.type === "replace_full") {
    nextState = graphStateFrom(
      { lineage, generation: (head?.generation ?? 0) + 1, revision },
      delta.graph.nodes.map((record) => ({ record, tombstoned: false })),
      [...state.ledger],
    );
    nextState = appendToGraphState(nextState, [], usage, revision);
    writesBase = true;
  } else {
    nextState = appendToGraphState(state, delta.type === "append" ? delta.nodes : [], usage, revision);
    writesBase = revision - (head?.baseRevision ?? 0) > MAX_REVISIONS_PER_BASE;
    if (writesBase) nextState = { ...nextState, generation: (head?.generation ?? 0) + 1 };
  }

  const revisionFile: RevisionFile = {
    format: FILE_FORMAT,
    sessionId: paths.sessionId,
    lineage,
    revision,
    commitId: commit.commitId,
    nodes: !writesBase && delta.type === "append" ? delta.nodes : [],
    usage: writesBase ? [] : usage,
  };
  const result: SessionCommitResult = { headRevision: revision, commitId: commit.commitId, replayed: false };
  const record: CommitRecordFile = { format: FILE_FORMAT, sessionId: paths.sessionId, commitId: commit.commitId, hash, result };
  const checkpointText = stableStringify(commit.checkpoint);
  const checkpointRef = sha256Hex(checkpointText);
  const nextHead: HeadFile = {
    format: FILE_FORMAT,
    sessionId: paths.sessionId,
    lineage,
    revision,
    generation: nextState.generation,
    baseRevision: writesBase ? revision : (head?.baseRevision ?? 0),
    config: valid.config,
    ...(nextLeaf === undefined ? {} : { leafNodeId: nextLeaf }),
    checkpointRef,
    summary: {
      committedAt: new Date().toISOString(),
      turnCount: valid.checkpoint.turnState.turnIndex,
      tokenUsage: nextState.ledger.reduce((total, entry) => addTokenUsage(total, entry.usage), emptyTokenUsage()),
    },
  };

  await ensureSessionDirectories(files);
  // The revision file first and durably: it is how a later commit finds this commit's record if the
  // process dies before the head is written.
  await access.writeAtomically(paths.revision(revision), renderStoredJson(revisionFile));
  await access.syncDirectory(paths.revisionsDirectory);
  const blobPath = paths.blob(checkpointRef);
  await Promise.all([
    access.writeAtomically(paths.commitRecord(commit.commitId), renderStoredJson(record)),
    // Content-addressed and written whole: an existing blob already holds these bytes.
    access.exists(blobPath).then((exists) => (exists ? undefined : access.writeAtomically(blobPath, checkpointText))),
    writesBase ? writeBase(files, nextState) : Promise.resolve(),
  ]);
  await Promise.all([
    access.syncDirectory(paths.commitsDirectory),
    access.syncDirectory(paths.blobsDirectory),
    writesBase ? access.syncDirectory(paths.basesDirectory) : Promise.resolve(),
  ]);
  await writeHead(files, lock, nextHead);

  files.cache.set(paths.directory, nextState);
  if (writesBase) await removeFoldedFiles(files, head, nextHead);
  return { ...result };
}
