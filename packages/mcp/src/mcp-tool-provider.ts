import { defineTool } from "@lash/core";
import type { AttachmentStore, JsonSchemaObject, ToolDefinition, ToolProvider } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { toolValueOf } from "./call-result.js";
import type { McpServerError } from "./mcp-errors.js";
import type { McpApprovalPolicy, McpServersConfig } from "./mcp-server-config.js";
import { parseMcpServers } from "./mcp-server-config.js";
import type { McpConnectionState, ServerConnection } from "./server-connection.js";
import { ServerConnection as Connection } from "./server-connection.js";
import type { McpClientInfo, McpTransportKind } from "./server-transport.js";
import { namespacedToolNames } from "./tool-naming.js";

/** Options of `createMcpToolProvider`. */
export interface McpToolProviderOptions {
  /** The servers, as in `mcpServers` (validated here: a bad entry throws `McpConfigurationError`). */
  readonly servers: McpServersConfig | Readonly<Record<string, unknown>>;
  /** Where images the tools return are kept (the runtime's attachment store); without it, the model is told they were left out. */
  readonly attachments?: AttachmentStore;
  /** The name and version lash gives in the handshake (default `lash` / `0.1.0`). */
  readonly clientInfo?: McpClientInfo;
  /** How long starting a server and listing its tools may take (default 10 s; an entry's `startupTimeoutSeconds` wins). */
  readonly startupTimeoutMs?: number;
  /** How long one call may take (default 60 s; an entry's `callTimeoutSeconds` wins). */
  readonly callTimeoutMs?: number;
  /** Told of every server that fails to start or to list its tools (each attempt). */
  readonly onServerError?: (error: McpServerError) => void;
  /** Told when a server says its tools changed; the next `listTools` (the next turn) lists them again. */
  readonly onToolListChanged?: (server: string) => void;
}

/** One tool of a server as the model sees it. */
export interface McpToolStatus {
  /** The name the model calls it by (`server__tool`). */
  readonly name: string;
  /** The tool's own name on its server. */
  readonly serverToolName: string;
  readonly description: string;
  readonly needsApproval: boolean;
}

/** A server's state, for `lash mcp list` and host dashboards. */
export interface McpServerStatus {
  readonly server: string;
  readonly state: McpConnectionState;
  /** How it is reached once connected; absent before. */
  readonly transport?: McpTransportKind;
  /** The server's own name and version from the handshake; absent before. */
  readonly serverInfo?: { readonly name: string; readonly version: string };
  /** The tools of its last listing (kept across a lost connection). */
  readonly tools: readonly McpToolStatus[];
  /** Tools left out because their input schema cannot be used, and why. */
  readonly skippedTools: readonly { readonly serverToolName: string; readonly problem: string }[];
  /** The last failure, until a connection succeeds. */
  readonly lastError?: McpServerError;
}

const DEFAULT_CLIENT_INFO: McpClientInfo = { name: "lash", version: "0.1.0" };

/** Whether calls of `tool` ask for approval under `policy` (see `McpApprovalPolicy`). */
export function toolNeedsApproval(tool: Pick<Tool, "annotations">, policy: McpApprovalPolicy): boolean {
  if (policy === "never") return false;
  if (policy === "always") return true;
  return !(tool.annotations?.readOnlyHint === true || tool.annotations?.destructiveHint === false);
}

function summaryOf(server: string, tool: string, input: unknown): string {
  const args = JSON.stringify(input) ?? "";
  return `${server}: ${tool} ${args.length > 200 ? `${args.slice(0, 199)}…` : args}`;
}

interface BuiltTool {
  readonly definition: ToolDefinition<unknown>;
  readonly status: McpToolStatus;
}

/**
 * The tools of MCP servers as a lash `ToolProvider` (see `createMcpToolProvider`). Share one
 * provider between the sessions of an environment (`RuntimeEnvironment.builder().withToolProvider`):
 * each server is started once, and `close()` (or `await using`) stops them all.
 */
export class McpToolProvider implements ToolProvider, AsyncDisposable {
  readonly #connections: readonly ServerConnection[];
  #attachments: AttachmentStore | undefined;
  /** Definitions kept per server tool and name, so an unchanged listing gives the same objects (the runtime caches by object). */
  readonly #built = new Map<string, { readonly source: Tool; readonly name: string; readonly tool: BuiltTool }>();
  readonly #skipped = new Map<string, { readonly serverToolName: string; readonly problem: string }[]>();
  #latest = new Map<string, readonly BuiltTool[]>();

  constructor(options: McpToolProviderOptions) {
    const servers = parseMcpServers(options.servers);
    this.#attachments = options.attachments;
    this.#connections = Object.entries(servers)
      .filter(([, config]) => config.disabled !== true)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(
        ([name, config]) =>
          new Connection(name, config, {
            clientInfo: options.clientInfo ?? DEFAULT_CLIENT_INFO,
            startupTimeoutMs: options.startupTimeoutMs ?? 10_000,
            callTimeoutMs: options.callTimeoutMs ?? 60_000,
            ...(options.onServerError === undefined ? {} : { onError: options.onServerError }),
            ...(options.onToolListChanged === undefined ? {} : { onToolListChanged: () => options.onToolListChanged?.(name) }),
          }),
      );
  }

  /**
   * Where the tools' images go, for a host that opens its store after making the provider (the
   * server builds its profiles first). A store given to `createMcpToolProvider` is kept.
   */
  useAttachmentStore(attachments: AttachmentStore): void {
    this.#attachments ??= attachments;
  }

  /** The names of the configured servers (disabled ones left out), sorted. */
  get servers(): readonly string[] {
    return this.#connections.map((connection) => connection.name);
  }

  /**
   * The tools of every server for the coming turn: each server's current listing (a server whose
   * list changed is listed again, one that is down is tried again once its backoff has passed). A
   * server that cannot be reached contributes the tools it listed before, or none; it never fails
   * the turn.
   */
  async listTools(): Promise<readonly ToolDefinition<unknown>[]> {
    const listings = await Promise.all(this.#connections.map(async (connection) => ({ connection, tools: await connection.tools() })));
    return this.#build(listings).map((tool) => tool.definition);
  }

  #build(listings: readonly { readonly connection: ServerConnection; readonly tools: readonly Tool[] }[]): BuiltTool[] {
    const names = namespacedToolNames(
      listings.flatMap(({ connection, tools }) => tools.map((tool) => ({ server: connection.name, tool: tool.name }))),
    );
    const all: BuiltTool[] = [];
    const latest = new Map<string, readonly BuiltTool[]>();
    for (const { connection, tools } of listings) {
      const built: BuiltTool[] = [];
      const skipped: { serverToolName: string; problem: string }[] = [];
      for (const tool of tools) {
        const name = names.get(`${connection.name}\u0000${tool.name}`);
        if (name === undefined) continue;
        try {
          built.push(this.#definition(connection, tool, name));
        } catch (error) {
          // A schema the runtime cannot use would fail every turn: that tool is left out, the others stay.
          if (!LashError.isInstance(error)) throw error;
          skipped.push({ serverToolName: tool.name, problem: error.message });
        }
      }
      latest.set(connection.name, built);
      this.#skipped.set(connection.name, skipped);
      all.push(...built);
    }
    this.#latest = latest;
    return all;
  }

  #definition(connection: ServerConnection, tool: Tool, name: string): BuiltTool {
    const key = `${connection.name}\u0000${tool.name}`;
    const kept = this.#built.get(key);
    if (kept !== undefined && kept.source === tool && kept.name === name) return kept.tool;
    const needsApproval = toolNeedsApproval(tool, connection.config.approval ?? "destructive");
    const description = tool.description ?? tool.annotations?.title ?? tool.title ?? tool.name;
    const definition = defineTool({
      name,
      description: `${description} (MCP server ${connection.name})`,
      // The server's schema, as it sent it: the model reads it and the runtime validates the arguments with it.
      inputSchema: tool.inputSchema as JsonSchemaObject,
      needsApproval,
      describeApproval: (input) => summaryOf(connection.name, tool.name, input),
      execute: async (input, context) => {
        const args = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
        const result = await connection.call(tool.name, args, context.signal);
        return toolValueOf(connection.name, result, this.#attachments);
      },
    });
    const built: BuiltTool = {
      definition: definition as ToolDefinition<unknown>,
      status: { name, serverToolName: tool.name, description, needsApproval },
    };
    this.#built.set(key, { source: tool, name, tool: built });
    return built;
  }

  /** Connects to every server now and lists its tools (servers already connected and current are not asked again). */
  async connect(): Promise<readonly McpServerStatus[]> {
    const listings = await Promise.all(this.#connections.map(async (connection) => ({ connection, tools: await connection.refresh() })));
    this.#build(listings);
    return this.status();
  }

  /** Each server's state and tools, as of the last listing. */
  status(): readonly McpServerStatus[] {
    return this.#connections.map((connection) => {
      const transport = connection.transport;
      const serverInfo = connection.serverVersion;
      const lastError = connection.lastError;
      return {
        server: connection.name,
        state: connection.state,
        ...(transport === undefined ? {} : { transport }),
        ...(serverInfo === undefined ? {} : { serverInfo: { name: serverInfo.name, version: serverInfo.version } }),
        tools: (this.#latest.get(connection.name) ?? []).map((tool) => tool.status),
        skippedTools: this.#skipped.get(connection.name) ?? [],
        ...(lastError === undefined ? {} : { lastError }),
      };
    });
  }

  /** Stops every server (stdio processes end, HTTP sessions close); later calls fail with `mcp_closed`. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#connections.map((connection) => connection.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The tools of the MCP servers in `options.servers` (the `mcpServers` shape other MCP clients use)
 * as a lash `ToolProvider`. Servers start on first use; tools are named `<server>__<tool>` (see
 * `namespacedToolNames`).
 *
 * @throws McpConfigurationError when `servers` is not a valid `mcpServers` value.
 */
export function createMcpToolProvider(options: McpToolProviderOptions): McpToolProvider {
  return new McpToolProvider(options);
}
