import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { type ExecutionModeName, openSessionRuntime, titleFrom } from "../sessions/session-runtime.js";
import type { TurnFlags } from "./command-context.js";
import { cliTools, readAllStdin, stdinHasInput } from "./command-context.js";
import { announceNewSession, showTurn, withTurnCommand } from "./turn-command.js";

/** Flags of `lash run`. */
export interface RunFlags extends TurnFlags {
  readonly json?: boolean;
  /** The execution mode (`--mode`): `standard` (tool calls) or `rlm` (JavaScript cells). */
  readonly mode?: ExecutionModeName;
}

/** The prompt: the argument, stdin for `-` or no argument, and input piped by a shell appended to an argument. */
async function readPrompt(argument: string | undefined, io: CliIo): Promise<string> {
  if (argument === "-" || (argument === undefined && (await stdinHasInput(io, { includeSockets: true })))) {
    const text = await readAllStdin(io);
    if (text.trim() === "") throw usageError("the prompt read from stdin is empty");
    return text;
  }
  if (argument === undefined || argument.trim() === "")
    throw usageError("no prompt: pass it as an argument, or `-` to read it from stdin", 'example: lash run "What does this project do?"');
  if (await stdinHasInput(io, { includeSockets: false })) {
    const piped = await readAllStdin(io);
    if (piped.trim() !== "") return `${argument}\n\n${piped}`;
  }
  return argument;
}

/**
 * `lash run "<prompt>"`: one turn. The answer streams to stdout, progress to stderr, then one
 * summary line; `--json` prints the `AssembledTurn` instead of the answer. Ctrl-C cancels the turn
 * (what it produced is kept); a second Ctrl-C exits at once.
 *
 * Nobody can be asked here (stdin may carry the prompt): under `--yes` every write and shell
 * command is approved; without it the runtime has no approver, so a call that needs approval makes
 * the turn wait durably. The command then lists the requests, says how to answer them (`lash
 * approve` / `lash reject`, from any process) and exits with 3.
 */
export async function runCommand(promptArgument: string | undefined, flags: RunFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const prompt = await readPrompt(promptArgument, io);
  return withTurnCommand(config, io, async ({ provider, store, environment, signal }) => {
    const yes = flags.yes === true;
    const { runtime, sessionId, created } = await openSessionRuntime({
      store,
      config,
      provider,
      tools: await cliTools(config, io, flags),
      cwd: io.cwd,
      sessionId: flags.session,
      title: titleFrom(prompt),
      environment,
      mode: flags.mode,
      ...(yes ? { approve: () => ({ type: "approve", decidedBy: "cli:--yes" }) } : {}),
    });
    if (created) announceNewSession(io, sessionId);
    return showTurn(io, runtime.streamTurn(prompt, { signal }), {
      sessionId,
      json: flags.json === true,
      signal,
      announceApprovals: !yes,
      retryHint: `the session keeps the other process's turn; to store this one, run it again: lash run --session ${sessionId} "<prompt>"`,
    });
  });
}
