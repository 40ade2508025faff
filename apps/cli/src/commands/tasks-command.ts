import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";

/**
 * Why `lash tasks` has nothing to show: the command's background tasks (subagents) run on an
 * in-process host, so they live and end with the `lash run` or `lash chat` process that started
 * them. A durable host (PostgreSQL, `@lash/background/postgres`) would outlive it, but it needs
 * `pg-boss`, which this package does not ship yet.
 */
const IN_PROCESS_ONLY = [
  "background tasks (subagents) run inside the `lash run` or `lash chat` process that started them and end with it,",
  "so this separate process has none to show; inside `lash chat`, use /tasks and /cancel <task id>",
].join("\n");

/** `lash tasks list`: explains where tasks are (see the README, "Background tasks"). */
export async function tasksListCommand(_flags: ConfigFlags & { readonly all?: boolean }, io: CliIo): Promise<ExitCode> {
  io.stderr.write(`no background tasks: ${IN_PROCESS_ONLY}\n`);
  return EXIT_CODES.finished;
}

/** `lash tasks cancel <id>`: there is no task of another process to cancel (exit 2). */
export async function tasksCancelCommand(taskId: string, _flags: ConfigFlags, io: CliIo): Promise<ExitCode> {
  io.stderr.write(`lash: error: no background task ${taskId}: ${IN_PROCESS_ONLY}\n`);
  return EXIT_CODES.usage;
}
