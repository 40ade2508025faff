import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolOutcome } from "./call-result.js";
import { McpServerError, type McpServerProblem } from "./mcp-errors.js";
import type { McpServerConfig } from "./mcp-server-config.js";
import type { ConnectedClient, McpClientInfo, McpTransportKind } from "./server-transport.js";
import { connectServer } from "./server-transport.js";

/** The state of one server's connection. */
export type McpConnectionState = "idle" | "connecting" | "connected" | "failed" | "closed";

export interface ServerConnectionOptions {
  readonly clientInfo: McpClientInfo;
  readonly startupTimeoutMs: number;
  readonly callTimeoutMs: number;
  /** Told of every failure to connect or to list the tools. */
  readonly onError?: (error: McpServerError) => void;
  /** Told when the server says its tools changed (they are listed again for the next turn). */
  readonly onToolListChanged?: () => void;
}

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * How long to wait before the next attempt after `failures` failures in a row. A connection lost
 * once is restarted at once (a crash is often a one-off); a server that failed to start waits 1 s
 * first (so a runtime built just before its first turn does not start it twice), and each failure
 * in a row doubles the wait, up to 30 s.
 */
function backoffAfter(failures: number, problem: McpServerProblem): number {
  if (problem === "disconnected" && failures <= 1) return 0;
  const exponent = problem === "disconnected" ? failures - 2 : failures - 1;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** exponent);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One configured server: connects on first use, keeps its tool listing until the server says it
 * changed (`notifications/tools/list_changed`), and restarts after a failure on the next use, with a
 * backoff that grows with consecutive failures (see `backoffAfter`). The
 * listing is kept across a lost connection, so the tools the model sees do not come and go with it.
 */
export class ServerConnection {
  readonly name: string;
  readonly config: McpServerConfig;
  readonly #options: ServerConnectionOptions;
  #state: McpConnectionState = "idle";
  #connected: ConnectedClient | undefined;
  #connecting: Promise<ConnectedClient> | undefined;
  #listing: Promise<readonly Tool[]> | undefined;
  #tools: readonly Tool[] | undefined;
  #stale = true;
  /** Counts the server's list-changed notifications, so one that arrives during a listing is not lost. */
  #changes = 0;
  #failures = 0;
  #retryAt = 0;
  #lastError: McpServerError | undefined;
  /** Bumped on every new connection, so a late `onclose` of an old one changes nothing. */
  #generation = 0;

  constructor(name: string, config: McpServerConfig, options: ServerConnectionOptions) {
    this.name = name;
    this.config = config;
    this.#options = options;
  }

  get state(): McpConnectionState {
    return this.#state;
  }

  get transport(): McpTransportKind | undefined {
    return this.#connected?.transport;
  }

  get lastError(): McpServerError | undefined {
    return this.#lastError;
  }

  get callTimeoutMs(): number {
    return this.config.callTimeoutSeconds === undefined ? this.#options.callTimeoutMs : this.config.callTimeoutSeconds * 1000;
  }

  get #startupTimeoutMs(): number {
    return this.config.startupTimeoutSeconds === undefined ? this.#options.startupTimeoutMs : this.config.startupTimeoutSeconds * 1000;
  }

  /** The server's name and version from the handshake, once connected. */
  get serverVersion(): { readonly name: string; readonly version: string } | undefined {
    return this.#connected?.client.getServerVersion();
  }

  /**
   * The server's tools: the kept listing while it is current, else a fresh one (connecting first
   * when needed). A server that cannot be reached gives the listing kept from before, or none; the
   * failure is in `lastError` and went to `onError`. Never throws.
   */
  async tools(): Promise<readonly Tool[]> {
    if (this.#state === "closed") return [];
    if (!this.#stale && this.#tools !== undefined && this.#connected !== undefined) return this.#tools;
    if (this.#connected === undefined && Date.now() < this.#retryAt) return this.#tools ?? [];
    this.#listing ??= this.#list().finally(() => {
      this.#listing = undefined;
    });
    try {
      return await this.#listing;
    } catch {
      return this.#tools ?? [];
    }
  }

  async #list(): Promise<readonly Tool[]> {
    const connected = await this.#client();
    const changesBefore = this.#changes;
    try {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      const deadline = AbortSignal.timeout(this.#startupTimeoutMs);
      do {
        const page = await connected.client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: this.#startupTimeoutMs,
          signal: deadline,
        });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      this.#tools = tools;
      this.#stale = this.#changes !== changesBefore;
      this.#failures = 0;
      return tools;
    } catch (error) {
      const failure = new McpServerError(this.name, "startup", `listing its tools failed: ${messageOf(error)}`, { cause: error });
      this.#fail(failure);
      await this.#disconnect();
      throw failure;
    }
  }

  /** The connected client, connecting (once, however many callers ask at the same time) when needed. */
  async #client(): Promise<ConnectedClient> {
    if (this.#state === "closed") throw new McpServerError(this.name, "closed", "the MCP tool provider was closed");
    if (this.#connected !== undefined) return this.#connected;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<ConnectedClient> {
    this.#state = "connecting";
    const generation = ++this.#generation;
    let connected: ConnectedClient;
    try {
      connected = await connectServer(this.config, this.#options.clientInfo, this.#startupTimeoutMs);
    } catch (error) {
      const failure = new McpServerError(this.name, "startup", `could not start or connect: ${messageOf(error)}`, { cause: error });
      this.#fail(failure);
      throw failure;
    }
    // close() may have run while the server was starting.
    if ((this.#state as McpConnectionState) === "closed") {
      await connected.client.close().catch(() => undefined);
      throw new McpServerError(this.name, "closed", "the MCP tool provider was closed");
    }
    const client: Client = connected.client;
    client.onclose = () => {
      if (generation !== this.#generation || this.#state === "closed") return;
      this.#connected = undefined;
      this.#state = "failed";
      this.#stale = true;
      const tail = connected.stderrTail();
      this.#lastError = new McpServerError(
        this.name,
        "disconnected",
        `the connection closed${tail === "" ? "" : ` (its last output: ${tail.slice(-300)})`}; it is restarted on the next use`,
      );
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#changes += 1;
      this.#stale = true;
      this.#options.onToolListChanged?.();
    });
    this.#connected = connected;
    this.#state = "connected";
    // The failure count is kept until the server answers a request: a server that starts and then
    // dies at once keeps backing off.
    this.#retryAt = 0;
    this.#lastError = undefined;
    this.#stale = true;
    return connected;
  }

  #fail(error: McpServerError): void {
    this.#failures += 1;
    this.#retryAt = Date.now() + backoffAfter(this.#failures, error.problem);
    this.#lastError = error;
    if (this.#state !== "closed") this.#state = "failed";
    this.#options.onError?.(error);
  }

  async #disconnect(): Promise<void> {
    const connected = this.#connected;
    this.#connected = undefined;
    this.#stale = true;
    this.#generation += 1;
    await connected?.client.close().catch(() => undefined);
  }

  /**
   * Calls `tool` with `args`. The call is cancelled when `signal` aborts or the call timeout passes
   * (the SDK tells the server with `notifications/cancelled`). A lost connection, a timeout, an
   * answer that is not MCP and a server that cannot be (re)started throw a `McpServerError` naming
   * the server; a lost connection is restarted on the next use.
   */
  async call(tool: string, args: Readonly<Record<string, unknown>> | undefined, signal: AbortSignal): Promise<CallToolOutcome> {
    if (this.#connected === undefined && Date.now() < this.#retryAt) {
      const waitSeconds = Math.ceil((this.#retryAt - Date.now()) / 1000);
      throw new McpServerError(
        this.name,
        this.#lastError?.problem ?? "disconnected",
        `not connected (${this.#lastError?.detail ?? "it failed"}); the next attempt is in ${waitSeconds} s`,
      );
    }
    const connected = await this.#client();
    const timeoutMs = this.callTimeoutMs;
    try {
      const result = await connected.client.callTool({ name: tool, ...(args === undefined ? {} : { arguments: { ...args } }) }, undefined, {
        signal,
        timeout: timeoutMs,
      });
      this.#failures = 0;
      return result as CallToolOutcome;
    } catch (error) {
      // The turn was cancelled: the call ends cancelled, not failed.
      if (signal.aborted) throw signal.reason ?? error;
      throw await this.#callFailure(error, connected, timeoutMs);
    }
  }

  async #callFailure(error: unknown, connected: ConnectedClient, timeoutMs: number): Promise<McpServerError> {
    let problem: McpServerProblem = "protocol";
    let message = messageOf(error);
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      problem = "timeout";
      message = `the call took longer than ${timeoutMs / 1000} s and was cancelled`;
    } else if ((error instanceof McpError && error.code === ErrorCode.ConnectionClosed) || this.#connected !== connected) {
      problem = "disconnected";
      const tail = connected.stderrTail();
      message = `the connection was lost during the call${tail === "" ? "" : ` (its last output: ${tail.slice(-300)})`}; it is restarted on the next call`;
      if (this.#connected === connected) await this.#disconnect();
      this.#failures += 1;
      this.#retryAt = Date.now() + backoffAfter(this.#failures, "disconnected");
    } else if (!(error instanceof McpError)) {
      message = `its answer is not a valid MCP result: ${message}`;
    }
    const failure = new McpServerError(this.name, problem, message, { cause: error });
    if (problem === "disconnected") this.#lastError = failure;
    return failure;
  }

  /** Lists the tools now, connecting first: `lash mcp list`. Never throws (see `lastError`). */
  async refresh(): Promise<readonly Tool[]> {
    this.#stale = true;
    this.#retryAt = 0;
    return this.tools();
  }

  /** Closes the connection (a stdio server's process ends); every later use fails with `closed`. */
  async close(): Promise<void> {
    this.#state = "closed";
    await this.#connecting?.catch(() => undefined);
    await this.#disconnect();
  }
}
