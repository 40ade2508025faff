import { dirname } from "node:path";
import { StoreUnavailableError } from "@lash/protocol";
import { z } from "zod";
import { parseJsonWithinDepth } from "../shared/json-depth.js";
import { asStoreError, errorCode, type FileAccess, isMissingFileError, randomHex } from "./file-access.js";

/**
 * A lock file whose content did not parse is either being written right now (open and write are two
 * steps) or was left by a process that died between them; after this long it is treated as the latter.
 */
const UNREADABLE_LOCK_GRACE_MS = 2_000;
const FIRST_RETRY_DELAY_MS = 2;
const LONGEST_RETRY_DELAY_MS = 50;

const lockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  token: z.string().min(1),
  acquiredAt: z.string(),
});
type LockOwner = z.infer<typeof lockOwnerSchema>;

/** A lock this process holds. */
export interface HeldLock {
  /**
   * Checks that the lock file is still this holder's (another process may have broken it, believing
   * this process dead). Called right before a commit point; throws `StoreUnavailableError` when lost.
   */
  confirm(): Promise<void>;
}

/**
 * One queue per lock path in this process: handles of the same session, even from two database
 * objects on one root, wait for each other here instead of polling the lock file.
 */
const inProcessQueues = new Map<string, Promise<void>>();

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function processIsAlive(pid: number): boolean {
  try {
    // Signal 0 only checks that the process exists; EPERM means it exists but belongs to someone else.
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

async function waitInProcessTurn(lockPath: string, deadline: number, sessionId: string): Promise<() => void> {
  const previous = inProcessQueues.get(lockPath) ?? Promise.resolve();
  let releaseTurn: () => void = () => undefined;
  const turn = new Promise<void>((resolve) => {
    releaseTurn = resolve;
  });
  const tail = previous.then(() => turn);
  inProcessQueues.set(lockPath, tail);
  const release = (): void => {
    releaseTurn();
    if (inProcessQueues.get(lockPath) === tail) inProcessQueues.delete(lockPath);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([previous.then(() => "ready" as const), timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    // Keep the queue's order: those behind this waiter still wait for the holder ahead of it.
    void previous.then(release);
    throw new StoreUnavailableError(`timed out waiting for the write lock of session \`${sessionId}\` (held in this process)`);
  }
  return release;
}

/**
 * Moves a lock file of a dead owner out of the way. The file is renamed to a unique name first and
 * compared with what was judged stale: when another process had replaced it in between, it is linked
 * back (unless a third process already holds the name), so a live holder is not robbed.
 */
async function breakStaleLock(access: FileAccess, lockPath: string, observedContent: string): Promise<void> {
  const movedPath = `${lockPath}.stale-${randomHex(8)}`;
  if (!(await access.rename(lockPath, movedPath))) return;
  const moved = await access.readTextIfExists(movedPath);
  if (moved !== observedContent && moved !== undefined) {
    try {
      await access.fileSystem.link(movedPath, lockPath);
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw asStoreError(error, "restore the lock", lockPath);
    }
  }
  await access.removeFile(movedPath);
}

async function lockFileAge(access: FileAccess, lockPath: string): Promise<number | undefined> {
  try {
    const status = await access.fileSystem.stat(lockPath);
    return Date.now() - status.mtimeMs;
  } catch (error) {
    if (isMissingFileError(error)) return undefined;
    throw asStoreError(error, "inspect", lockPath);
  }
}

function parseOwner(content: string): LockOwner | undefined {
  // A lock file that cannot be read (malformed, nested too deeply) names no owner: it is judged by age.
  const reading = parseJsonWithinDepth(content);
  if (!reading.ok) return undefined;
  const parsed = lockOwnerSchema.safeParse(reading.value);
  return parsed.success ? parsed.data : undefined;
}

/** Tries once to make the lock file go away when its owner is dead; true when it may be retried now. */
async function clearIfStale(access: FileAccess, lockPath: string): Promise<boolean> {
  const content = await access.readTextIfExists(lockPath);
  if (content === undefined) return true;
  const owner = parseOwner(content);
  if (owner !== undefined) {
    if (processIsAlive(owner.pid)) return false;
    await breakStaleLock(access, lockPath, content);
    return true;
  }
  const age = await lockFileAge(access, lockPath);
  if (age === undefined) return true;
  if (age < UNREADABLE_LOCK_GRACE_MS) return false;
  await breakStaleLock(access, lockPath, content);
  return true;
}

async function acquireLockFile(access: FileAccess, lockPath: string, deadline: number, sessionId: string): Promise<HeldLock> {
  const owner: LockOwner = { pid: process.pid, token: randomHex(16), acquiredAt: new Date().toISOString() };
  const content = JSON.stringify(owner);
  let delay = FIRST_RETRY_DELAY_MS;
  for (let attempt = 0; ; attempt += 1) {
    // Every way round the loop (a directory to create, a stale lock to break, a live holder) is bounded.
    if (attempt > 0 && Date.now() >= deadline) {
      throw new StoreUnavailableError(
        `timed out waiting for the write lock of session \`${sessionId}\` (\`${lockPath}\` is held by another process)`,
      );
    }
    try {
      await access.fileSystem.writeFile(lockPath, content, { encoding: "utf8", flag: "wx" });
      break;
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT") {
        await access.ensureDirectory(dirname(lockPath));
        continue;
      }
      if (code !== "EEXIST") throw asStoreError(error, "create the lock", lockPath);
    }
    if (await clearIfStale(access, lockPath)) continue;
    if (Date.now() >= deadline) continue;
    await pause(delay);
    delay = Math.min(delay * 2, LONGEST_RETRY_DELAY_MS);
  }
  return {
    async confirm(): Promise<void> {
      const current = await access.readTextIfExists(lockPath);
      if (current !== content) {
        throw new StoreUnavailableError(
          `the write lock of session \`${sessionId}\` was taken over by another process; nothing was committed`,
        );
      }
    },
  };
}

/**
 * Deletes the lock file when it is still this holder's. Never throws: the action's outcome (a commit
 * that landed) matters more than the release, and a lock file left behind by a failed delete names
 * this process, so it is broken once this process is gone.
 */
async function releaseLockFile(access: FileAccess, lockPath: string, held: HeldLock): Promise<void> {
  try {
    await held.confirm();
    await access.removeFile(lockPath);
  } catch {
    // Someone else owns the file now (deleting it would release their lock), or the delete failed.
  }
}

/**
 * Runs `action` while holding the session's write lock: first this process's queue for the lock path,
 * then an exclusive lock file (created with `wx`, holding the pid, a token and the time) that other
 * processes respect. A lock file whose pid is not alive is broken. Waiting longer than `timeoutMs` in
 * total throws `StoreUnavailableError`.
 */
export async function withSessionLock<T>(
  access: FileAccess,
  lockPath: string,
  options: { readonly sessionId: string; readonly timeoutMs: number },
  action: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const releaseTurn = await waitInProcessTurn(lockPath, deadline, options.sessionId);
  try {
    const held = await acquireLockFile(access, lockPath, deadline, options.sessionId);
    try {
      return await action(held);
    } finally {
      await releaseLockFile(access, lockPath, held);
    }
  } finally {
    releaseTurn();
  }
}
