import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import { afterAll, describe, expect, it } from "vitest";
import {
  AccessTablesNotMigratedError,
  ApiKeyIdTakenError,
  createApiKey,
  createMemoryAccessStore,
  listApiKeys,
  openServerStore,
  type ServerAccessStore,
  verifyApiKey,
} from "../src/index.js";

const postgresEnabled = await postgresTestsEnabled();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-access-"));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** A backend: a way to open its access store, twice over the same location when it is durable. */
interface Backend {
  readonly name: string;
  readonly enabled: boolean;
  /** Opens the store at a fresh location; `reopen` opens another handle on the same one (durable backends). */
  open(): Promise<{ access: ServerAccessStore; reopen?: () => Promise<ServerAccessStore>; files?: string }>;
}

function storeBackend(name: string, location: (directory: string) => string): Backend {
  return {
    name,
    enabled: true,
    open: async () => {
      const directory = await temporaryDirectory();
      const first = await openServerStore(location(directory));
      cleanups.push(() => first.close());
      return {
        access: first.access,
        files: directory,
        reopen: async () => {
          const second = await openServerStore(location(directory));
          cleanups.push(() => second.close());
          return second.access;
        },
      };
    },
  };
}

const BACKENDS: Backend[] = [
  { name: "memory", enabled: true, open: async () => ({ access: createMemoryAccessStore() }) },
  storeBackend("sqlite", (directory) => `sqlite:${join(directory, "lash.db")}`),
  storeBackend("fs", (directory) => `fs:${join(directory, "sessions")}`),
  {
    name: "postgres",
    enabled: postgresEnabled,
    open: async () => {
      const schema = freshSchemaName("lash_server_access_");
      const location = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}schema=${schema}`;
      cleanups.push(() => dropSchema(schema));
      await expect(openServerStore(location)).rejects.toBeInstanceOf(AccessTablesNotMigratedError);
      const first = await openServerStore(location, { migrate: true });
      cleanups.push(() => first.close());
      return {
        access: first.access,
        reopen: async () => {
          const second = await openServerStore(location, { migrate: true });
          cleanups.push(() => second.close());
          return second.access;
        },
      };
    },
  },
];

describe.each(BACKENDS)("the $name access store", (backend) => {
  it.skipIf(!backend.enabled)("keeps keys hashed, finds, lists and revokes them, and refuses a taken id", async () => {
    const { access, reopen, files } = await backend.open();
    const first = await createApiKey(access, { tenant: "acme", name: "ci", now: new Date("2026-01-01T00:00:00.000Z") });
    const second = await createApiKey(access, { tenant: "globex", now: new Date("2026-01-02T00:00:00.000Z") });
    expect(await verifyApiKey(access, first.key)).toEqual({ keyId: first.info.id, tenant: "acme" });
    expect(await verifyApiKey(access, `${first.key.slice(0, -1)}x`)).toBeUndefined();
    expect((await listApiKeys(access)).map((key) => key.id)).toEqual([first.info.id, second.info.id]);

    const stored = await access.findApiKey(first.info.id);
    expect(stored).toMatchObject({ id: first.info.id, tenant: "acme", name: "ci", createdAt: "2026-01-01T00:00:00.000Z" });
    expect(JSON.stringify(stored)).not.toContain(first.key.slice(-43));
    await expect(access.insertApiKey({ ...stored!, hash: "0".repeat(64) })).rejects.toBeInstanceOf(ApiKeyIdTakenError);

    const revoked = await access.revokeApiKey(first.info.id, "2026-02-01T00:00:00.000Z");
    expect(revoked?.revokedAt).toBe("2026-02-01T00:00:00.000Z");
    // Revoked once, revoked for good, with its first time.
    expect((await access.revokeApiKey(first.info.id, "2026-03-01T00:00:00.000Z"))?.revokedAt).toBe("2026-02-01T00:00:00.000Z");
    expect(await access.revokeApiKey("0123456789ab", "2026-03-01T00:00:00.000Z")).toBeUndefined();
    expect(await verifyApiKey(access, first.key)).toBeUndefined();

    if (reopen !== undefined) {
      // Another process on the same store (the `keys` command while the server runs) sees the same keys.
      const other = await reopen();
      expect(await verifyApiKey(other, second.key)).toEqual({ keyId: second.info.id, tenant: "globex" });
      const third = await createApiKey(other, { tenant: "acme" });
      expect(await verifyApiKey(access, third.key)).toEqual({ keyId: third.info.id, tenant: "acme" });
      expect(await verifyApiKey(access, first.key)).toBeUndefined();
    }
    if (files !== undefined && backend.name === "fs") {
      const text = await readFile(join(files, "sessions", "server", "api-keys.json"), "utf8");
      expect(text).not.toContain(first.key);
      expect(text).not.toContain(second.key.slice(-43));
      expect(text).toContain(second.info.id);
    }
  });

  it.skipIf(!backend.enabled)("records sessions' owners and pages through a tenant's sessions in code-point order", async () => {
    const { access, reopen } = await backend.open();
    const acme = Array.from({ length: 5 }, () => randomUUID()).sort();
    for (const sessionId of acme) await access.assignSession(sessionId, "acme");
    const globex = randomUUID();
    await access.assignSession(globex, "globex");

    expect(await access.tenantSessionIds("acme", { limit: 2 })).toEqual(acme.slice(0, 2));
    expect(await access.tenantSessionIds("acme", { limit: 2, after: acme[1] })).toEqual(acme.slice(2, 4));
    expect(await access.tenantSessionIds("acme", { limit: 10, after: acme[3] })).toEqual(acme.slice(4));
    expect(await access.tenantSessionIds("initech", { limit: 10 })).toEqual([]);
    const owners = await access.ownersOf([acme[0]!, globex, "never-assigned", "Not/A/File"]);
    expect(Object.fromEntries(owners)).toEqual({ [acme[0]!]: "acme", [globex]: "globex" });
    expect((await access.ownersOf([])).size).toBe(0);

    await access.unassignSession(acme[0]!);
    await access.unassignSession("never-assigned");
    expect(await access.tenantSessionIds("acme", { limit: 10 })).toEqual(acme.slice(1));
    expect((await access.ownersOf([acme[0]!])).size).toBe(0);
    if (reopen !== undefined) expect(await (await reopen()).tenantSessionIds("globex", { limit: 10 })).toEqual([globex]);
  });
});
