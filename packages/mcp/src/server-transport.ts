import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { McpServerConfig } from "./mcp-server-config.js";
import { isHttpServer } from "./mcp-server-config.js";

/** How a server is reached once connected. */
export type McpTransportKind = "stdio" | "streamable-http" | "sse";

/** The name and version lash gives itself in the handshake. */
export interface McpClientInfo {
  readonly name: string;
  readonly version: string;
}

/** A connected client and what the connection is. */
export interface ConnectedClient {
  readonly client: Client;
  readonly transport: McpTransportKind;
  /** The last lines the server wrote on stderr (stdio only), for the message of a server that died. */
  readonly stderrTail: () => string;
}

const STDERR_TAIL_CHARACTERS = 2_000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function connectStdio(
  config: Extract<McpServerConfig, { command: string }>,
  client: Client,
  timeoutMs: number,
): Promise<ConnectedClient> {
  const transport = new StdioClientTransport({
    command: config.command,
    args: config.args ?? [],
    // The SDK adds the variables it deems safe to inherit (PATH, HOME, ...); the entry's come on top.
    ...(config.env === undefined ? {} : { env: config.env }),
    ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
    // Kept, not shown: a server's chatter would mix with the host's own output.
    stderr: "pipe",
  });
  let tail = "";
  transport.stderr?.on("data", (chunk: Buffer | string) => {
    tail = (tail + chunk.toString()).slice(-STDERR_TAIL_CHARACTERS);
  });
  await client.connect(transport, { timeout: timeoutMs });
  return { client, transport: "stdio", stderrTail: () => tail.trim() };
}

async function connectHttp(
  config: Extract<McpServerConfig, { url: string }>,
  makeClient: () => Client,
  timeoutMs: number,
): Promise<ConnectedClient> {
  const url = new URL(config.url);
  const requestInit: RequestInit = config.headers === undefined ? {} : { headers: config.headers };
  const noTail = (): string => "";
  let streamableFailure: unknown;
  if (config.type !== "sse") {
    const client = makeClient();
    try {
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit }), { timeout: timeoutMs });
      return { client, transport: "streamable-http", stderrTail: noTail };
    } catch (error) {
      await client.close().catch(() => undefined);
      // A server that only speaks the older HTTP+SSE transport refuses the POST: try that one next,
      // unless the entry asked for Streamable HTTP by name.
      if (config.type === "streamable-http") throw error;
      streamableFailure = error;
    }
  }
  const client = makeClient();
  try {
    await client.connect(new SSEClientTransport(url, { requestInit, eventSourceInit: { fetch: withHeaders(config.headers) } }), {
      timeout: timeoutMs,
    });
  } catch (error) {
    if (streamableFailure === undefined) throw error;
    // Both failed: the first failure is usually the telling one (a refused connection, a 401).
    throw new Error(`Streamable HTTP: ${messageOf(streamableFailure)}; HTTP+SSE: ${messageOf(error)}`, { cause: error });
  }
  return { client, transport: "sse", stderrTail: noTail };
}

/** A fetch that sends the entry's headers on the SSE stream's GET too (EventSource sends none by itself). */
function withHeaders(headers: Readonly<Record<string, string>> | undefined): typeof fetch {
  return (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(headers ?? {})) merged.set(name, value);
    return fetch(input, { ...init, headers: merged });
  };
}

/** Starts (stdio) or reaches (HTTP) a server and completes the MCP handshake within `timeoutMs`. */
export function connectServer(config: McpServerConfig, clientInfo: McpClientInfo, timeoutMs: number): Promise<ConnectedClient> {
  const makeClient = (): Client => new Client({ name: clientInfo.name, version: clientInfo.version }, { capabilities: {} });
  return isHttpServer(config) ? connectHttp(config, makeClient, timeoutMs) : connectStdio(config, makeClient(), timeoutMs);
}
