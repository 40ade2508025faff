import { LashError } from "@lash/protocol";
import { z } from "zod";

/**
 * Which calls of a server's tools ask for approval before they run:
 * - `destructive` (default): every call, unless the tool says it is harmless (`readOnlyHint: true`, or
 *   `destructiveHint: false`). The protocol's own defaults make an unannotated tool destructive.
 * - `always`: every call, whatever the annotations say.
 * - `never`: no call (the server is trusted).
 */
export const MCP_APPROVAL_POLICIES = ["destructive", "always", "never"] as const;
export type McpApprovalPolicy = (typeof MCP_APPROVAL_POLICIES)[number];

const timeoutSeconds = z.number().positive().max(2_147_483);

/** What every server entry may say besides how to reach the server (lash's own fields). */
const commonFields = {
  /** How long starting the server (and listing its tools) may take, in seconds (default 10). */
  startupTimeoutSeconds: timeoutSeconds.optional(),
  /** How long one tool call may take, in seconds (default 60). */
  callTimeoutSeconds: timeoutSeconds.optional(),
  /** Which calls ask for approval (default `destructive`). */
  approval: z.enum(MCP_APPROVAL_POLICIES).optional(),
  /** Leaves the server out without deleting its entry. */
  disabled: z.boolean().optional(),
};

/** A server started as a child process, spoken to over its stdin and stdout. */
export const mcpStdioServerSchema = z.strictObject({
  type: z.literal("stdio").optional(),
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  /** Added to the variables every server inherits (`PATH`, `HOME`, ...: the SDK's safe list). */
  env: z.record(z.string(), z.string()).optional(),
  /** The folder the process starts in (default: the host's). */
  cwd: z.string().min(1).optional(),
  ...commonFields,
});

/** A server reached over HTTP: Streamable HTTP first, the older HTTP+SSE transport when the server only speaks that. */
export const mcpHttpServerSchema = z.strictObject({
  /** `http` (the default: Streamable HTTP, falling back to SSE), or `sse` for the older transport only. */
  type: z.enum(["http", "streamable-http", "sse"]).optional(),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  ...commonFields,
});

/** One entry of `mcpServers`: the shape other MCP clients use, with a few fields of lash's own. */
export const mcpServerConfigSchema = z.union([mcpStdioServerSchema, mcpHttpServerSchema]);
export type McpStdioServerConfig = z.infer<typeof mcpStdioServerSchema>;
export type McpHttpServerConfig = z.infer<typeof mcpHttpServerSchema>;
export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

/** A server name: what the user calls it, and the first part of its tools' names. */
export const MCP_SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `mcpServers`: server names to their entries. */
export const mcpServersSchema = z.record(
  z.string().regex(MCP_SERVER_NAME_PATTERN, "a server name is 1-64 letters, digits, `_`, `-` or `.`, starting with a letter or digit"),
  mcpServerConfigSchema,
);
export type McpServersConfig = Readonly<Record<string, McpServerConfig>>;

/** True for an entry reached over HTTP. */
export function isHttpServer(config: McpServerConfig): config is McpHttpServerConfig {
  return "url" in config;
}

/** A `mcpServers` value that cannot be used; `problems` name each field (`github.url: ...`). */
export class McpConfigurationError extends LashError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("invalid_configuration", `mcpServers is invalid: ${problems.join("; ")}`);
    this.name = "McpConfigurationError";
    this.problems = problems;
  }
}

function describeIssues(prefix: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const field = [prefix, ...issue.path.map(String), ...(keys.length === 1 ? keys : [])].filter((part) => part !== "").join(".");
    return field === "" ? issue.message : `${field}: ${issue.message}`;
  });
}

/**
 * Validates a `mcpServers` value (`{ "name": { "command", "args", "env", "cwd" } | { "url", "headers" } }`).
 * An entry with a `url` is checked as an HTTP server, any other as a stdio server, so a mistake is
 * named in the shape it was meant to have.
 *
 * @throws McpConfigurationError naming every field that is wrong.
 */
export function parseMcpServers(value: unknown): McpServersConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new McpConfigurationError(['must be an object of server names to { "command", ... } or { "url", ... }']);
  const problems: string[] = [];
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, entry] of Object.entries(value)) {
    if (!MCP_SERVER_NAME_PATTERN.test(name))
      problems.push(
        `${JSON.stringify(name)}: a server name is 1-64 letters, digits, \`_\`, \`-\` or \`.\`, starting with a letter or digit`,
      );
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push(`${name}: must be { "command", "args"?, "env"?, "cwd"? } or { "url", "headers"? }`);
      continue;
    }
    const schema = "url" in entry ? mcpHttpServerSchema : mcpStdioServerSchema;
    const parsed = schema.safeParse(entry);
    if (parsed.success) servers[name] = parsed.data;
    else problems.push(...describeIssues(name, parsed.error.issues));
  }
  if (problems.length > 0) throw new McpConfigurationError(problems);
  return servers;
}
