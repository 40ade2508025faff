import { createLashMcpServer } from "@lash/mcp";
import type { ApprovalHandler } from "@lash/protocol";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import packageJson from "../../package.json" with { type: "json" };
import type { CliIo } from "../cli-io.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { createConfiguredProvider } from "../providers/create-provider.js";
import { createTaskEnvironment, type TaskEnvironment } from "../sessions/background-tasks.js";
import { openSessionRuntime } from "../sessions/session-runtime.js";
import { listSessionRows } from "../sessions/session-summaries.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";
import { cliTools, type TurnFlags } from "./command-context.js";

/**
 * `lash mcp serve`: the agent of the configuration (provider, model, store, limits, tools of the
 * working directory, the config's own MCP servers) as an MCP server on stdin and stdout, for any
 * MCP client: `run_turn`, `list_sessions`, `session_usage`. stdout carries the protocol only; the
 * command's own lines go to stderr. It ends when the client closes stdin (or on SIGINT, SIGTERM),
 * with 0. Without `--yes`, a call that needs approval makes the turn wait, stored: `lash approve`
 * answers it from a terminal.
 */
export async function mcpServeCommand(flags: TurnFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const provider = await createConfiguredProvider(config);
  const store = await openCliStore(config.store.value, { env: io.env });
  let tasks: TaskEnvironment | undefined;
  try {
    const taskEnvironment = await createTaskEnvironment(provider.provider, store);
    tasks = taskEnvironment;
    const tools = await cliTools(config, io, flags);
    const approve: ApprovalHandler | undefined = flags.yes === true ? () => ({ type: "approve", decidedBy: "cli:--yes" }) : undefined;
    const server = createLashMcpServer({
      version: packageJson.version,
      agentDescription: `It works in ${io.cwd} with the tools of that folder (model ${provider.model}).`,
      openSession: async (sessionId, { title }) => {
        const opened = await openSessionRuntime({
          store,
          config,
          provider,
          tools,
          cwd: io.cwd,
          sessionId,
          title,
          environment: taskEnvironment.environment,
          ...(approve === undefined ? {} : { approve }),
        });
        if (opened.created) io.stderr.write(`lash mcp serve: new session ${opened.sessionId}\n`);
        return { sessionId: opened.sessionId, runtime: opened.runtime };
      },
      listSessions: async ({ limit }) =>
        (await listSessionRows(store)).rows.slice(0, limit).map((row) => ({
          sessionId: row.sessionId,
          title: row.title,
          model: row.model,
          ...(row.turns === null ? {} : { turns: row.turns }),
          ...(row.lastActivity === undefined ? {} : { lastActivityAt: row.lastActivity }),
        })),
    });
    const transport = new StdioServerTransport(io.stdin, io.stdout);
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      const stop = (): void => {
        void server.close();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      // The client closing its end of the pipe ends the session.
      io.stdin.once("end", stop);
    });
    await server.connect(transport);
    io.stderr.write(
      `lash mcp serve: serving ${provider.model} on ${store.description} over stdio (tools: run_turn, list_sessions, session_usage)\n`,
    );
    await closed;
    return EXIT_CODES.finished;
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    await tasks?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
