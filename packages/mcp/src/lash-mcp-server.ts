import type { LashRuntime } from "@lash/core";
import type { AssembledTurn, JsonValue, TokenLedgerEntry, TokenUsage, TurnActivity } from "@lash/protocol";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** A stored session, as `list_sessions` shows it. */
export interface LashMcpSessionListing {
  readonly sessionId: string;
  readonly title?: string;
  readonly model?: string;
  readonly turns?: number;
  /** ISO 8601. */
  readonly lastActivityAt?: string;
}

/** A session's runtime, opened for one tool call and released after it. */
export interface LashMcpOpenedSession {
  readonly sessionId: string;
  readonly runtime: LashRuntime;
}

/** What the host gives the server: how to open a session's runtime and how to list sessions. */
export interface LashMcpServerOptions {
  /** The server's name in the handshake (default `lash`). */
  readonly name?: string;
  readonly version?: string;
  /** A line about the agent, added to `run_turn`'s description (what it is good at). */
  readonly agentDescription?: string;
  /**
   * Opens the runtime of `sessionId`, or of a new session when it is `undefined` (`title` is the
   * prompt's first line). An unknown id should throw: the client sees the message.
   */
  openSession(sessionId: string | undefined, options: { readonly title: string }): Promise<LashMcpOpenedSession>;
  /** The sessions, newest first. */
  listSessions(options: { readonly limit: number }): Promise<readonly LashMcpSessionListing[]>;
}

type SendNotification = (notification: ServerNotification) => Promise<void>;

function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], ...(structured === undefined ? {} : { structuredContent: structured }) };
}

function errorResult(error: unknown): CallToolResult {
  return { content: [{ type: "text", text: error instanceof Error ? error.message : String(error) }], isError: true };
}

function sumUsage(entries: readonly TokenLedgerEntry[]): TokenUsage {
  const total = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
  for (const { usage } of entries) {
    total.inputTokens += usage.inputTokens;
    total.outputTokens += usage.outputTokens;
    total.cachedInputTokens += usage.cachedInputTokens;
    total.reasoningTokens += usage.reasoningTokens;
  }
  return total;
}

/** The progress line of an activity a client may show; `undefined` for the others. */
function progressMessage(activity: TurnActivity): string | undefined {
  switch (activity.type) {
    case "model_request_started":
      return "model call";
    case "text_delta":
      return activity.text;
    case "tool_call_started":
      return `tool ${activity.name} ${JSON.stringify(activity.args)}`;
    case "tool_call_completed":
      return `tool ${activity.name}: ${activity.output.outcome.status}`;
    default:
      return undefined;
  }
}

/** The turn as the client reads it: the answer as text, the rest as structured content. */
function turnResult(sessionId: string, turn: AssembledTurn): CallToolResult {
  const approvals =
    turn.outcome.type === "stopped" && turn.outcome.stop.type === "awaiting_approval"
      ? turn.outcome.stop.approvals.map((request) => ({ id: request.id, tool: request.tool, summary: request.summary ?? null }))
      : undefined;
  // The outcome and the usage are plain JSON by their schemas; their types are only not declared as `JsonValue`.
  const structured: Record<string, JsonValue> = {
    sessionId,
    turnIndex: turn.state.turnIndex,
    outcome: turn.outcome as unknown as JsonValue,
    answer: turn.assistantOutput.safeText,
    usage: turn.tokenUsage as unknown as JsonValue,
    toolCalls: turn.toolCalls.map((call) => ({ tool: call.tool, status: call.output.outcome.status })),
    ...(approvals === undefined ? {} : { approvals }),
  };
  const stop = turn.outcome.type === "stopped" ? `\n\n[turn stopped: ${turn.outcome.stop.type}; session ${sessionId}]` : "";
  return textResult(`${turn.assistantOutput.safeText}${stop}`, structured);
}

async function runTurn(
  options: LashMcpServerOptions,
  input: { readonly prompt: string; readonly sessionId?: string | undefined },
  extra: { readonly signal: AbortSignal; readonly sendNotification: SendNotification; readonly progressToken: string | number | undefined },
): Promise<CallToolResult> {
  const title = input.prompt.trim().split("\n")[0]?.slice(0, 60) ?? "";
  const opened = await options.openSession(input.sessionId, { title });
  const stream = opened.runtime.streamTurn(input.prompt, { signal: extra.signal });
  let progress = 0;
  const token = extra.progressToken;
  for await (const activity of stream) {
    const message = token === undefined ? undefined : progressMessage(activity);
    if (token === undefined || message === undefined) continue;
    progress += 1;
    // A client that went away must not fail the turn: the turn is committed whether or not it is watched.
    await extra
      .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, message } })
      .catch(() => undefined);
  }
  return turnResult(opened.sessionId, await stream);
}

/**
 * An MCP server whose tools drive a durable lash agent: `run_turn` (a prompt, on a new session or
 * the one named), `list_sessions` and `session_usage`. Connect it to a transport
 * (`server.connect(new StdioServerTransport())`, as `lash mcp serve` does). A `run_turn` request
 * that carries a `progressToken` gets the turn's progress as `notifications/progress` (model
 * calls, the answer's text as it streams, tool calls); a cancelled request cancels the turn, which
 * ends `stopped { cancelled }` with what it produced stored.
 */
export function createLashMcpServer(options: LashMcpServerOptions): McpServer {
  const server = new McpServer({ name: options.name ?? "lash", version: options.version ?? "0.1.0" });
  server.registerTool(
    "run_turn",
    {
      title: "Run a turn of the lash agent",
      description: `Sends a prompt to the lash agent and returns its answer when the turn ends. Without sessionId a new session starts; with one, the conversation goes on where it stopped. The result's structured content has the session id to continue with.${
        options.agentDescription === undefined ? "" : ` ${options.agentDescription}`
      }`,
      inputSchema: {
        prompt: z.string().min(1).describe("What to ask the agent."),
        sessionId: z.string().min(1).optional().describe("A session to continue (from an earlier run_turn or list_sessions)."),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (input, extra) => {
      try {
        return await runTurn(options, input, {
          signal: extra.signal,
          sendNotification: extra.sendNotification,
          progressToken: extra._meta?.progressToken,
        });
      } catch (error) {
        return errorResult(error);
      }
    },
  );
  server.registerTool(
    "list_sessions",
    {
      title: "List the agent's sessions",
      description: "The agent's stored sessions, newest first: id, title, model, turns, last activity.",
      inputSchema: { limit: z.number().int().min(1).max(500).optional().describe("At most this many (default 50).") },
      annotations: { readOnlyHint: true },
    },
    async ({ limit }) => {
      try {
        const sessions = await options.listSessions({ limit: limit ?? 50 });
        const lines = sessions.map((session) => `${session.sessionId}  ${session.title ?? ""}`.trimEnd());
        return textResult(lines.length === 0 ? "no sessions" : lines.join("\n"), { sessions: sessions.map((session) => ({ ...session })) });
      } catch (error) {
        return errorResult(error);
      }
    },
  );
  server.registerTool(
    "session_usage",
    {
      title: "A session's token usage",
      description: "The tokens a session has used, in all and per (source, model).",
      inputSchema: { sessionId: z.string().min(1) },
      annotations: { readOnlyHint: true },
    },
    async ({ sessionId }) => {
      try {
        const opened = await options.openSession(sessionId, { title: "" });
        const rows = opened.runtime.tokenLedger();
        const total = sumUsage(rows);
        return textResult(
          `session ${sessionId}: ${total.inputTokens} input tokens (${total.cachedInputTokens} cached), ${total.outputTokens} output, ${total.reasoningTokens} reasoning`,
          { sessionId, total: { ...total }, rows: rows.map((row) => ({ source: row.source, model: row.model, usage: { ...row.usage } })) },
        );
      } catch (error) {
        return errorResult(error);
      }
    },
  );
  return server;
}
