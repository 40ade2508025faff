import { stat } from "node:fs/promises";
import { Socket } from "node:net";
import type { ToolDefinition } from "@lash/protocol";
import { createWorkspaceTools } from "@lash/tools";
import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags, EffectiveConfig } from "../config/effective-config.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import { MAX_INPUT_FILE_BYTES } from "../config/input-file.js";
import type { CliStore } from "../store/open-store.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";

/** Flags of the commands that run turns, besides the configuration flags. */
export interface TurnFlags extends ConfigFlags {
  readonly session?: string;
  readonly yes?: boolean;
  readonly allowAnyPath?: boolean;
}

/** The configuration and an open store, closed by `close()` whatever happened. */
export async function withStore<Result>(
  flags: ConfigFlags,
  io: CliIo,
  use: (store: CliStore, config: EffectiveConfig) => Promise<Result>,
): Promise<Result> {
  const config = await resolveEffectiveConfig(flags, io);
  const store = await openCliStore(config.store.value, { env: io.env });
  try {
    return await use(store, config);
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * The built-in tools over the working directory (or `root`: `lash approve` runs a turn's tools
 * where the turn ran), with the allowed directories of the config. Their writes and shell commands
 * need approval: the command gives its runtime an approver (`openSessionRuntime({ approve })`), or
 * none, and a turn that wants one waits for `lash approve`.
 */
export function cliTools(
  config: EffectiveConfig,
  io: CliIo,
  flags: Pick<TurnFlags, "allowAnyPath">,
  root: string = io.cwd,
): Promise<ToolDefinition<unknown>[]> {
  return createWorkspaceTools({
    root,
    allowedDirectories: config.allowedDirectories.value,
    allowAnyPath: flags.allowAnyPath === true,
  });
}

/**
 * True when stdin carries input: a shell pipe or a redirected file, and with `includeSockets` also
 * the socket a parent process hands its child as stdin (Node's `spawn` does). Not a terminal, not
 * /dev/null. A prompt given as an argument only takes input from a pipe or a file: a parent that
 * spawns `lash` with an unused stdin socket and never closes it must not make it wait forever.
 *
 * The check is an asynchronous stat of `/dev/stdin`, never `fstatSync(0)`: under Node 20 that call
 * made the next resolution of an external package (the SQLite driver) skip its symbolic link, so
 * the driver could not find its own dependencies.
 */
export async function stdinHasInput(io: CliIo, options: { readonly includeSockets: boolean }): Promise<boolean> {
  if (io.stdin.isTTY === true) return false;
  try {
    const info = await stat("/dev/stdin");
    return info.isFIFO() || info.isFile() || (options.includeSockets && info.isSocket());
  } catch {
    // No /dev/stdin (Windows): a pipe there is a socket-like stream.
    return io.stdin instanceof Socket;
  }
}

/** Everything on stdin, as text. */
export async function readAllStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    length += bytes.length;
    // The same cap as a config file or a script: `lash run - < /dev/zero` must not read forever.
    if (length > MAX_INPUT_FILE_BYTES) {
      io.stdin.destroy();
      throw usageError(`the prompt read from stdin is larger than ${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}
