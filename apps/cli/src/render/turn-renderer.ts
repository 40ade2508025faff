import { fstatSync } from "node:fs";
import type { TurnStream } from "@lash/core";
import type { AssembledTurn, TurnActivity } from "@lash/protocol";
import type { CliIo } from "../cli-io.js";
import { approvalLine, describeResolution } from "./approval-view.js";
import { createSpinner } from "./spinner.js";
import { styleFor } from "./terminal-style.js";
import { compactJson, describeOutcome, describePluginEvent, describeUsage } from "./turn-text.js";

/** Shows a running turn: the answer on stdout as it streams, everything else on stderr. */
export interface TurnRenderer {
  /** Shows one activity of the running turn. */
  emit(activity: TurnActivity): void;
  /** Ends the output of a turn: a final newline on stdout, the one-line summary on stderr. */
  finish(turn: AssembledTurn): void;
  /** Stops the spinner (before a question to the user, or on an error). */
  pause(): void;
  /** Ends the output of a turn that failed: the spinner stops and a streamed answer ends its line. */
  fail(): void;
  /** Model calls seen so far. */
  readonly modelCalls: number;
}

/** True when stdout and stderr end up in one place (a terminal, or `2>&1` into one file or pipe). */
function outputsShareOneScreen(io: CliIo): boolean {
  if (io.stdout.isTTY === true) return true;
  if (io.stdout !== process.stdout || io.stderr !== process.stderr) return false;
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

/** How a renderer shows one turn. */
export interface TurnRendererOptions {
  /** False with `--json`: stdout is kept for the JSON document; progress still goes to stderr. */
  readonly streamAnswer: boolean;
  readonly sessionId: string;
  readonly signal?: AbortSignal;
  /**
   * True when nobody in the process answers approval requests (`lash run` without `--yes`, `lash
   * approve`): each request is shown as it is made, since the turn is going to wait for it. A
   * command that asks (`lash chat`) prints its own question instead.
   */
  readonly announceApprovals?: boolean;
}

/** The spinner and colours appear only on a terminal. */
export function createTurnRenderer(io: CliIo, options: TurnRendererOptions): TurnRenderer {
  const err = styleFor(io.stderr, io.env);
  const spinner = createSpinner(io.stderr, io.env);
  let modelCalls = 0;
  let atLineStart = true;
  let wroteAnswer = false;
  let proseCorrelation: string | undefined;
  const sharedScreen = outputsShareOneScreen(io);
  const breakAnswerLine = (): void => {
    // When both streams share a screen, end the answer's line before a progress line.
    if (!atLineStart && sharedScreen && options.streamAnswer) {
      io.stdout.write("\n");
      atLineStart = true;
    }
  };
  const progress = (line: string): void => {
    spinner.stop();
    breakAnswerLine();
    io.stderr.write(`${line}\n`);
  };
  return {
    get modelCalls() {
      return modelCalls;
    },
    emit(activity: TurnActivity) {
      switch (activity.type) {
        case "model_request_started":
          modelCalls += 1;
          spinner.start(modelCalls === 1 ? "thinking" : `thinking (model call ${String(modelCalls)})`);
          break;
        case "text_delta":
          spinner.stop();
          if (options.streamAnswer && activity.text !== "") {
            // Prose of another model call is another paragraph.
            if (wroteAnswer && proseCorrelation !== activity.correlationId) io.stdout.write(atLineStart ? "\n" : "\n\n");
            proseCorrelation = activity.correlationId;
            io.stdout.write(activity.text);
            atLineStart = activity.text.endsWith("\n");
            wroteAnswer = true;
          }
          break;
        case "tool_call_started":
          progress(err.dim(`⚙ ${activity.name} ${compactJson(activity.args)}`));
          break;
        case "tool_call_completed": {
          const outcome = activity.output.outcome;
          if (outcome.status === "success") progress(`${err.green("✓")} ${activity.name} ${err.dim(`${activity.durationMs} ms`)}`);
          else progress(`${err.red("✗")} ${activity.name}: ${outcome.payload.message}`);
          break;
        }
        case "approval_requested": {
          if (options.announceApprovals !== true) break;
          const { request } = activity;
          const elsewhere = request.sessionId === options.sessionId ? "" : ` in session ${request.sessionId}`;
          progress(`${err.yellow("?")} waiting for approval: ${approvalLine(request)} ${err.dim(`[${request.id}]${elsewhere}`)}`);
          break;
        }
        case "approval_resolved": {
          // A decision of an in-process approver was just typed by the user (or is `--yes`): only
          // decisions made elsewhere (`lash approve`, an expiry) are news.
          if (activity.resolution.source === "handler") break;
          const approved = activity.resolution.decision === "approved";
          const mark = approved ? err.green("✓") : err.red("✗");
          progress(`${mark} ${activity.tool} ${describeResolution(activity.resolution)} ${err.dim(`[${activity.id}]`)}`);
          break;
        }
        case "retry_status":
          progress(
            err.yellow(
              `↻ retrying in ${activity.waitSeconds}s (attempt ${activity.attempt} of ${activity.maxAttempts}): ${activity.reason}`,
            ),
          );
          break;
        case "plugin_event": {
          const line = describePluginEvent(activity.pluginId, activity.event);
          if (line !== undefined) progress(err.dim(`⋯ ${line}`));
          break;
        }
        case "error":
          // A cancelled turn reports its aborted call as an error; the summary already says "cancelled".
          if (options.signal?.aborted === true) break;
          progress(err.red(`! ${activity.message}`));
          break;
        default:
          break;
      }
    },
    pause() {
      spinner.stop();
      breakAnswerLine();
    },
    fail() {
      spinner.stop();
      // What was streamed stays a complete line on stdout, whatever the error printed after it.
      if (options.streamAnswer && !atLineStart) io.stdout.write("\n");
      atLineStart = true;
    },
    finish(turn) {
      spinner.stop();
      if (options.streamAnswer) {
        // A provider that does not stream (or a turn that streamed nothing) still shows its answer.
        if (!wroteAnswer && turn.assistantOutput.safeText !== "") {
          io.stdout.write(turn.assistantOutput.safeText);
          atLineStart = turn.assistantOutput.safeText.endsWith("\n");
        }
        if (!atLineStart) io.stdout.write("\n");
        atLineStart = true;
      }
      const outcome = describeOutcome(turn.outcome);
      const styled = turn.outcome.type === "stopped" ? err.yellow(outcome) : outcome;
      io.stderr.write(
        `${err.dim("lash:")} ${styled} · ${modelCalls} model call${modelCalls === 1 ? "" : "s"} · tokens ${describeUsage(turn.tokenUsage)} · session ${options.sessionId}\n`,
      );
    },
  };
}

/**
 * Shows a running turn as its activities arrive, then its one-line summary; returns the committed
 * turn. A turn that fails throws its error after the activities it produced were shown.
 */
export async function renderTurn(renderer: TurnRenderer, turn: TurnStream): Promise<AssembledTurn> {
  let result: AssembledTurn;
  try {
    for await (const activity of turn) renderer.emit(activity);
    result = await turn;
  } catch (error) {
    renderer.fail();
    throw error;
  }
  renderer.finish(result);
  return result;
}
