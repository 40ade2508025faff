import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelProvider } from "@lash/protocol";
import type { AgentProfile, CorsOptions, RunningServer, ServerAccessOptions, ServerLimits, ServerStore } from "../src/index.js";
import { createApiKey, openServerStore, startServer } from "../src/index.js";
import { requestJson } from "./server-harness.js";

/** A server on loopback over a fresh SQLite file, with API keys created before it started. */
export interface KeyedServer {
  readonly url: string;
  readonly running: RunningServer;
  readonly store: ServerStore;
  readonly directory: string;
  /** The key of each tenant named at start, by tenant. */
  readonly keys: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts a server whose store holds one key per tenant in `tenants` (created with `createApiKey`,
 * the code path of `lash-server keys create`), so it requires keys; with no tenants it runs without.
 */
export async function startKeyedServer(options: {
  readonly provider: ModelProvider;
  readonly tenants: readonly string[];
  readonly profile?: Omit<AgentProfile, "provider">;
  readonly access?: Omit<ServerAccessOptions, "requireApiKeys">;
  readonly cors?: CorsOptions;
  readonly limits?: Partial<ServerLimits>;
}): Promise<KeyedServer> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-tenants-"));
  const store = await openServerStore(`sqlite:${join(directory, "lash.db")}`);
  const keys: Record<string, string> = {};
  for (const tenant of options.tenants) keys[tenant] = (await createApiKey(store.access, { tenant, name: `${tenant} test key` })).key;
  const running = await startServer({
    store,
    port: 0,
    profiles: { default: { provider: options.provider, ...options.profile } },
    gracePeriodMs: 5_000,
    onUnexpectedError: () => undefined,
    ...(options.access === undefined ? {} : { access: options.access }),
    ...(options.cors === undefined ? {} : { cors: options.cors }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  return {
    url: running.url,
    running,
    store,
    directory,
    keys,
    stop: async () => {
      await running.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The `Authorization` header of a key. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Creates a session with `key` and returns its id. */
export async function createSessionAs(server: KeyedServer, key: string, body: unknown = {}): Promise<string> {
  const created = await requestJson(`${server.url}/v1/sessions`, { body, headers: bearer(key) });
  if (created.status !== 201) throw new Error(`creating a session failed: ${created.status} ${JSON.stringify(created.body)}`);
  return (created.body as { id: string }).id;
}
