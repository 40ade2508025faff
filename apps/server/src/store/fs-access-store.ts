import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { compareCodePoints, StoreUnavailableError } from "@lash/protocol";
import { z } from "zod";
import { ApiKeyIdTakenError, type ServerAccessStore, type StoredApiKey } from "./access-store.js";

/** The folder of the server's records inside a filesystem store's root (the session store uses `sessions/`, `locks/`, `trash/`). */
export const FS_ACCESS_DIRECTORY = "server";

const KEYS_FILE = "api-keys.json";
const KEYS_LOCK = "api-keys.lock";
const KEYS_FORMAT = "lash.server.api-keys.v1";
/** A keys file larger than this is not one the server wrote. */
const MAX_KEYS_FILE_BYTES = 16 * 1024 * 1024;
/** How long a writer waits for the keys file's lock, and when a lock is old enough to be a crashed writer's. */
const LOCK_TIMEOUT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

/**
 * Names that become file names are restricted: session ids the server generates (lowercase UUIDs)
 * and tenant names (lowercase, see `auth/tenant-name.ts`). Lowercase only, so that a case-insensitive
 * filesystem cannot merge two of them.
 */
const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

const storedKeySchema = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string().optional(),
  hash: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
const keysFileSchema = z.object({ format: z.literal(KEYS_FORMAT), keys: z.array(storedKeySchema) });

/** Writes `text` to `path` through a temporary file and a rename, synced first: a reader sees the old file or the new one. */
async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

function unavailable(action: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `the server's records could not be ${action}: ${error instanceof Error ? error.message : String(error)}`,
    {
      cause: error,
    },
  );
}

/**
 * The server's records of a filesystem store, under `<root>/server/`: the keys in one JSON file
 * (written through a lock file, atomically; read again whenever it changes), and each session's
 * owner as two empty-or-tiny files, `session-owners/<session>` (its tenant) and
 * `tenant-sessions/<tenant>/<session>` (for the tenant's listing, one directory read per page).
 */
export function createFileAccessStore(root: string): ServerAccessStore {
  const directory = join(root, FS_ACCESS_DIRECTORY);
  const keysPath = join(directory, KEYS_FILE);
  const ownersDirectory = join(directory, "session-owners");
  const tenantsDirectory = join(directory, "tenant-sessions");
  let cached: { readonly signature: string; readonly keys: StoredApiKey[] } | undefined;

  async function readKeys(): Promise<StoredApiKey[]> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(keysPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw unavailable("read", error);
    }
    // Requests check keys all the time and keys change rarely: the file is parsed again only when it changed.
    const signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (cached?.signature === signature) return cached.keys;
    if (info.size > MAX_KEYS_FILE_BYTES) throw unavailable("read", new Error(`${keysPath} is larger than 16 MiB`));
    let parsed: z.infer<typeof keysFileSchema>;
    try {
      parsed = keysFileSchema.parse(JSON.parse(await readFile(keysPath, "utf8")));
    } catch (error) {
      throw unavailable("read", new Error(`${keysPath} is damaged: ${error instanceof Error ? error.message : String(error)}`));
    }
    const keys = parsed.keys.map((key) => ({ ...key }) as StoredApiKey);
    cached = { signature, keys };
    return keys;
  }

  /** Runs `change` on the keys under the lock file, and writes what it returns (nothing when it returns `undefined`). */
  async function updateKeys<Result>(change: (keys: StoredApiKey[]) => { keys?: StoredApiKey[]; result: Result }): Promise<Result> {
    await mkdir(directory, { recursive: true });
    const lockPath = join(directory, KEYS_LOCK);
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        await (await open(lockPath, "wx", 0o600)).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw unavailable("locked", error);
        const lock = await stat(lockPath).catch(() => undefined);
        if (lock !== undefined && Date.now() - lock.mtimeMs > STALE_LOCK_MS) await rm(lockPath, { force: true });
        else if (Date.now() > deadline) throw unavailable("locked", new Error(`${lockPath} is held by another writer`));
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    try {
      cached = undefined;
      const { keys, result } = change(await readKeys());
      if (keys !== undefined) {
        await writeFileAtomically(keysPath, `${JSON.stringify({ format: KEYS_FORMAT, keys }, null, 2)}\n`);
        cached = undefined;
      }
      return result;
    } finally {
      await rm(lockPath, { force: true });
    }
  }

  return {
    insertApiKey: (key) =>
      updateKeys((keys) => {
        if (keys.some((existing) => existing.id === key.id)) throw new ApiKeyIdTakenError(key.id);
        return { keys: [...keys, key], result: undefined };
      }),
    findApiKey: async (id) => (await readKeys()).find((key) => key.id === id),
    listApiKeys: async () => [...(await readKeys())],
    revokeApiKey: (id, revokedAt) =>
      updateKeys((keys) => {
        const key = keys.find((existing) => existing.id === id);
        if (key === undefined) return { result: undefined };
        if (key.revokedAt !== undefined) return { result: key };
        const revoked = { ...key, revokedAt };
        return { keys: keys.map((existing) => (existing.id === id ? revoked : existing)), result: revoked };
      }),
    assignSession: async (sessionId, tenant) => {
      if (!FILE_NAME.test(sessionId) || !FILE_NAME.test(tenant)) {
        // The server generates both (lowercase UUIDs, checked tenant names): anything else is its own bug.
        throw new Error(`the filesystem store records owners of lowercase ids only, not ${JSON.stringify(sessionId)}`);
      }
      try {
        await mkdir(join(tenantsDirectory, tenant), { recursive: true });
        await mkdir(ownersDirectory, { recursive: true });
        await writeFileAtomically(join(tenantsDirectory, tenant, sessionId), "");
        await writeFileAtomically(join(ownersDirectory, sessionId), tenant);
      } catch (error) {
        throw unavailable("written", error);
      }
    },
    unassignSession: async (sessionId) => {
      if (!FILE_NAME.test(sessionId)) return;
      try {
        const owner = await readFile(join(ownersDirectory, sessionId), "utf8").catch(() => undefined);
        if (owner !== undefined && FILE_NAME.test(owner)) await rm(join(tenantsDirectory, owner, sessionId), { force: true });
        await rm(join(ownersDirectory, sessionId), { force: true });
      } catch (error) {
        throw unavailable("written", error);
      }
    },
    ownersOf: async (sessionIds) => {
      const owners = new Map<string, string>();
      await Promise.all(
        sessionIds
          .filter((sessionId) => FILE_NAME.test(sessionId))
          .map(async (sessionId) => {
            try {
              const owner = await readFile(join(ownersDirectory, sessionId), "utf8");
              if (FILE_NAME.test(owner)) owners.set(sessionId, owner);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw unavailable("read", error);
            }
          }),
      );
      return owners;
    },
    tenantSessionIds: async (tenant, page) => {
      if (!FILE_NAME.test(tenant)) return [];
      let names: string[];
      try {
        names = await readdir(join(tenantsDirectory, tenant));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw unavailable("read", error);
      }
      return names
        .filter(
          (name) => FILE_NAME.test(name) && !name.endsWith(".tmp") && (page.after === undefined || compareCodePoints(name, page.after) > 0),
        )
        .sort(compareCodePoints)
        .slice(0, page.limit);
    },
    close: async () => undefined,
  };
}
