import { parseArgs } from "node:util";
import { resolveServerConfig } from "../config/resolve-server-config.js";
import { ServerConfigError } from "../config/server-config-file.js";
import { openServerStore } from "../store/open-server-store.js";
import { type ApiKeyInfo, createApiKey, listApiKeys, parseApiKeyId, revokeApiKey } from "./api-keys.js";

export const KEYS_USAGE = `Usage: lash-server keys <command> [options]

Manages the API keys of the server's store. With at least one active key, the server requires
one on every /v1 request (Authorization: Bearer <key>) and each key acts for its tenant; without
keys it serves loopback clients only, as the tenant "local". The server reads whether keys exist
when it starts: restart it after creating the first key.

Commands:
  create --tenant <name> [--name <label>]   creates a key for the tenant and prints it, once, on stdout
  list [--json]                             the keys: id, tenant, name, created, revoked (never a secret)
  revoke <id>                               revokes a key at once (its id, or the lsk_<id> it starts with)

Options:
  --store <location>   the store, as for lash-server (default: LASH_STORE, the config files, else
                       sqlite:$LASH_HOME/lash.db)
  --config <file>      the server's config file
  --migrate            create a PostgreSQL store's tables first
  -h, --help           this help

Tenant names: lowercase letters, digits, . _ -, starting with a letter or digit, at most 64.`;

/** A mistake in the command line: usage exit (2). */
export class KeysUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeysUsageError";
  }
}

function table(keys: readonly ApiKeyInfo[]): string {
  const rows = [
    ["id", "tenant", "name", "created", "status"],
    ...keys.map((key) => [
      key.id,
      key.tenant,
      key.name ?? "-",
      key.createdAt,
      key.revokedAt === undefined ? "active" : `revoked ${key.revokedAt}`,
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * `lash-server keys ...`: resolves to the exit code. Writes the key of `create` alone on stdout
 * (so `KEY=$(lash-server keys create --tenant acme)` works), everything else about it on stderr.
 */
export async function runKeysCommand(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  let parsed: ReturnType<typeof parseKeysArguments>;
  try {
    parsed = parseKeysArguments(argv);
  } catch (error) {
    process.stderr.write(`lash-server: error: ${(error as Error).message}\n${KEYS_USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${KEYS_USAGE}\n`);
    return 0;
  }
  const configuration = await resolveServerConfig({ store: parsed.store, config: parsed.config, migrate: parsed.migrate }, env, cwd);
  if (configuration.store === "memory:") {
    throw new ServerConfigError("the memory: store lives inside one server process: its keys cannot be managed from the command line");
  }
  const store = await openServerStore(configuration.store, { migrate: configuration.migrate });
  try {
    if (parsed.command === "create") {
      const created = await createApiKey(store.access, { tenant: parsed.tenant, name: parsed.name });
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(
        `lash-server: created API key ${created.info.id} for tenant ${created.info.tenant}${created.info.name === undefined ? "" : ` (${created.info.name})`} in ${store.description}.\n` +
          "lash-server: this is the only time the key is shown: store it now. A server started without keys needs a restart to require them.\n",
      );
      return 0;
    }
    if (parsed.command === "list") {
      const keys = await listApiKeys(store.access);
      process.stdout.write(parsed.json ? `${JSON.stringify(keys, null, 2)}\n` : `${table(keys)}\n`);
      return 0;
    }
    const revoked = await revokeApiKey(store.access, parsed.id);
    if (revoked === undefined) {
      process.stderr.write(`lash-server: error: no API key ${parsed.id} in ${store.description}\n`);
      return 1;
    }
    process.stderr.write(
      `lash-server: API key ${revoked.id} of tenant ${revoked.tenant} is revoked (since ${revoked.revokedAt ?? "now"})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

type KeysArguments = { readonly store?: string; readonly config?: string; readonly migrate: boolean; readonly help: boolean } & (
  | { readonly command: "create"; readonly tenant: string; readonly name: string | undefined }
  | { readonly command: "list"; readonly json: boolean }
  | { readonly command: "revoke"; readonly id: string }
);

function parseKeysArguments(argv: readonly string[]): KeysArguments {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      store: { type: "string" },
      config: { type: "string" },
      migrate: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const common = {
    ...(values.store === undefined ? {} : { store: values.store }),
    ...(values.config === undefined ? {} : { config: values.config }),
    migrate: values.migrate === true,
  };
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    if (values.help !== true) throw new KeysUsageError("name a command: create, list or revoke");
    return { ...common, help: true, command: "list", json: false };
  }
  const refuse = (flags: Record<string, unknown>) => {
    for (const [flag, value] of Object.entries(flags))
      if (value !== undefined) throw new KeysUsageError(`keys ${command} takes no --${flag}`);
  };
  switch (command) {
    case "create":
      if (rest.length > 0) throw new KeysUsageError(`keys create takes no arguments, got ${rest.join(" ")}`);
      refuse({ json: values.json });
      if (values.tenant === undefined) throw new KeysUsageError("keys create needs --tenant <name>");
      return { ...common, help: false, command, tenant: values.tenant, name: values.name };
    case "list":
      if (rest.length > 0) throw new KeysUsageError(`keys list takes no arguments, got ${rest.join(" ")}`);
      refuse({ tenant: values.tenant, name: values.name });
      return { ...common, help: false, command, json: values.json === true };
    case "revoke": {
      refuse({ tenant: values.tenant, name: values.name, json: values.json });
      const [id, ...extra] = rest;
      if (id === undefined || extra.length > 0) throw new KeysUsageError("keys revoke takes one key id");
      if (parseApiKeyId(id) === undefined)
        throw new KeysUsageError(`${JSON.stringify(id)} is not a key id (12 hex digits, or lsk_ and 12 hex digits)`);
      return { ...common, help: false, command, id };
    }
    default:
      throw new KeysUsageError(`unknown keys command ${JSON.stringify(command)}: use create, list or revoke`);
  }
}
