import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LashError } from "@lash/protocol";
import { SqlSchemaNotMigratedError } from "@lash/stores/sql";
import { ApiKeyRequestError } from "./auth/api-keys.js";
import { runKeysCommand } from "./auth/keys-command.js";
import { LOCAL_TENANT } from "./auth/tenant-name.js";
import { type ResolvedProfileSpec, resolveServerConfig, type ServerFlags } from "./config/resolve-server-config.js";
import { ServerConfigError } from "./config/server-config-file.js";
import type { AgentProfile } from "./profiles/agent-profile.js";
import { profileFromSpec } from "./profiles/profile-from-spec.js";
import { isLoopbackAddress, startServer, UnprotectedBindError } from "./start-server.js";
import { openServerStore } from "./store/open-server-store.js";
import type { ServerStore } from "./store/server-store.js";
import { AccessTablesNotMigratedError } from "./store/sql-access-store.js";

/** Where the command writes, what it reads, and what it is called. */
export interface ServerCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The command's name in its messages and help: `lash-server`, or `lash serve` when the `lash` command runs it. */
  readonly name: string;
}

function usage(name: string): string {
  return `Usage: ${name} [options]
       ${name} keys create --tenant <name> [--name <label>] | keys list | keys revoke <id>

Serves lash sessions over HTTP (/v1, see /openapi.json; Prometheus metrics at /metrics). With API
keys in the store (${name} keys --help), every /v1 request needs one and acts for its tenant;
without keys, the server serves loopback clients only, as the tenant "local".

Options:
  --store <location>      sqlite:<file> (or a path), postgres://..., fs:<dir> or memory:
                          (default: LASH_STORE, the config files, else sqlite:$LASH_HOME/lash.db)
  --port <port>           the port (default 8787; 0 picks a free one)
  --host <address>        the address to bind (default 127.0.0.1; without API keys, loopback only)
  --insecure-no-auth      serve without API keys on any address (anyone who reaches it uses every session)
  --cors-origin <origin>  let pages of this origin call the API (repeatable; * for any; default: no CORS)
  --rate-limit <n>        requests per second per API key (default 10)
  --rate-burst <n>        requests at once per API key (default 50)
  --config <file>         the server's config file (default: LASH_SERVER_CONFIG, else $LASH_HOME/server.json)
  --grace-period <secs>   how long running turns may finish at shutdown before they are cancelled (default 30)
  --migrate               create or update a PostgreSQL store's tables first
  --provider <name>       the default profile's provider: openai, anthropic or scripted
  --model <model>         the default profile's model
  --base-url <url>        the default profile's API root (an OpenAI-compatible server)
  --script <file>         the scripted conversation of the scripted provider
  -h, --help              this help
  -v, --version           the version

Environment: LASH_SERVER_METRICS_TOKEN, when set, is the bearer token /metrics requires;
LASH_CONSOLE_DIR, when set, is the built console served at / (default: the one beside the server).

The first line on stdout is "${name} listening on <url>". SIGTERM or SIGINT stops it
gracefully: no new work, running turns finish (or are cancelled after the grace period), exit 0.`;
}

/** Exit codes, as the `lash` command uses them. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function version(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
    return manifest.name === "@lash/server" && typeof manifest.version === "string" ? manifest.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function parseFlags(argv: readonly string[]): ServerFlags & { help: boolean; version: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      store: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      config: { type: "string" },
      "grace-period": { type: "string" },
      migrate: { type: "boolean" },
      provider: { type: "string" },
      model: { type: "string" },
      "base-url": { type: "string" },
      script: { type: "string" },
      "insecure-no-auth": { type: "boolean" },
      "cors-origin": { type: "string", multiple: true },
      "rate-limit": { type: "string" },
      "rate-burst": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
  return {
    store: values.store,
    port: values.port,
    host: values.host,
    config: values.config,
    gracePeriod: values["grace-period"],
    migrate: values.migrate,
    provider: values.provider,
    model: values.model,
    baseUrl: values["base-url"],
    script: values.script,
    insecureNoAuth: values["insecure-no-auth"],
    corsOrigins: values["cors-origin"],
    rateLimit: values["rate-limit"],
    rateBurst: values["rate-burst"],
    help: values.help === true,
    version: values.version === true,
  };
}

/** The message and exit code of a failure: configuration mistakes are usage errors (2), the rest failures (1). */
function explain(error: unknown): { message: string; code: number } {
  if (
    error instanceof ServerConfigError ||
    error instanceof UnprotectedBindError ||
    error instanceof AccessTablesNotMigratedError ||
    error instanceof ApiKeyRequestError
  )
    return { message: error.message, code: EXIT.usage };
  if (SqlSchemaNotMigratedError.isInstance(error)) {
    // The store's advice names the library call; the operator has a flag for it.
    return {
      message: `${error.message.replace(/; run `await database\.migrateToLatest\(\)`.*$/, "")}; start with --migrate (or run \`lash db migrate\`) once`,
      code: EXIT.usage,
    };
  }
  if (LashError.isInstance(error) && error.code === "invalid_configuration") return { message: error.message, code: EXIT.usage };
  if ((error as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE") return { message: (error as Error).message, code: EXIT.failed };
  return { message: error instanceof Error ? error.message : String(error), code: EXIT.failed };
}

/** Resolves with the first SIGTERM or SIGINT; a second one while shutting down exits at once with 1 (the operator asked twice). */
async function firstStopSignal(): Promise<NodeJS.Signals> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const forced = (): void => process.exit(EXIT.failed);
  process.once("SIGTERM", forced);
  process.once("SIGINT", forced);
  return signal;
}

/** The longest title the latest-session line shows, in characters. */
const MAX_SHOWN_TITLE_LENGTH = 80;

/**
 * `latest session <title>: <url>/#/sessions/<id>`, the console's link to the most recently active
 * root session (subagents' child sessions are reached from their parent), or `undefined` when the
 * store has none or cannot list them: a listing failure never stops the server.
 */
async function latestSessionLine(store: ServerStore, url: string): Promise<string | undefined> {
  try {
    // One page, newest activity first; a few rows so a child session active last does not hide its parent.
    const page = await store.listSessions({ orderBy: "lastActivity", limit: 10 });
    const latest = page.sessions.find((summary) => summary.meta === undefined || summary.meta.relation.type === "root");
    if (latest === undefined) return undefined;
    const sessionName = latest.meta?.sessionName ?? "";
    // A title is data: control characters would rewrite the terminal's line.
    const title = sessionName === latest.sessionId ? "" : sessionName.replace(/[\p{Cc}\p{Cf}]/gu, " ").trim();
    const shown = title.length > MAX_SHOWN_TITLE_LENGTH ? `${title.slice(0, MAX_SHOWN_TITLE_LENGTH - 1)}…` : title;
    return `latest session${shown === "" ? "" : ` ${shown}`}: ${url}/#/sessions/${encodeURIComponent(latest.sessionId)}`;
  } catch {
    return undefined;
  }
}

async function serve(flags: ServerFlags, io: ServerCommandIo): Promise<number> {
  const configuration = await resolveServerConfig(flags, io.env, io.cwd);
  const profiles: Record<string, AgentProfile> = {};
  for (const [name, spec] of Object.entries(configuration.profiles) as [string, ResolvedProfileSpec][]) {
    profiles[name] = await profileFromSpec(name, spec, io.cwd);
  }
  const store = await openServerStore(configuration.store, { migrate: configuration.migrate });
  // Fail at start, not at the first request, when the store cannot be used (down, not migrated).
  await store.checkReady().catch(async (error: unknown) => {
    await store.close().catch(() => undefined);
    throw error;
  });
  const metricsToken = io.env.LASH_SERVER_METRICS_TOKEN;
  const running = await startServer({
    store,
    profiles,
    port: configuration.port,
    host: configuration.host,
    gracePeriodMs: configuration.gracePeriodMs,
    version: version(),
    insecureNoAuth: configuration.insecureNoAuth,
    access: { rateLimit: configuration.rateLimit },
    prices: configuration.prices,
    ...(io.env.LASH_CONSOLE_DIR === undefined || io.env.LASH_CONSOLE_DIR === "" ? {} : { console: { directory: io.env.LASH_CONSOLE_DIR } }),
    ...(configuration.corsOrigins.length === 0 ? {} : { cors: { origins: configuration.corsOrigins } }),
    ...(metricsToken === undefined || metricsToken === "" ? {} : { metrics: { bearerToken: metricsToken } }),
    limits: {
      ...(configuration.maxBodyBytes === undefined ? {} : { maxBodyBytes: configuration.maxBodyBytes }),
      ...(configuration.maxImageBodyBytes === undefined ? {} : { maxImageBodyBytes: configuration.maxImageBodyBytes }),
      ...(configuration.maxLiveRuntimes === undefined ? {} : { maxLiveRuntimes: configuration.maxLiveRuntimes }),
      ...(configuration.maxLiveRuntimeBytes === undefined ? {} : { maxLiveRuntimeBytes: configuration.maxLiveRuntimeBytes }),
    },
  }).catch(async (error: unknown) => {
    await store.close().catch(() => undefined);
    throw error;
  });
  const name = io.name;
  io.stdout.write(`${name} listening on ${running.url}\n`);
  io.stderr.write(`${name}: store ${store.description}; profiles: ${Object.keys(profiles).join(", ")}\n`);
  if (running.requiresApiKeys) {
    io.stderr.write(`${name}: API keys required on /v1 (Authorization: Bearer <key>); each key acts for its tenant\n`);
  } else if (isLoopbackAddress(running.host)) {
    io.stderr.write(
      `${name}: no API keys in the store: serving loopback clients only, without credentials, as the tenant ${LOCAL_TENANT} (create a key with \`lash-server keys create --tenant <name>\` and restart to require keys)\n`,
    );
  } else {
    io.stderr.write(`${name}: warning: --insecure-no-auth: no API keys; anyone who can reach ${running.url} can use every session\n`);
  }
  io.stderr.write(`${name}: console at ${running.url}/${running.requiresApiKeys ? " (enter an API key there)" : ""}\n`);
  // With keys, sessions belong to tenants: the log must not show one tenant's session to whoever reads it.
  if (!running.requiresApiKeys) {
    const latest = await latestSessionLine(store, running.url);
    if (latest !== undefined) io.stderr.write(`${name}: ${latest}\n`);
  }
  if (configuration.corsOrigins.length > 0) io.stderr.write(`${name}: CORS allows ${configuration.corsOrigins.join(", ")}\n`);
  const signal = await firstStopSignal();
  const runningTurns = running.server.stats().runningTurns;
  io.stderr.write(
    `${name}: ${signal}: shutting down${runningTurns > 0 ? `, ${runningTurns} running turn(s) get up to ${configuration.gracePeriodMs / 1000} s` : ""}\n`,
  );
  await running.close();
  return EXIT.ok;
}

/**
 * The `lash-server` command (also `lash serve`): `keys ...` manages API keys; otherwise it serves
 * until SIGTERM or SIGINT, then shuts down gracefully. Resolves to the exit code: 0 after a
 * graceful stop or `--help`, 2 for a bad flag or configuration (a store not migrated, a public
 * address without keys), 1 for other failures; the reason is on stderr.
 */
export async function runServerCommand(argv: readonly string[], io: ServerCommandIo): Promise<number> {
  // `pnpm start -- --port 0` hands the separator on: a leading one separates nothing here.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  try {
    if (args[0] === "keys") return await runKeysCommand(args.slice(1), io.env, io.cwd);
    let flags: ReturnType<typeof parseFlags>;
    try {
      flags = parseFlags(args);
    } catch (error) {
      io.stderr.write(`${io.name}: error: ${(error as Error).message}\n${usage(io.name)}\n`);
      return EXIT.usage;
    }
    if (flags.help) {
      io.stdout.write(`${usage(io.name)}\n`);
      return EXIT.ok;
    }
    if (flags.version) {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    return await serve(flags, io);
  } catch (error) {
    const { message, code } = explain(error);
    io.stderr.write(`${io.name}: error: ${message}\n`);
    return code;
  }
}
