import { readFile, stat } from "node:fs/promises";
import { McpConfigurationError, type McpServersConfig, parseMcpServers } from "@lash/mcp";
import { priceTableSchema } from "@lash/observability";
import { profileNameSchema } from "@lash/remote-protocol";
import { z } from "zod";
import { isCorsOrigin } from "../auth/cors-middleware.js";
import { CONCURRENT_TURN_POLICIES } from "../profiles/agent-profile.js";

/** The providers the server builds from configuration (the `lash` command's). */
export const PROVIDER_NAMES = ["openai", "anthropic", "scripted"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** A config file larger than this is refused before it is read (the command's cap). */
const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

const positiveInteger = (max: number) => z.number().int().min(1).max(max);
/** Seconds, from 1 ms up to the longest a Node.js timer waits. */
const seconds = z.number().min(0.001).max(2_147_483);

/**
 * `mcpServers`, in the shape the `lash` command and other MCP clients use (`{ "name": { "command",
 * "args", "env", "cwd" } | { "url", "headers" } }`), checked by `parseMcpServers` of `@lash/mcp`:
 * each wrong field is named.
 */
const mcpServersField = z.record(z.string(), z.unknown()).transform((value, context): McpServersConfig => {
  try {
    return parseMcpServers(value);
  } catch (error) {
    if (!(error instanceof McpConfigurationError)) throw error;
    for (const problem of error.problems) context.addIssue({ code: "custom", message: problem });
    return z.NEVER;
  }
});

/**
 * An agent profile as configuration spells it. Every field is optional: a field left out takes the
 * default profile's value (and the default profile's come from the environment and the `lash`
 * command's config file, as the command reads them).
 */
export const profileSpecSchema = z.strictObject({
  provider: z.enum(PROVIDER_NAMES).optional(),
  model: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  /** A scripted conversation file (`provider: "scripted"`), relative to the config file. */
  script: z.string().min(1).optional(),
  systemPrompt: z.string().optional(),
  /** The built-in workspace tools of `@lash/tools` (read, list, search; writes and shell commands wait for approval). */
  tools: z.boolean().optional(),
  /** The folder the workspace tools work in (default: the server's working directory), relative to the config file. */
  workspace: z.string().min(1).optional(),
  maxContextTokens: positiveInteger(100_000_000).optional(),
  maxModelCalls: positiveInteger(100_000).optional(),
  maxTokens: positiveInteger(1_000_000_000).optional(),
  timeoutSeconds: seconds.optional(),
  concurrentTurns: z.enum(CONCURRENT_TURN_POLICIES).optional(),
  /**
   * Subagents (`spawn_agent`, `await_agent`, ...): `true` for the defaults, or their limits. On a
   * PostgreSQL store they run on the durable task host, in the store's database.
   */
  subagents: z
    .union([z.boolean(), z.strictObject({ maxDepth: positiveInteger(16).optional(), maxLiveChildren: positiveInteger(256).optional() })])
    .optional(),
  /**
   * MCP servers whose tools the profile's sessions get (`server__tool`), started once per profile
   * and shared by its sessions. A profile without it has the default profile's; `{}` has none.
   */
  mcpServers: mcpServersField.optional(),
});
export type ProfileSpec = z.infer<typeof profileSpecSchema>;

/**
 * The server's config file (`--config`, `LASH_SERVER_CONFIG`, or `$LASH_HOME/server.json`): where
 * it listens, its store, its bounds, and its agent profiles. Unknown fields are refused.
 */
export const serverConfigFileSchema = z.strictObject({
  store: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  gracePeriodSeconds: seconds.optional(),
  maxBodyBytes: positiveInteger(1024 * 1024 * 1024).optional(),
  /** The largest turn request that carries images, base64 included (default 20 MiB). */
  maxImageBodyBytes: positiveInteger(1024 * 1024 * 1024).optional(),
  /** Each API key's token bucket (default 10 requests per second, bursts of 50); `false` turns it off. */
  rateLimit: z
    .union([
      z.literal(false),
      z.strictObject({ requestsPerSecond: z.number().positive().max(1_000_000), burst: positiveInteger(1_000_000) }),
    ])
    .optional(),
  /** Origins whose pages may call the API (`https://app.example.com`, or `*`); absent or empty: no CORS. */
  corsOrigins: z
    .array(z.string().refine(isCorsOrigin, { error: "must be * or an origin like https://app.example.com (no path)" }))
    .optional(),
  /** Live session runtimes kept between requests, the most recently used (default 1,024; 0 parks each after its request). */
  maxLiveRuntimes: z.number().int().min(0).max(1_000_000).optional(),
  /** The estimated memory of the live runtimes kept between requests, in bytes (default 256 MiB). */
  maxLiveRuntimeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /**
   * Price tables beside the built-in one (`@lash/observability`'s default table), each with its own
   * `effectiveDate`: the newest is in force, its date is recorded with the usage of every turn, and
   * usage reports price each turn's tokens at the table that was in force when it ran.
   */
  prices: z.array(priceTableSchema).max(1_000).optional(),
  profiles: z.record(profileNameSchema, profileSpecSchema).optional(),
});
export type ServerConfigFile = z.infer<typeof serverConfigFileSchema>;

/**
 * The fields of the `lash` command's config file (`$LASH_HOME/config.json`) the server uses for its
 * default profile and store. The command validates its own file strictly; here its other fields
 * are ignored, so a field the command gains later does not stop the server.
 */
export const commandConfigFileSchema = z.object({
  provider: z.enum(PROVIDER_NAMES).optional(),
  model: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  store: z.string().min(1).optional(),
  script: z.string().min(1).optional(),
  systemPrompt: z.string().optional(),
  maxContextTokens: positiveInteger(100_000_000).optional(),
  maxModelCalls: positiveInteger(100_000).optional(),
  maxTokens: positiveInteger(1_000_000_000).optional(),
  timeoutSeconds: seconds.optional(),
  mcpServers: mcpServersField.optional(),
});
export type CommandConfigFile = z.infer<typeof commandConfigFileSchema>;

/** A configuration problem the bin reports as a usage error (exit 2). */
export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerConfigError";
  }
}

/**
 * Reads and validates a JSON config file; `undefined` when it does not exist and is not `required`.
 * A file that is not a regular file, is over 4 MiB, is not JSON or has a bad field is an error
 * naming the file and the field.
 */
export async function readConfigFile<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  required: boolean,
): Promise<z.output<Schema> | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && !required) return undefined;
    throw new ServerConfigError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw new ServerConfigError(`the config file ${path} is not a regular file`);
  if (info.size > MAX_CONFIG_FILE_BYTES) throw new ServerConfigError(`the config file ${path} is larger than 4 MiB`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ServerConfigError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
      const field = [...issue.path.map(String), ...(keys.length === 1 ? keys : [])].join(".");
      return field === "" ? issue.message : `\`${field}\`: ${issue.message}`;
    });
    throw new ServerConfigError(`the config file ${path} is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}
