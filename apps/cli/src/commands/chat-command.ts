import { appendFile, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { CompactResult, LashRuntime, TurnStream } from "@lash/core";
import type { ApprovalAnswer, ApprovalDecision, ApprovalHandler, ApprovalRequest, BackgroundTaskHost } from "@lash/protocol";
import { describeError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { createConfiguredProvider } from "../providers/create-provider.js";
import { approvalSummary, formatPendingApprovals } from "../render/approval-view.js";
import { styleFor } from "../render/terminal-style.js";
import { createTurnRenderer, renderTurn } from "../render/turn-renderer.js";
import { renderUsageReport } from "../render/usage-report-view.js";
import { createTaskEnvironment, formatTaskTable, type TaskEnvironment } from "../sessions/background-tasks.js";
import { type ExecutionModeName, openSessionRuntime, titleFrom } from "../sessions/session-runtime.js";
import { unstoredTurnError } from "../sessions/unstored-turn.js";
import { explainStoreError, openCliStore } from "../store/open-store.js";
import { prepareDirectory } from "../store/prepare-directory.js";
import type { TurnFlags } from "./command-context.js";
import { cliTools } from "./command-context.js";
import { cliDecider, explainApprovalError, showingCodeCells } from "./turn-command.js";

/** How many prompts the chat history file keeps (and the arrow keys reach). */
const HISTORY_SIZE = 500;

/** The prompts of earlier chats, newest first (readline's order); none when the file is missing. */
async function loadHistory(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(-HISTORY_SIZE)
    .reverse();
}

const HELP = [
  "/usage  the session's token usage and cost",
  "/compact  summarize older history now (the newest turns stay as they are)",
  "/session  the session id, turns and store",
  "/tasks  background tasks (subagents) of this chat; /tasks all includes ended ones",
  "/cancel <task id>  cancel a background task",
  "/new  start a new session",
  "/exit  leave (also Ctrl-D, or Ctrl-C twice)",
].join("\n");

/** Lines typed by the user, delivered one at a time to whoever waits: the loop or an approval question. */
class LineQueue {
  readonly #lines: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  #closed = false;

  push(line: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(line);
    else this.#lines.push(line);
  }

  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** The next line, or `undefined` once input has ended. */
  next(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** What the slash commands other than `/new` and `/exit` read. */
interface SlashCommandContext {
  readonly io: CliIo;
  readonly runtime: LashRuntime | undefined;
  readonly sessionId: string | undefined;
  readonly model: string;
  readonly store: string;
  readonly tasks: BackgroundTaskHost;
}

/** What `/compact` prints. */
function formatCompaction(result: CompactResult): string {
  switch (result.type) {
    case "compacted":
      return `compacted: ${result.summarizedMessages} older message${result.summarizedMessages === 1 ? "" : "s"} summarized, ${result.keptMessages} kept (about ${result.tokensBefore} → ${result.tokensAfter} tokens; ${result.usage.inputTokens + result.usage.outputTokens} tokens spent)`;
    case "skipped":
      return "nothing to compact yet";
    case "failed":
      return `compaction failed: ${result.message} (the history is unchanged)`;
  }
}

/** `/help`, `/session`, `/usage`, `/compact`, `/tasks [all]`, `/cancel <task id>`. */
async function runSlashCommand(command: string, argument: string | undefined, context: SlashCommandContext): Promise<void> {
  const { io } = context;
  switch (command) {
    case "/help":
      io.stderr.write(`${HELP}\n`);
      return;
    case "/session": {
      if (context.sessionId === undefined) {
        io.stdout.write("no session yet: the first prompt starts one\n");
        return;
      }
      // The runtime's counter, as `lash sessions list` shows it: completed turns, not prompts.
      const turns = context.runtime === undefined ? 0 : context.runtime.exportState().turnIndex;
      io.stdout.write(
        `session ${context.sessionId} · ${turns} turn${turns === 1 ? "" : "s"} · model ${context.model} · ${context.store}\n`,
      );
      return;
    }
    case "/usage":
      io.stdout.write(`${renderUsageReport(context.runtime?.tokenLedger() ?? [], styleFor(io.stdout, io.env))}\n`);
      return;
    case "/compact": {
      if (context.runtime === undefined) {
        io.stdout.write("nothing to compact: the first prompt starts the session\n");
        return;
      }
      try {
        io.stdout.write(`${formatCompaction(await context.runtime.compact())}\n`);
      } catch (error) {
        // A turn waiting for approval, or a store that refused the commit: the chat goes on.
        io.stderr.write(`cannot compact: ${(error as Error).message}\n`);
      }
      return;
    }
    case "/tasks": {
      const records = await context.tasks.list({
        ...(context.sessionId === undefined ? {} : { sessionId: context.sessionId }),
        includeTerminal: argument === "all",
      });
      io.stdout.write(records.length === 0 ? "no background tasks\n" : `${formatTaskTable(records)}\n`);
      return;
    }
    case "/cancel": {
      if (argument === undefined) {
        io.stderr.write("usage: /cancel <task id> (see /tasks)\n");
        return;
      }
      try {
        const record = await context.tasks.requestCancel(argument, "cancelled from lash chat");
        io.stdout.write(`${record.id}: ${record.state}\n`);
      } catch (error) {
        io.stderr.write(`cannot cancel ${argument}: ${(error as Error).message}\n`);
      }
      return;
    }
    default:
      io.stderr.write(
        `unknown command ${command}; try ${HELP.split("\n")
          .map((entry) => entry.split(" ")[0])
          .join(", ")}\n`,
      );
  }
}

/**
 * `lash chat`: a loop of turns on one session, with line editing and history on a terminal.
 * Ctrl-C during a turn cancels it (the turn ends `cancelled`, and what it produced so far is
 * committed); Ctrl-C at the prompt asks for a second one, which exits. Writes and shell commands ask
 * for confirmation unless `--yes`; when input ends on a question, the turn waits for approval
 * durably instead (`lash approve`, or the questions again at the next `lash chat --session`, even
 * under `--yes`: those calls were never approved by anyone).
 */
/** Flags of `lash chat`. */
export interface ChatFlags extends TurnFlags {
  /** The execution mode of new sessions (`--mode`); a continued session keeps its own unless given. */
  readonly mode?: ExecutionModeName;
}

export async function chatCommand(flags: ChatFlags, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const provider = await createConfiguredProvider(config);
  const store = await openCliStore(config.store.value, { env: io.env });
  const err = styleFor(io.stderr, io.env);
  const interactive = io.stdin.isTTY === true;
  const lines = new LineQueue();
  // On a terminal, prompts of earlier chats come back with the arrow keys ($LASH_HOME/chat-history).
  const historyPath = join(config.home.value, "chat-history");
  const history = interactive ? await loadHistory(historyPath) : [];
  const readline = createInterface({ input: io.stdin, output: io.stdout, terminal: interactive, historySize: HISTORY_SIZE, history });
  readline.on("line", (line) => {
    if (interactive && line.trim() !== "") {
      // Checked like the store's folder: a LASH_HOME under /proc must not make mkdir spin.
      void prepareDirectory(dirname(historyPath))
        .then(() => appendFile(historyPath, `${line.replaceAll("\n", " ")}\n`))
        .catch(() => undefined);
    }
    lines.push(line);
  });
  readline.on("close", () => lines.close());

  let turnController: AbortController | undefined;
  let interruptedAtPrompt = false;
  let exitRequested: ExitCode | undefined;
  const onInterrupt = (): void => {
    if (turnController !== undefined) {
      if (turnController.signal.aborted) return;
      io.stderr.write(`\n${err.yellow("cancelling the turn…")}\n`);
      turnController.abort();
      return;
    }
    if (interruptedAtPrompt) {
      exitRequested = EXIT_CODES.cancelled;
      readline.close();
      return;
    }
    interruptedAtPrompt = true;
    io.stderr.write(`\n${err.dim("press Ctrl-C again to exit, or type /exit")}\n`);
    if (interactive) readline.prompt();
  };
  // On a terminal readline turns Ctrl-C into its own event; from a pipe the process gets SIGINT.
  readline.on("SIGINT", onInterrupt);
  process.on("SIGINT", onInterrupt);

  // Asks on stderr and reads the answer from the same lines as the prompts. End of input defers:
  // the turn waits durably, and `lash approve` (or the next `lash chat --session`) decides later. A
  // cancelled turn stops the question (the call is cancelled with the turn).
  const decider = cliDecider(io);
  const ask = async (request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> => {
    io.stderr.write(`${err.yellow("?")} allow ${approvalSummary(request)}? [y/N] `);
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<"cancelled">((resolve) => {
      onAbort = () => resolve("cancelled");
      signal.addEventListener("abort", onAbort, { once: true });
    });
    const answer = await Promise.race([lines.next(), cancelled]).finally(() => {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    });
    if (answer === "cancelled") return { type: "reject", reason: "the turn was cancelled" };
    if (answer === undefined) {
      io.stderr.write("\n");
      return { type: "defer" };
    }
    return /^y(es)?$/i.test(answer.trim())
      ? { type: "approve", decidedBy: decider }
      : { type: "reject", reason: "the user declined", decidedBy: decider };
  };
  const approve: ApprovalHandler = (request, { signal }) =>
    flags.yes === true ? { type: "approve", decidedBy: "cli:--yes" } : ask(request, signal);

  let tasks: TaskEnvironment | undefined;
  try {
    const tools = await cliTools(config, io, flags);
    const taskEnvironment = await createTaskEnvironment(provider.provider, store);
    tasks = taskEnvironment;
    let sessionId = flags.session;
    let runtime: LashRuntime | undefined;
    const open = async (title: string): Promise<LashRuntime> => {
      const opened = await openSessionRuntime({
        store,
        config,
        provider,
        tools,
        cwd: io.cwd,
        sessionId,
        title,
        environment: taskEnvironment.environment,
        approve,
        mode: flags.mode,
      });
      sessionId = opened.sessionId;
      if (opened.created) io.stderr.write(`${err.dim("lash:")} new session ${opened.sessionId}\n`);
      return opened.runtime;
    };
    /** Runs one turn (a prompt's, or a resumed one) on the screen; a failed turn is reported and the chat goes on. */
    const playTurn = async (start: (signal: AbortSignal) => TurnStream): Promise<void> => {
      const controller = new AbortController();
      turnController = controller;
      const shownSession = sessionId ?? "";
      const renderer = showingCodeCells(
        createTurnRenderer(io, { streamAnswer: true, sessionId: shownSession, signal: controller.signal }),
        io,
      );
      try {
        const turn = await renderTurn(renderer, start(controller.signal));
        if (turn.outcome.type === "stopped" && turn.outcome.stop.type === "awaiting_approval")
          io.stderr.write(formatPendingApprovals(shownSession, turn.outcome.stop.approvals, err));
      } catch (error) {
        // A failed turn (the store went away, another process wrote to the session) is reported; the chat goes on.
        renderer.pause();
        const unstored = unstoredTurnError(error, {
          sessionId: shownSession,
          shown: renderer.modelCalls > 0,
          hint: "the session keeps the other process's turn, and this chat goes on from it: send the prompt again to store it",
        });
        const described = describeError(explainApprovalError(error, shownSession) ?? unstored ?? explainStoreError(error));
        io.stderr.write(`${err.red("lash: error:")} ${described.message}\n${described.hint === undefined ? "" : `  ${described.hint}\n`}`);
      } finally {
        turnController = undefined;
      }
    };
    // An existing session is opened (and checked) at once; a new one waits for its first prompt.
    if (sessionId !== undefined) runtime = await open("");
    io.stderr.write(err.dim(`lash chat · ${provider.model} · ${store.description}\ntype /help for commands\n`));
    if (runtime !== undefined) {
      // A turn of this session waits for approval (a `lash run`, or a chat whose input ended): its
      // questions come first, then the turn goes on, before any new prompt.
      const opened = runtime;
      const pending = (await opened.pendingApprovals()).filter((request) => request.sessionId === opened.sessionId);
      const decisions: ApprovalDecision[] = [];
      if (pending.length > 0) io.stderr.write(`${err.yellow("?")} a turn of this session waits for approval\n`);
      for (const request of pending) {
        const answer = await ask(request, new AbortController().signal);
        if (answer.type === "defer") break;
        decisions.push({ id: request.id, decision: answer.type, ...(answer.reason === undefined ? {} : { reason: answer.reason }) });
      }
      if (decisions.length > 0) await playTurn((signal) => opened.resumeTurn({ decisions, decidedBy: decider }, { signal }));
      else if (pending.length > 0) io.stderr.write(formatPendingApprovals(opened.sessionId, pending, err));
    }
    const showPrompt = (): void => {
      if (interactive) {
        readline.setPrompt(`${styleFor(io.stdout, io.env).cyan("›")} `);
        readline.prompt();
      }
    };
    for (;;) {
      showPrompt();
      const line = await lines.next();
      if (line === undefined || exitRequested !== undefined) break;
      interruptedAtPrompt = false;
      const text = line.trim();
      if (text === "") continue;
      if (text.startsWith("/")) {
        const [command = "", argument] = text.split(/\s+/);
        if (command === "/exit" || command === "/quit") break;
        if (command === "/new") {
          runtime = undefined;
          sessionId = undefined;
          io.stderr.write(`${err.dim("the next prompt starts a new session")}\n`);
        } else {
          await runSlashCommand(command, argument, {
            io,
            runtime,
            sessionId,
            model: provider.model,
            store: store.description,
            tasks: taskEnvironment.host,
          });
        }
        continue;
      }
      runtime ??= await open(titleFrom(text));
      const current = runtime;
      await playTurn((signal) => current.streamTurn(text, { signal }));
    }
    return exitRequested ?? EXIT_CODES.finished;
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    process.off("SIGINT", onInterrupt);
    readline.close();
    await tasks?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}
