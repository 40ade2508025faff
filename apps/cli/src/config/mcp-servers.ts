import { resolve } from "node:path";
import type { McpServerConfig, McpServerError, McpServersConfig } from "@lash/mcp";
import { createMcpToolProvider, isHttpServer, McpConfigurationError, type McpToolProvider, parseMcpServers } from "@lash/mcp";
import type { AttachmentStore } from "@lash/protocol";
import packageJson from "../../package.json" with { type: "json" };
import { usageError } from "../cli-error.js";

/**
 * `mcpServers` of the config file, checked: every wrong field is named (a usage error, exit 2). A
 * relative `cwd` is relative to the file, as the file's other paths are.
 */
export function mcpServersFromFile(value: unknown, configPath: string, fileDirectory: string): McpServersConfig {
  if (value === undefined) return {};
  let servers: McpServersConfig;
  try {
    servers = parseMcpServers(value);
  } catch (error) {
    if (!(error instanceof McpConfigurationError)) throw error;
    const problems = error.problems.map((problem) => `\`mcpServers.${problem.replace(/: /, "`: ")}`);
    throw usageError(
      `the config file ${configPath} is invalid: ${problems.join("; ")}`,
      'an MCP server is { "command", "args"?, "env"?, "cwd"? } or { "url", "headers"? }; see `MCP servers` in the lash README',
    );
  }
  const resolved: Record<string, McpServerConfig> = {};
  for (const [name, config] of Object.entries(servers))
    resolved[name] = !isHttpServer(config) && config.cwd !== undefined ? { ...config, cwd: resolve(fileDirectory, config.cwd) } : config;
  return resolved;
}

/** The providers of this process, one per configuration: the sessions of a command share their servers. */
const shared = new Map<string, McpToolProvider>();

/**
 * The MCP tool provider of `servers`, started once per process however many sessions use it (a
 * chat's `/new`, subagents), or `undefined` when none is configured. A server that fails to start
 * is reported on `report` (each attempt) and the turn goes on without its tools.
 * `closeMcpToolProviders` stops them when the command ends.
 */
export function sharedMcpToolProvider(
  servers: McpServersConfig,
  options: {
    /** Where images the tools return are kept: the store's attachments, as the sessions' own images. */
    readonly attachments?: AttachmentStore;
    readonly report?: (error: McpServerError) => void;
  } = {},
): McpToolProvider | undefined {
  if (Object.values(servers).every((server) => server.disabled === true)) return undefined;
  const key = JSON.stringify(servers);
  let provider = shared.get(key);
  if (provider === undefined) {
    provider = createMcpToolProvider({
      servers,
      clientInfo: { name: "lash", version: packageJson.version },
      ...(options.attachments === undefined ? {} : { attachments: options.attachments }),
      onServerError: options.report ?? ((error) => process.stderr.write(`lash: ${error.message}\n`)),
    });
    shared.set(key, provider);
  }
  return provider;
}

/** Stops every MCP server this process started (their processes end). */
export async function closeMcpToolProviders(): Promise<void> {
  const providers = [...shared.values()];
  shared.clear();
  await Promise.all(providers.map((provider) => provider.close().catch(() => undefined)));
}
