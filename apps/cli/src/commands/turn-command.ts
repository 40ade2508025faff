import { userInfo } from "node:os";
import type { RuntimeEnvironment, TurnStream } from "@lash/core";
import type { AssembledTurn, TurnActivity } from "@lash/protocol";
import { ApprovalAlreadyDecidedError, ApprovalConflictError, ApprovalNotFoundError, LashError } from "@lash/protocol";
import { CliError, usageError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import type { EffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { type ConfiguredProvider, createConfiguredProvider } from "../providers/create-provider.js";
import { describeResolution, formatPendingApprovals } from "../render/approval-view.js";
import { styleFor } from "../render/terminal-style.js";
import { createTurnRenderer, renderTurn, type TurnRenderer } from "../render/turn-renderer.js";
import { createTaskEnvironment, type TaskEnvironment } from "../sessions/background-tasks.js";
import { unstoredTurnError } from "../sessions/unstored-turn.js";
import { type CliStore, explainStoreError, openCliStore } from "../store/open-store.js";

/** The exit code of a turn: 0 finished, 3 waiting for approval, 130 cancelled, 1 any other stop. */
export function exitCodeOf(turn: AssembledTurn): ExitCode {
  if (turn.outcome.type !== "stopped") return EXIT_CODES.finished;
  switch (turn.outcome.stop.type) {
    case "cancelled":
      return EXIT_CODES.cancelled;
    case "awaiting_approval":
      return EXIT_CODES.awaitingApproval;
    default:
      return EXIT_CODES.failed;
  }
}

/**
 * Who decides in this terminal, as the stored decisions name it: `cli:<user name>`. An account
 * without a name (a container's bare uid) falls back to `$USER`, then to `cli:user`.
 */
export function cliDecider(io: CliIo): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for this uid: userInfo() throws instead of answering.
    name = undefined;
  }
  name = name?.trim() || io.env.USER?.trim() || io.env.LOGNAME?.trim();
  return `cli:${name || "user"}`;
}

/** What a command that runs a turn has open: the store, the provider and the background tasks' environment. */
export interface TurnCommandContext {
  readonly config: EffectiveConfig;
  readonly provider: ConfiguredProvider;
  readonly store: CliStore;
  readonly environment: RuntimeEnvironment;
  /** Aborted by the first Ctrl-C (a second one exits at once with 130). */
  readonly signal: AbortSignal;
}

/**
 * Opens what `lash run` and `lash approve` need, runs `use`, and closes it all whatever happened.
 * Ctrl-C cancels the turn (what it produced is kept); a second Ctrl-C exits at once.
 */
export async function withTurnCommand(
  config: EffectiveConfig,
  io: CliIo,
  use: (context: TurnCommandContext) => Promise<ExitCode>,
): Promise<ExitCode> {
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
    tasks = await createTaskEnvironment(provider.provider, store);
    return await use({ config, provider, store, environment: tasks.environment, signal: controller.signal });
  } catch (error) {
    throw explainStoreError(error);
  } finally {
    process.off("SIGINT", onSignal);
    await tasks?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}

/**
 * The approval errors of a turn, said for the terminal: an unknown or already decided request and
 * a session with nothing to continue are usage errors (exit 2); a decision another process made
 * first is a failure (exit 1) that names the decision that stands; a new prompt to a session that
 * waits for approval exits with 3, as the turn that waits did. `undefined` for any other error.
 */
export function explainApprovalError(error: unknown, sessionId: string): CliError | undefined {
  const listHint = `\`lash approve ${sessionId}\` lists the calls waiting for approval`;
  if (ApprovalNotFoundError.isInstance(error)) {
    const ids = error.ids.join(", ");
    return usageError(`session ${sessionId} has no approval request ${ids} waiting for a decision`, listHint);
  }
  if (ApprovalAlreadyDecidedError.isInstance(error))
    return usageError(`approval request ${error.id} was already decided: ${describeResolution(error.resolution)}`, listHint);
  if (ApprovalConflictError.isInstance(error)) {
    const decided = Object.entries(error.resolutions).map(([id, resolution]) => `${id} ${describeResolution(resolution)}`);
    return new CliError(`another process decided first: ${decided.join(", ")}; nothing of this decision was stored or run`, {
      exitCode: EXIT_CODES.failed,
      hint: listHint,
      cause: error,
    });
  }
  if (LashError.isInstance(error) && error.code === "no_suspended_turn")
    return usageError(`session ${sessionId} has no turn waiting for approval`, `\`lash sessions show ${sessionId}\` shows the session`);
  if (LashError.isInstance(error) && error.code === "turn_awaiting_approval")
    return new CliError(`session ${sessionId} has a turn waiting for approval: answer it before a new prompt`, {
      exitCode: EXIT_CODES.awaitingApproval,
      hint: `${listHint}; \`lash approve ${sessionId} --all\` or \`lash reject ${sessionId} --all\` answers them all`,
      cause: error,
    });
  return undefined;
}

/** The first lines of a code cell's source or output, for a progress line. */
function preview(text: string, lines: number): string {
  const all = text.replace(/\s+$/, "").split("\n");
  const shown = all.slice(0, lines).map((line) => (line.length > 120 ? `${line.slice(0, 119)}…` : line));
  if (all.length > lines) shown.push(`… ${all.length - lines} more line${all.length - lines === 1 ? "" : "s"}`);
  return shown.map((line) => `  ${line}`).join("\n");
}

/**
 * A renderer that also shows the code cells of a code-running mode (`--mode rlm`) on stderr: the
 * cell's source as it starts, then what it printed or the error it raised.
 */
export function showingCodeCells(renderer: TurnRenderer, io: CliIo): TurnRenderer {
  const err = styleFor(io.stderr, io.env);
  return {
    get modelCalls() {
      return renderer.modelCalls;
    },
    emit(activity: TurnActivity) {
      if (activity.type === "code_block_started") {
        renderer.pause();
        io.stderr.write(`${err.dim(`▸ ${activity.language} cell`)}\n${err.dim(preview(activity.code, 12))}\n`);
      } else if (activity.type === "code_block_completed") {
        renderer.pause();
        const mark = activity.success ? err.green("✓") : err.red("✗");
        const output = activity.output === "" ? "" : `\n${err.dim(preview(activity.output, 8))}`;
        const error = activity.error === undefined ? "" : `\n${err.red(preview(activity.error, 4))}`;
        io.stderr.write(`${mark} ${err.dim(`cell ran in ${activity.durationMs} ms`)}${output}${error}\n`);
      }
      renderer.emit(activity);
    },
    finish: (turn) => renderer.finish(turn),
    pause: () => renderer.pause(),
    fail: () => renderer.fail(),
  };
}

/** Prints `new session <id>` on stderr. */
export function announceNewSession(io: CliIo, sessionId: string): void {
  io.stderr.write(`${styleFor(io.stderr, io.env).dim("lash:")} new session ${sessionId}\n`);
}

/**
 * Shows a turn as `lash run` does (the answer on stdout, tool lines and the summary on stderr, or
 * the `AssembledTurn` as JSON with `json`) and returns its exit code. A turn that ends waiting for
 * approval lists the open requests and the commands that answer them. `retryHint` says how to run
 * the turn again when another process committed to the session first.
 */
export async function showTurn(
  io: CliIo,
  turnStream: TurnStream,
  options: {
    readonly sessionId: string;
    readonly json: boolean;
    readonly signal: AbortSignal;
    readonly announceApprovals: boolean;
    readonly retryHint: string;
  },
): Promise<ExitCode> {
  const renderer = showingCodeCells(
    createTurnRenderer(io, {
      streamAnswer: !options.json,
      sessionId: options.sessionId,
      signal: options.signal,
      announceApprovals: options.announceApprovals,
    }),
    io,
  );
  let turn: AssembledTurn;
  try {
    turn = await renderTurn(renderer, turnStream);
  } catch (error) {
    // An approval error is checked first: a lost decision race carries the store's conflict as its cause.
    throw (
      explainApprovalError(error, options.sessionId) ??
      // Another writer committed to the session first: say that the answer is not in the store.
      unstoredTurnError(error, { sessionId: options.sessionId, shown: renderer.modelCalls > 0, hint: options.retryHint }) ??
      error
    );
  }
  if (options.json) io.stdout.write(`${JSON.stringify(turn, null, 2)}\n`);
  if (turn.outcome.type === "stopped" && turn.outcome.stop.type === "awaiting_approval")
    io.stderr.write(formatPendingApprovals(options.sessionId, turn.outcome.stop.approvals, styleFor(io.stderr, io.env)));
  return exitCodeOf(turn);
}
