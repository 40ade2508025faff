import { UnknownBackgroundTaskError } from "@lash/protocol";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { type CliTaskHost, formatTaskTable, openTaskHost } from "../sessions/background-tasks.js";
import type { CliStore } from "../store/open-store.js";
import { withStore } from "./command-context.js";

/**
 * Why a store other than PostgreSQL has no tasks to show here: its subagents run on the in-process
 * host of the `lash run` or `lash chat` process that started them and end with it.
 */
const IN_PROCESS_ONLY = [
  "with this store, background tasks (subagents) run inside the `lash run` or `lash chat` process that started them and end with it;",
  "inside `lash chat`, use /tasks and /cancel <task id>; with --store postgres://... tasks are stored and any process can list and cancel them",
].join("\n");

/** Runs `use` with the durable task host of a PostgreSQL store, or returns undefined for other stores. */
async function withDurableTasks<Result>(store: CliStore, use: (tasks: CliTaskHost) => Promise<Result>): Promise<Result | undefined> {
  if (store.postgres === undefined) return undefined;
  const tasks = await openTaskHost(store);
  try {
    return await use(tasks);
  } finally {
    await tasks.close().catch(() => undefined);
  }
}

/**
 * `lash tasks list [--all]`: the background tasks stored in a PostgreSQL store's database, of every
 * session (live ones; `--all` adds the ended ones), oldest first. Leases of processes that died are
 * settled first, so a crashed `lash chat`'s subagent shows as failed rather than running forever.
 */
export async function tasksListCommand(
  flags: ConfigFlags & { readonly all?: boolean; readonly json?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    const listed = await withDurableTasks(store, async (tasks) => {
      await tasks.settleAbandoned();
      return tasks.host.list({ includeTerminal: flags.all === true });
    });
    if (listed === undefined) {
      io.stderr.write(`no background tasks: ${IN_PROCESS_ONLY}\n`);
      if (flags.json === true) io.stdout.write("[]\n");
      return EXIT_CODES.finished;
    }
    if (flags.json === true) io.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
    else if (listed.length === 0) io.stderr.write(`no ${flags.all === true ? "" : "live "}background tasks in ${store.description}\n`);
    else io.stdout.write(`${formatTaskTable(listed)}\n`);
    return EXIT_CODES.finished;
  });
}

/**
 * `lash tasks cancel <id>`: cancels a task stored in a PostgreSQL store's database, wherever it runs
 * (the process holding it sees the cancel and aborts the work). An unknown id exits 2; a task that
 * already ended is left as it was.
 */
export async function tasksCancelCommand(taskId: string, flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  return withStore(flags, io, async (store) => {
    const cancelled = await withDurableTasks(store, async ({ host }) => {
      try {
        return await host.requestCancel(taskId, "cancelled with lash tasks cancel");
      } catch (error) {
        if (UnknownBackgroundTaskError.isInstance(error)) {
          throw new CliError(`no background task ${taskId} in ${store.description}`, {
            exitCode: EXIT_CODES.usage,
            hint: "`lash tasks list --all` shows the tasks",
            cause: error,
          });
        }
        throw error;
      }
    });
    if (cancelled === undefined) throw new CliError(`no background task ${taskId}: ${IN_PROCESS_ONLY}`, { exitCode: EXIT_CODES.usage });
    io.stdout.write(`${cancelled.id}: ${cancelled.state}\n`);
    return EXIT_CODES.finished;
  });
}
