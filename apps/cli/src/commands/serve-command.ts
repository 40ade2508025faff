import type { CliIo } from "../cli-io.js";
import { EXIT_CODES, type ExitCode } from "../exit-codes.js";

/**
 * `lash serve [options]`: the `lash-server` command of `@lash/server`, run in this process with the
 * same flags, configuration and environment (`--store`, `--port`, `--host`, the config files, ...),
 * until SIGTERM or SIGINT. The server is loaded only when this command runs, so no other command
 * pays for it.
 */
export async function serveCommand(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { runServerCommand } = await import("@lash/server");
  const code = await runServerCommand(args, { stdout: io.stdout, stderr: io.stderr, env: io.env, cwd: io.cwd, name: "lash serve" });
  if (code === EXIT_CODES.finished) return EXIT_CODES.finished;
  return code === EXIT_CODES.usage ? EXIT_CODES.usage : EXIT_CODES.failed;
}
