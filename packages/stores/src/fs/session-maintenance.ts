import { join } from "node:path";
import { type GcReport, LashError, type SessionMeta, sessionMetaSchema, type VacuumReport } from "@lash/protocol";
import { randomHex, TEMPORARY_FILE_PREFIX } from "./file-access.js";
import { discardInterruptedCommit, ensureSessionDirectories, removeFoldedFiles, writeBase, writeHead } from "./session-commit.js";
import { FILE_FORMAT, type HeadFile, type MetaFile, readHead, readMeta, renderStoredJson, TRASH_DIRECTORY } from "./session-files.js";
import { type GraphState, graphStateFrom, loadGraphState, type SessionFiles } from "./session-graph-state.js";
import type { HeldLock } from "./session-lock.js";

const BLOB_FILE = /^[0-9a-f]{64}\.json$/;
const BASE_FILE = /^([1-9][0-9]*)\.json$/;
const REVISION_FILE = /^([1-9][0-9]*)\.json$/;

/** Validates meta a caller wants to save; `invalid_argument` names the bad field. */
export function parseMeta(meta: SessionMeta): SessionMeta {
  const parsed = sessionMetaSchema.safeParse(meta);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LashError(
      "invalid_argument",
      `invalid session meta at \`${issue?.path.map((segment) => String(segment)).join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/** Writes `meta.json` (under the lock). With `onlyIfAbsent`, existing meta is kept. */
export async function saveMeta(files: SessionFiles, meta: SessionMeta, options: { readonly onlyIfAbsent: boolean }): Promise<void> {
  if (options.onlyIfAbsent && (await readMeta(files.access, files.paths)) !== undefined) return;
  await ensureSessionDirectories(files);
  const file: MetaFile = { format: FILE_FORMAT, meta };
  await files.access.writeAtomically(files.paths.meta, renderStoredJson(file));
  await files.access.syncDirectory(files.paths.directory);
}

/** Replaces the head's graph with `next` (a new base, same revision) and deletes what it replaced. */
async function rebase(files: SessionFiles, lock: HeldLock, head: HeadFile, next: GraphState): Promise<void> {
  await ensureSessionDirectories(files);
  await writeBase(files, next);
  await files.access.syncDirectory(files.paths.basesDirectory);
  const nextHead: HeadFile = { ...head, generation: next.generation, baseRevision: head.revision };
  await writeHead(files, lock, nextHead);
  files.cache.set(files.paths.directory, next);
  await removeFoldedFiles(files, head, nextHead);
}

/** `SessionStore.tombstoneNodes` (under the lock): live nodes among `nodeIds` become tombstoned. */
export async function tombstoneNodes(files: SessionFiles, lock: HeldLock, nodeIds: readonly string[]): Promise<void> {
  const head = await readHead(files.access, files.paths);
  if (head === undefined) return;
  await discardInterruptedCommit(files, head.revision);
  const state = await loadGraphState(files, head);
  const hidden = new Set(
    nodeIds.filter((nodeId) => {
      const position = state.positions.get(nodeId);
      return position !== undefined && state.nodes[position]?.tombstoned === false;
    }),
  );
  if (hidden.size === 0) return;
  const nodes = state.nodes.map((node) => (hidden.has(node.record.nodeId) ? { record: node.record, tombstoned: true } : node));
  await rebase(
    files,
    lock,
    head,
    graphStateFrom({ lineage: head.lineage, generation: head.generation + 1, revision: head.revision }, nodes, state.ledger),
  );
}

/**
 * Deletes everything in the session directory that the head does not reference and no reader trusts:
 * temporary files, bases of other generations, revision files already folded into the base, blobs
 * (only when `includeBlobs`). Runs under the lock, so no writer of this session is mid-write.
 * Returns the number of blobs deleted.
 */
async function removeUnreferencedFiles(files: SessionFiles, head: HeadFile | undefined, includeBlobs: boolean): Promise<number> {
  const { access, paths } = files;
  const removals: Promise<void>[] = [];
  const isTemporary = (name: string): boolean => name.startsWith(TEMPORARY_FILE_PREFIX);
  for (const name of await access.listDirectory(paths.directory)) {
    if (isTemporary(name)) removals.push(access.removeFile(join(paths.directory, name)));
  }
  for (const name of await access.listDirectory(paths.basesDirectory)) {
    const generation = BASE_FILE.exec(name)?.[1];
    if (isTemporary(name) || (generation !== undefined && Number(generation) !== head?.generation)) {
      removals.push(access.removeFile(join(paths.basesDirectory, name)));
    }
  }
  for (const name of await access.listDirectory(paths.revisionsDirectory)) {
    const revision = REVISION_FILE.exec(name)?.[1];
    // Revision files after the head were already discarded with their commit records.
    if (isTemporary(name) || (revision !== undefined && Number(revision) <= (head?.baseRevision ?? 0))) {
      removals.push(access.removeFile(join(paths.revisionsDirectory, name)));
    }
  }
  for (const name of await access.listDirectory(paths.commitsDirectory)) {
    if (isTemporary(name)) removals.push(access.removeFile(join(paths.commitsDirectory, name)));
  }
  let deletedBlobCount = 0;
  for (const name of await access.listDirectory(paths.blobsDirectory)) {
    if (isTemporary(name)) {
      removals.push(access.removeFile(join(paths.blobsDirectory, name)));
    } else if (includeBlobs && BLOB_FILE.test(name) && name !== `${head?.checkpointRef}.json`) {
      deletedBlobCount += 1;
      removals.push(access.removeFile(join(paths.blobsDirectory, name)));
    }
  }
  await Promise.all(removals);
  return deletedBlobCount;
}

/** `SessionStore.vacuum` (under the lock): tombstoned nodes are deleted for good. */
export async function vacuum(files: SessionFiles, lock: HeldLock): Promise<VacuumReport> {
  const head = await readHead(files.access, files.paths);
  if (head === undefined) return { removedNodeCount: 0 };
  await discardInterruptedCommit(files, head.revision);
  const state = await loadGraphState(files, head);
  const kept = state.nodes.filter((node) => !node.tombstoned);
  const removedNodeCount = state.nodes.length - kept.length;
  let current = head;
  if (removedNodeCount > 0) {
    const next = graphStateFrom({ lineage: head.lineage, generation: head.generation + 1, revision: head.revision }, kept, state.ledger);
    await rebase(files, lock, head, next);
    current = { ...head, generation: next.generation, baseRevision: head.revision };
  }
  await removeUnreferencedFiles(files, current, false);
  return { removedNodeCount };
}

/** `SessionStore.gcUnreachable` (under the lock): only the head's checkpoint blob is kept. */
export async function gcUnreachable(files: SessionFiles): Promise<GcReport> {
  const head = await readHead(files.access, files.paths);
  if (head !== undefined) await discardInterruptedCommit(files, head.revision);
  const deletedBlobCount = await removeUnreferencedFiles(files, head, true);
  const retained = head !== undefined && (await files.access.exists(files.paths.blob(head.checkpointRef)));
  return { rootCount: head === undefined ? 0 : 1, retainedBlobCount: retained ? 1 : 0, deletedBlobCount };
}

/**
 * `SessionStore.deleteSession` (under the lock). The directory is renamed into the trash first (one
 * atomic step, made durable), then deleted: a crash in between leaves a trash entry, never a
 * half-deleted session that still looks valid. Trash left by earlier crashes is emptied too.
 */
export async function deleteSession(files: SessionFiles): Promise<void> {
  const { access, paths } = files;
  files.cache.delete(paths.directory);
  const trashDirectory = join(paths.root, TRASH_DIRECTORY);
  if (await access.exists(paths.directory)) {
    await access.ensureDirectory(trashDirectory);
    const trashPath = join(trashDirectory, `${paths.encodedName}.${randomHex(8)}`);
    if (await access.rename(paths.directory, trashPath)) {
      await access.syncDirectory(paths.sessionsDirectory);
      await access.syncDirectory(trashDirectory);
    }
  }
  for (const name of await access.listDirectory(trashDirectory)) {
    try {
      await access.removeTree(join(trashDirectory, name));
    } catch {
      // Another process may be emptying the same entry; whatever is left goes with the next delete.
    }
  }
}
