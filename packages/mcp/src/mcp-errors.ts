import type { ToolFailureClass } from "@lash/protocol";
import { LashError, ToolError } from "@lash/protocol";

/**
 * What went wrong with a server:
 * - `startup`: the process did not start, the handshake or the tool listing failed or took too long;
 * - `disconnected`: the connection was lost (the process exited, the HTTP stream closed), also mid-call;
 * - `timeout`: a call took longer than the server's call timeout (the server was told to stop);
 * - `protocol`: the server answered something that is not MCP (or not what the call's schema says);
 * - `tool_error`: the tool ran and reported a failure (`isError`);
 * - `closed`: the provider was closed.
 */
export type McpServerProblem = "startup" | "disconnected" | "timeout" | "protocol" | "tool_error" | "closed";

const FAILURE_CLASSES: Record<McpServerProblem, ToolFailureClass> = {
  startup: "unavailable",
  disconnected: "unavailable",
  timeout: "timeout",
  protocol: "external",
  tool_error: "external",
  closed: "unavailable",
};

const marker = "lash.error.McpServerError";
const symbol = Symbol.for(marker);

/**
 * A failure of one MCP server, naming it. Thrown by a tool, the model sees it as the call's failure
 * (code `mcp_<problem>`) and the turn goes on; the provider reports startup failures with it too.
 */
export class McpServerError extends ToolError {
  readonly [symbol] = true;
  /** The server's name in the configuration. */
  readonly server: string;
  readonly problem: McpServerProblem;
  /** What went wrong, without the server's name (the message starts with `MCP server \`<name>\`: `). */
  readonly detail: string;

  constructor(server: string, problem: McpServerProblem, detail: string, options: { cause?: unknown } = {}) {
    super({ class: FAILURE_CLASSES[problem], code: `mcp_${problem}`, message: `MCP server \`${server}\`: ${detail}` }, options);
    this.name = "McpServerError";
    this.server = server;
    this.problem = problem;
    this.detail = detail;
  }

  static override isInstance(error: unknown): error is McpServerError {
    return LashError.hasMarker(error, marker);
  }
}
