import type { ApprovalHandler, AssembledTurn } from "@lash/protocol";
import { usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { createConfiguredProvider } from "../providers/create-provider.js";
import { styleFor } from "../render/terminal-style.js";
import { createTurnRenderer, renderTurn } from "../render/turn-renderer.js";
import { createTaskEnvironment, type TaskEnvironment } from "../sessions/background-tasks.js";
import { openSessionRuntime, titleFrom } from "../sessions/session-runtime.js";
import { unstoredTurnError } from "../sessions/unstored-turn.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";
import type { TurnFlags } from "./command-context.js";
import { cliTools, readAllStdin, stdinHasInput } from "./command-context.js";

/** Flags of `lash run`. */
export interface RunFlags extends TurnFlags {
  readonly json?: boolean;
}

/** The exit code of a finished turn. */
export function exitCodeOf(turn: AssembledTurn): ExitCode {
  if (turn.outcome.type !== "stopped") return EXIT_CODES.finished;
  return turn.outcome.stop.type === "cancelled" ? EXIT_CODES.cancelled : EXIT_CODES.failed;
}

/**
 * `lash run` cannot ask anyone (stdin may carry the prompt): writes and shell commands run under
 * `--yes`, and are rejected otherwise, with a reason that tells the model (and the user) the way out.
 */
function runApprover(yes: boolean): ApprovalHandler {
  return yes
    ? () => ({ type: "approve", decidedBy: "cli:--yes" })
    : () => ({ type: "reject", reason: "writes and shell commands need --yes in `lash run`" });
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
 */
export async function runCommand(promptArgument: string | undefined, flags: RunFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const prompt = await readPrompt(promptArgument, io);
  const provider = await createConfiguredProvider(config);
  const store = await openCliStore(config.store.value, { env: io.env });
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.cancelled);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  let tasks: TaskEnvironment | undefined;
  try {
    const tools = await cliTools(config, io, flags);
    tasks = await createTaskEnvironment(provider.provider, store);
    const { environment } = tasks;
    const { runtime, sessionId, created } = await openSessionRuntime({
      store,
      config,
      provider,
      tools,
      cwd: io.cwd,
      sessionId: flags.session,
      title: titleFrom(prompt),
      environment,
      approve: runApprover(flags.yes === true),
    });
    if (created) io.stderr.write(`${styleFor(io.stderr, io.env).dim("lash:")} new session ${sessionId}\n`);
    const renderer = createTurnRenderer(io, { streamAnswer: flags.json !== true, sessionId, signal: controller.signal });
    let turn: AssembledTurn;
    try {
      turn = await renderTurn(renderer, runtime.streamTurn(prompt, { signal: controller.signal }));
    } catch (error) {
      // Another writer committed to the session first: say that the answer is not in the store.
      throw (
        unstoredTurnError(error, {
          sessionId,
          shown: renderer.modelCalls > 0,
          hint: `the session keeps the other process's turn; to store this one, run it again: lash run --session ${sessionId} "<prompt>"`,
        }) ?? error
      );
    }
    if (flags.json === true) io.stdout.write(`${JSON.stringify(turn, null, 2)}\n`);
    return exitCodeOf(turn);
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    process.off("SIGINT", onSignal);
    await tasks?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
