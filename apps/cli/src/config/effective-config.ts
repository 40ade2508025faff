import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_MAX_CONTEXT_TOKENS, defaultContextWindow } from "@lash/core";
import type { McpServersConfig } from "@lash/mcp";
import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFile, ProviderName } from "./config-file.js";
import { PROVIDER_NAMES, readConfigFile } from "./config-file.js";
import { mcpServersFromFile } from "./mcp-servers.js";
import type { NumericLimitName } from "./numeric-limits.js";
import { NUMERIC_LIMITS, parseLimit } from "./numeric-limits.js";
import { normalizeStoreLocation } from "./store-location.js";

/** Where a setting's value came from, for `lash config` and for error messages. */
export type ConfigSource =
  | { readonly type: "flag"; readonly name: string }
  | { readonly type: "env"; readonly name: string }
  | { readonly type: "file"; readonly path: string }
  | { readonly type: "default" };

/** A setting's value and its origin. */
export interface Sourced<Value> {
  readonly value: Value;
  readonly source: ConfigSource;
}

/** The flags every command that needs configuration accepts (commander's camelCase names). */
export interface ConfigFlags {
  readonly provider?: string;
  readonly model?: string;
  readonly baseUrl?: string;
  readonly store?: string;
  readonly script?: string;
  readonly config?: string;
  readonly maxContextTokens?: string;
  readonly maxModelCalls?: string;
  readonly maxTokens?: string;
  readonly timeout?: string;
  readonly requestTimeout?: string;
  readonly chunkTimeout?: string;
  readonly allowPath?: readonly string[];
}

/** The configuration a command runs with: flags, then environment, then the config file, then defaults. */
export interface EffectiveConfig {
  /** `LASH_HOME` or `~/.lash`: the default store and config file live here. */
  readonly home: Sourced<string>;
  readonly configFile: { readonly path: string; readonly loaded: boolean };
  readonly provider: Sourced<ProviderName | undefined>;
  readonly model: Sourced<string | undefined>;
  readonly baseUrl: Sourced<string | undefined>;
  /** A store location: `sqlite:<file>`, `postgres://...` or `fs:<dir>`, with relative paths resolved. */
  readonly store: Sourced<string>;
  readonly script: Sourced<string | undefined>;
  readonly maxContextTokens: Sourced<number>;
  readonly maxModelCalls: Sourced<number>;
  readonly maxTokens: Sourced<number | undefined>;
  readonly timeoutSeconds: Sourced<number | undefined>;
  /** How long a provider's response may take to start; `0` means no limit. */
  readonly requestTimeoutSeconds: Sourced<number>;
  /** The longest silence between two chunks of a streamed response; `0` means no limit. */
  readonly chunkTimeoutSeconds: Sourced<number>;
  readonly allowedDirectories: Sourced<readonly string[]>;
  readonly systemPrompt: Sourced<string | undefined>;
  /** The API key of the chosen provider, from the environment only. */
  readonly apiKey: Sourced<string | undefined>;
  /** MCP servers whose tools every session gets (the config file's `mcpServers`; `cwd` resolved against the file). */
  readonly mcpServers: Sourced<McpServersConfig>;
}

const DEFAULT_MAX_MODEL_CALLS = 25;

/**
 * The adapters' own defaults (`DEFAULT_PROVIDER_TIMEOUTS` of `@lash/provider-utils`, which the
 * command does not depend on), written out so that `--help`, `lash config` and the README can
 * state them.
 */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 300;
export const DEFAULT_CHUNK_TIMEOUT_SECONDS = 120;

/** The default model of each provider when none is configured. */
export const DEFAULT_MODELS: Record<ProviderName, string> = {
  openai: "gpt-5",
  anthropic: "claude-sonnet-4-5",
  scripted: "scripted-model",
};

const API_KEY_VARIABLES: Record<ProviderName, string | undefined> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  scripted: undefined,
};

type Parser<Value> = (raw: string, where: string) => Value;

const text: Parser<string> = (raw, where) => {
  if (raw.trim() === "") throw usageError(`${where} is empty`);
  return raw;
};

const providerName: Parser<ProviderName> = (raw, where) => {
  if (!(PROVIDER_NAMES as readonly string[]).includes(raw))
    throw usageError(`${where} must be one of ${PROVIDER_NAMES.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw as ProviderName;
};

const url: Parser<string> = (raw, where) => {
  try {
    new URL(raw);
  } catch {
    throw usageError(`${where} must be a URL, got ${JSON.stringify(raw)}`);
  }
  return raw;
};

/**
 * Reads the configuration of one command: each setting from the first of flag, environment
 * variable, config file and default that has it. Bad values are usage errors naming where they
 * came from (`--max-tokens`, `LASH_MODEL`, `config.json: maxModelCalls`).
 */
export async function resolveEffectiveConfig(flags: ConfigFlags, io: CliIo): Promise<EffectiveConfig> {
  const env = io.env;
  const homeFromEnv = env.LASH_HOME !== undefined && env.LASH_HOME !== "";
  const home: Sourced<string> = homeFromEnv
    ? { value: resolve(io.cwd, env.LASH_HOME ?? ""), source: { type: "env", name: "LASH_HOME" } }
    : { value: join(io.homeDirectory || homedir(), ".lash"), source: { type: "default" } };
  const namedConfig = flags.config ?? (env.LASH_CONFIG !== undefined && env.LASH_CONFIG !== "" ? env.LASH_CONFIG : undefined);
  const configPath = namedConfig === undefined ? join(home.value, "config.json") : resolve(io.cwd, namedConfig);
  const file: ConfigFile | undefined = await readConfigFile(configPath, namedConfig !== undefined);
  const fileDirectory = dirname(configPath);

  function pick<Value>(options: {
    readonly flag: string | undefined;
    readonly flagName: string;
    readonly envName: string | undefined;
    readonly fileValue: Value | undefined;
    readonly parse: Parser<Value>;
  }): Sourced<Value> | undefined {
    if (options.flag !== undefined)
      return { value: options.parse(options.flag, `--${options.flagName}`), source: { type: "flag", name: `--${options.flagName}` } };
    const fromEnv = options.envName === undefined ? undefined : env[options.envName];
    if (options.envName !== undefined && fromEnv !== undefined && fromEnv !== "") {
      return { value: options.parse(fromEnv, options.envName), source: { type: "env", name: options.envName } };
    }
    if (options.fileValue !== undefined) return { value: options.fileValue, source: { type: "file", path: configPath } };
    return undefined;
  }
  const orDefault = <Value>(picked: Sourced<Value> | undefined, value: Value): Sourced<Value> =>
    picked ?? { value, source: { type: "default" } };

  const scriptPicked = pick({ flag: flags.script, flagName: "script", envName: "LASH_SCRIPT", fileValue: file?.script, parse: text });
  const script =
    scriptPicked === undefined
      ? undefined
      : { ...scriptPicked, value: resolve(scriptPicked.source.type === "file" ? fileDirectory : io.cwd, scriptPicked.value) };

  let provider = pick({
    flag: flags.provider,
    flagName: "provider",
    envName: "LASH_PROVIDER",
    fileValue: file?.provider,
    parse: providerName,
  });
  // Without a named provider: a script means the scripted one, else the first provider with a key.
  if (provider === undefined) {
    if (script !== undefined) provider = { value: "scripted", source: script.source };
    else if (env.OPENAI_API_KEY) provider = { value: "openai", source: { type: "env", name: "OPENAI_API_KEY" } };
    else if (env.ANTHROPIC_API_KEY) provider = { value: "anthropic", source: { type: "env", name: "ANTHROPIC_API_KEY" } };
  }
  const keyVariable = provider === undefined ? undefined : API_KEY_VARIABLES[provider.value];
  const keyValue = keyVariable === undefined ? undefined : env[keyVariable];
  const apiKey: Sourced<string | undefined> =
    keyVariable !== undefined && keyValue !== undefined && keyValue !== ""
      ? { value: keyValue, source: { type: "env", name: keyVariable } }
      : { value: undefined, source: { type: "default" } };

  const storePicked = pick({ flag: flags.store, flagName: "store", envName: "LASH_STORE", fileValue: file?.store, parse: text });
  const store: Sourced<string> =
    storePicked === undefined
      ? { value: `sqlite:${join(home.value, "lash.db")}`, source: home.source.type === "env" ? home.source : { type: "default" } }
      : {
          ...storePicked,
          value: normalizeStoreLocation(
            storePicked.value,
            storePicked.source.type === "file" ? fileDirectory : io.cwd,
            storePicked.source.type === "file" ? `the config file ${configPath}: \`store\`` : describeWhere(storePicked.source),
          ),
        };

  /** A numeric setting: the flag's or the variable's text parsed and checked against its range (the file's was checked by its schema). */
  const limit = (name: NumericLimitName, flag: string | undefined, fileValue: number | undefined): Sourced<number> | undefined => {
    const spec = NUMERIC_LIMITS[name];
    return pick({
      flag,
      flagName: spec.flag,
      envName: spec.env,
      fileValue,
      parse: (raw, where) => parseLimit(spec, raw, where),
    });
  };

  const allowedFromFile = file?.allowedDirectories?.map((directory) => resolve(fileDirectory, directory));
  const allowedDirectories: Sourced<readonly string[]> =
    flags.allowPath !== undefined && flags.allowPath.length > 0
      ? { value: flags.allowPath.map((directory) => resolve(io.cwd, directory)), source: { type: "flag", name: "--allow-path" } }
      : allowedFromFile !== undefined
        ? { value: allowedFromFile, source: { type: "file", path: configPath } }
        : { value: [], source: { type: "default" } };

  const mcpServers: Sourced<McpServersConfig> =
    file?.mcpServers === undefined
      ? { value: {}, source: { type: "default" } }
      : { value: mcpServersFromFile(file.mcpServers, configPath, fileDirectory), source: { type: "file", path: configPath } };

  const model = pick({ flag: flags.model, flagName: "model", envName: "LASH_MODEL", fileValue: file?.model, parse: text });
  const modelName = model?.value ?? (provider === undefined ? undefined : DEFAULT_MODELS[provider.value]);
  return {
    home,
    configFile: { path: configPath, loaded: file !== undefined },
    provider: orDefault(provider, undefined),
    model: model ?? { value: modelName, source: { type: "default" } },
    baseUrl: orDefault(
      pick({ flag: flags.baseUrl, flagName: "base-url", envName: "LASH_BASE_URL", fileValue: file?.baseUrl, parse: url }),
      undefined,
    ),
    store,
    script: orDefault(script, undefined),
    maxContextTokens: orDefault(
      limit("maxContextTokens", flags.maxContextTokens, file?.maxContextTokens),
      // The model's own window when lash knows the model, else the runtime's documented default.
      modelName === undefined ? DEFAULT_MAX_CONTEXT_TOKENS : defaultContextWindow(modelName),
    ),
    maxModelCalls: orDefault(limit("maxModelCalls", flags.maxModelCalls, file?.maxModelCalls), DEFAULT_MAX_MODEL_CALLS),
    maxTokens: orDefault(limit("maxTokens", flags.maxTokens, file?.maxTokens), undefined),
    timeoutSeconds: orDefault(limit("timeoutSeconds", flags.timeout, file?.timeoutSeconds), undefined),
    requestTimeoutSeconds: orDefault(
      limit("requestTimeoutSeconds", flags.requestTimeout, file?.requestTimeoutSeconds),
      DEFAULT_REQUEST_TIMEOUT_SECONDS,
    ),
    chunkTimeoutSeconds: orDefault(
      limit("chunkTimeoutSeconds", flags.chunkTimeout, file?.chunkTimeoutSeconds),
      DEFAULT_CHUNK_TIMEOUT_SECONDS,
    ),
    allowedDirectories,
    systemPrompt: orDefault(
      pick({ flag: undefined, flagName: "system-prompt", envName: undefined, fileValue: file?.systemPrompt, parse: text }),
      undefined,
    ),
    apiKey,
    mcpServers,
  };
}

/** `--store`, `LASH_STORE`: a flag's or a variable's name, for messages. */
function describeWhere(source: ConfigSource): string {
  return source.type === "flag" || source.type === "env" ? source.name : describeSource(source);
}

/** `flag --model`, `env LASH_MODEL`, `file /home/me/.lash/config.json`, `default`. */
export function describeSource(source: ConfigSource): string {
  switch (source.type) {
    case "flag":
      return `flag ${source.name}`;
    case "env":
      return `env ${source.name}`;
    case "file":
      return `file ${source.path}`;
    case "default":
      return "default";
  }
}
