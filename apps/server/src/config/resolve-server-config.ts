import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { isHttpServer, type McpServersConfig } from "@lash/mcp";
import type { PriceTable } from "@lash/observability";
import { isCorsOrigin } from "../auth/cors-middleware.js";
import { DEFAULT_RATE_LIMIT, type RateLimit } from "../auth/rate-limiter.js";
import { normalizeStoreLocation, StoreLocationError } from "../store/open-server-store.js";
import {
  type CommandConfigFile,
  commandConfigFileSchema,
  PROVIDER_NAMES,
  type ProfileSpec,
  type ProviderName,
  readConfigFile,
  ServerConfigError,
  serverConfigFileSchema,
} from "./server-config-file.js";

/** The command-line flags of `lash-server` (parsed, not yet checked). */
export interface ServerFlags {
  readonly store?: string | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  readonly config?: string | undefined;
  readonly gracePeriod?: string | undefined;
  readonly migrate?: boolean | undefined;
  readonly provider?: string | undefined;
  readonly model?: string | undefined;
  readonly baseUrl?: string | undefined;
  readonly script?: string | undefined;
  /** `--cors-origin`, repeatable. */
  readonly corsOrigins?: readonly string[] | undefined;
  /** `--rate-limit`: requests per second per API key. */
  readonly rateLimit?: string | undefined;
  /** `--rate-burst`: the burst per API key. */
  readonly rateBurst?: string | undefined;
  /** `--insecure-no-auth`: serve without API keys beyond loopback. */
  readonly insecureNoAuth?: boolean | undefined;
}

/** A profile as configured, with relative paths resolved and its API key from the environment. */
export interface ResolvedProfileSpec extends ProfileSpec {
  /** The provider's API key (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`); never read from a file. */
  readonly apiKey?: string;
}

/** Everything the bin starts the server with. */
export interface ServerConfiguration {
  /** `LASH_HOME` or `~/.lash`. */
  readonly home: string;
  /** A normalized store location. */
  readonly store: string;
  readonly port: number;
  readonly host: string;
  readonly gracePeriodMs: number;
  /** Migrate a PostgreSQL store before serving. */
  readonly migrate: boolean;
  readonly maxBodyBytes: number | undefined;
  readonly maxImageBodyBytes: number | undefined;
  readonly maxLiveRuntimes: number | undefined;
  readonly maxLiveRuntimeBytes: number | undefined;
  /** Price tables beside the built-in one (the config file's `prices`). */
  readonly prices: readonly PriceTable[];
  /** Each API key's token bucket, or `false` for none. */
  readonly rateLimit: RateLimit | false;
  /** Origins allowed by CORS; empty: no CORS. */
  readonly corsOrigins: readonly string[];
  /** Serve without API keys beyond loopback. */
  readonly insecureNoAuth: boolean;
  /** The profiles by name; `default` is always there. */
  readonly profiles: Readonly<Record<string, ResolvedProfileSpec>>;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_GRACE_PERIOD_SECONDS = 30;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** A whole number (or seconds, with `fractional`) from a flag or variable, in range, or a configuration error naming `where`. */
function parseNumber(
  raw: string,
  where: string,
  options: { readonly min: number; readonly max: number; readonly fractional?: boolean },
): number {
  const pattern = options.fractional === true ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  const value = Number(raw);
  if (!pattern.test(raw.trim()) || !Number.isFinite(value) || value < options.min || value > options.max) {
    throw new ServerConfigError(
      `${where} must be ${options.fractional === true ? "a number" : "a whole number"} from ${options.min} to ${options.max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function providerName(raw: string, where: string): ProviderName {
  if (!(PROVIDER_NAMES as readonly string[]).includes(raw)) {
    throw new ServerConfigError(`${where} must be one of ${PROVIDER_NAMES.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return raw as ProviderName;
}

/** Drops the fields that are `undefined`, so that spreading a layer never erases a lower one. */
/** `mcpServers` with each stdio server's relative `cwd` resolved against the file that names it. */
function mcpServersIn(servers: McpServersConfig | undefined, directory: string): McpServersConfig | undefined {
  if (servers === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(servers).map(([name, server]) => [
      name,
      !isHttpServer(server) && server.cwd !== undefined ? { ...server, cwd: resolve(directory, server.cwd) } : server,
    ]),
  );
}

function defined<Value extends object>(value: Value): Partial<Value> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<Value>;
}

/** The default profile's fields from the `lash` command's config file, paths resolved against it. */
function fromCommandFile(file: CommandConfigFile | undefined, directory: string): ProfileSpec {
  if (file === undefined) return {};
  return defined({
    provider: file.provider,
    model: file.model,
    baseUrl: file.baseUrl,
    script: file.script === undefined ? undefined : resolve(directory, file.script),
    systemPrompt: file.systemPrompt,
    maxContextTokens: file.maxContextTokens,
    maxModelCalls: file.maxModelCalls,
    maxTokens: file.maxTokens,
    timeoutSeconds: file.timeoutSeconds,
    mcpServers: mcpServersIn(file.mcpServers, directory),
  });
}

/** The default profile's fields from the environment variables the `lash` command reads. */
function fromEnvironment(env: NodeJS.ProcessEnv, cwd: string): ProfileSpec {
  const provider = nonEmpty(env.LASH_PROVIDER);
  const script = nonEmpty(env.LASH_SCRIPT);
  const number = (name: string, options: { min: number; max: number; fractional?: boolean }) => {
    const raw = nonEmpty(env[name]);
    return raw === undefined ? undefined : parseNumber(raw, name, options);
  };
  return defined({
    provider: provider === undefined ? undefined : providerName(provider, "LASH_PROVIDER"),
    model: nonEmpty(env.LASH_MODEL),
    baseUrl: nonEmpty(env.LASH_BASE_URL),
    script: script === undefined ? undefined : resolve(cwd, script),
    maxContextTokens: number("LASH_MAX_CONTEXT_TOKENS", { min: 1, max: 100_000_000 }),
    maxModelCalls: number("LASH_MAX_MODEL_CALLS", { min: 1, max: 100_000 }),
    maxTokens: number("LASH_MAX_TOKENS", { min: 1, max: 1_000_000_000 }),
    timeoutSeconds: number("LASH_TIMEOUT", { min: 0.001, max: 2_147_483, fractional: true }),
  });
}

/** The API key of a profile's provider, from the environment only (as the command does). */
function apiKeyOf(provider: ProviderName | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (provider === "openai") return nonEmpty(env.OPENAI_API_KEY);
  if (provider === "anthropic") return nonEmpty(env.ANTHROPIC_API_KEY);
  return undefined;
}

/**
 * Reads the server's configuration: each setting from the first of flag, environment variable,
 * the server's config file, the `lash` command's config file, and the default. The default
 * profile's provider, model and limits come from the same flags, variables and file as the
 * command's (`LASH_PROVIDER`, `LASH_MODEL`, `OPENAI_API_KEY`, `$LASH_HOME/config.json`, ...), so
 * the server and the command agree; without a named provider, a script means `scripted`, else the
 * first provider with a key. Other profiles come from the server's config file; a field they
 * leave out is the default profile's.
 */
export async function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv, cwd: string): Promise<ServerConfiguration> {
  const home = nonEmpty(env.LASH_HOME) === undefined ? join(homedir(), ".lash") : resolve(cwd, env.LASH_HOME ?? "");
  const namedServerFile = flags.config ?? nonEmpty(env.LASH_SERVER_CONFIG);
  const serverFilePath = namedServerFile === undefined ? join(home, "server.json") : resolve(cwd, namedServerFile);
  const serverFile = await readConfigFile(serverFilePath, serverConfigFileSchema, namedServerFile !== undefined);
  const serverFileDirectory = dirname(serverFilePath);
  const namedCommandFile = nonEmpty(env.LASH_CONFIG);
  const commandFilePath = namedCommandFile === undefined ? join(home, "config.json") : resolve(cwd, namedCommandFile);
  const commandFile = await readConfigFile(commandFilePath, commandConfigFileSchema, namedCommandFile !== undefined);

  const fileProfile = (spec: ProfileSpec | undefined): ProfileSpec =>
    spec === undefined
      ? {}
      : defined({
          ...spec,
          script: spec.script === undefined ? undefined : resolve(serverFileDirectory, spec.script),
          workspace: spec.workspace === undefined ? undefined : resolve(serverFileDirectory, spec.workspace),
          mcpServers: mcpServersIn(spec.mcpServers, serverFileDirectory),
        });
  const fromFlags: ProfileSpec = defined({
    provider: flags.provider === undefined ? undefined : providerName(flags.provider, "--provider"),
    model: nonEmpty(flags.model),
    baseUrl: nonEmpty(flags.baseUrl),
    script: flags.script === undefined ? undefined : resolve(cwd, flags.script),
  });
  const defaultSpec: ProfileSpec = {
    ...fromCommandFile(commandFile, dirname(commandFilePath)),
    ...fileProfile(serverFile?.profiles?.default),
    ...fromEnvironment(env, cwd),
    ...fromFlags,
  };
  const inferred: ProviderName | undefined =
    defaultSpec.provider ??
    (defaultSpec.script !== undefined
      ? "scripted"
      : nonEmpty(env.OPENAI_API_KEY) !== undefined
        ? "openai"
        : nonEmpty(env.ANTHROPIC_API_KEY) !== undefined
          ? "anthropic"
          : undefined);
  const profiles: Record<string, ResolvedProfileSpec> = {};
  const withKey = (spec: ProfileSpec): ResolvedProfileSpec => {
    const apiKey = apiKeyOf(spec.provider, env);
    return apiKey === undefined ? spec : { ...spec, apiKey };
  };
  const resolvedDefault: ProfileSpec = { ...defaultSpec, ...(inferred === undefined ? {} : { provider: inferred }) };
  profiles.default = withKey(resolvedDefault);
  for (const [name, spec] of Object.entries(serverFile?.profiles ?? {})) {
    if (name === "default") continue;
    const own = fileProfile(spec);
    // A profile on another provider keeps nothing provider-specific of the default's.
    const base: ProfileSpec =
      own.provider !== undefined && own.provider !== resolvedDefault.provider
        ? { ...resolvedDefault, model: undefined, baseUrl: undefined, script: undefined }
        : resolvedDefault;
    profiles[name] = withKey(defined({ ...base, ...own }));
  }

  let store: string;
  try {
    const rawStore = flags.store ?? nonEmpty(env.LASH_STORE);
    if (rawStore !== undefined) store = normalizeStoreLocation(rawStore, cwd);
    else if (serverFile?.store !== undefined) store = normalizeStoreLocation(serverFile.store, serverFileDirectory);
    else if (commandFile?.store !== undefined) store = normalizeStoreLocation(commandFile.store, dirname(commandFilePath));
    else store = `sqlite:${join(home, "lash.db")}`;
  } catch (error) {
    if (error instanceof StoreLocationError) throw new ServerConfigError(error.message);
    throw error;
  }

  const corsOrigins =
    flags.corsOrigins !== undefined && flags.corsOrigins.length > 0
      ? { origins: flags.corsOrigins, where: "--cors-origin" }
      : nonEmpty(env.LASH_SERVER_CORS_ORIGINS) !== undefined
        ? { origins: (env.LASH_SERVER_CORS_ORIGINS ?? "").split(",").map((origin) => origin.trim()), where: "LASH_SERVER_CORS_ORIGINS" }
        : { origins: serverFile?.corsOrigins ?? [], where: "corsOrigins" };
  for (const origin of corsOrigins.origins) {
    if (!isCorsOrigin(origin)) {
      throw new ServerConfigError(
        `${corsOrigins.where}: ${JSON.stringify(origin)} is not an origin; use * or scheme://host[:port] without a path, like https://app.example.com`,
      );
    }
  }
  const rawRate = flags.rateLimit ?? nonEmpty(env.LASH_SERVER_RATE_LIMIT);
  const rawBurst = flags.rateBurst ?? nonEmpty(env.LASH_SERVER_RATE_BURST);
  const fileRate = serverFile?.rateLimit;
  let rateLimit: RateLimit | false;
  if (rawRate === undefined && rawBurst === undefined) rateLimit = fileRate ?? DEFAULT_RATE_LIMIT;
  else {
    const base = fileRate === false || fileRate === undefined ? DEFAULT_RATE_LIMIT : fileRate;
    rateLimit = {
      requestsPerSecond:
        rawRate === undefined
          ? base.requestsPerSecond
          : parseNumber(rawRate, flags.rateLimit === undefined ? "LASH_SERVER_RATE_LIMIT" : "--rate-limit", {
              min: 0.001,
              max: 1_000_000,
              fractional: true,
            }),
      burst:
        rawBurst === undefined
          ? base.burst
          : parseNumber(rawBurst, flags.rateBurst === undefined ? "LASH_SERVER_RATE_BURST" : "--rate-burst", { min: 1, max: 1_000_000 }),
    };
  }

  const rawPort = flags.port ?? nonEmpty(env.LASH_SERVER_PORT);
  const rawGrace = flags.gracePeriod ?? nonEmpty(env.LASH_SERVER_GRACE_PERIOD);
  return {
    home,
    store,
    port:
      rawPort === undefined
        ? (serverFile?.port ?? DEFAULT_PORT)
        : parseNumber(rawPort, flags.port === undefined ? "LASH_SERVER_PORT" : "--port", { min: 0, max: 65_535 }),
    host: flags.host ?? nonEmpty(env.LASH_SERVER_HOST) ?? serverFile?.host ?? DEFAULT_HOST,
    gracePeriodMs: Math.round(
      1000 *
        (rawGrace === undefined
          ? (serverFile?.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS)
          : parseNumber(rawGrace, flags.gracePeriod === undefined ? "LASH_SERVER_GRACE_PERIOD" : "--grace-period", {
              min: 0,
              max: 2_147_483,
              fractional: true,
            })),
    ),
    migrate: flags.migrate === true,
    maxBodyBytes: serverFile?.maxBodyBytes,
    maxImageBodyBytes: serverFile?.maxImageBodyBytes,
    maxLiveRuntimes: serverFile?.maxLiveRuntimes,
    maxLiveRuntimeBytes: serverFile?.maxLiveRuntimeBytes,
    prices: serverFile?.prices ?? [],
    rateLimit,
    corsOrigins: [...new Set(corsOrigins.origins)],
    insecureNoAuth: flags.insecureNoAuth === true,
    profiles,
  };
}
