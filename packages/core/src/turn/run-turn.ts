import type { ApprovalHandler, AssembledTurn, EventSink, TurnActivitySink, TurnInput } from "@lash/protocol";
import { LashError, RuntimeError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import type { ToolSurface } from "../tools/tool-surface.js";
import { tracedActivitySink } from "../tracing/traced-activity-sink.js";
import { completeTurn } from "./complete-turn.js";
import { TurnEventPipe } from "./event-pipe.js";
import { prepareTurn } from "./prepare-turn.js";
import { TurnAssembler } from "./turn-assembler.js";
import { cancellationOf } from "./turn-cancellation.js";
import { TurnContext } from "./turn-context.js";
import { driveTurn } from "./turn-driver.js";
import { isResumeSafe } from "./turn-graph-writer.js";
import { TurnMachine, type TurnMachineConfig } from "./turn-machine.js";
import { resolveTurnOutput, type TurnOutputOption } from "./turn-output.js";
import { buildTurnSurface, selectTurnModel, type TurnSurface, turnTermination, variantProblem } from "./turn-setup.js";
import { awaitingApprovalError, recordSuspension } from "./turn-suspension.js";

/** Sinks, cancellation and structured output of one turn. */
export interface TurnRunOptions<Output = unknown> {
  readonly events?: EventSink | undefined;
  readonly activities?: TurnActivitySink | undefined;
  /** Cancels the turn: running tools and the provider call see it; the turn ends `cancelled`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Ask for structured output: every model call sends the provider's structured-output parameter
   * with this schema's JSON Schema, the final answer is parsed and validated by the schema, and a
   * valid one is the turn's `output`. An answer the schema refuses goes back to the model with the
   * problem (`repairAttempts`, default 1), then the turn ends `stopped { invalid_output }`.
   */
  readonly output?: TurnOutputOption<Output> | undefined;
  /**
   * Answers this turn's approval requests (tools with `needsApproval`), instead of the runtime's
   * approver (`withApprovals`). Without either, a call that needs approval fails `approval_required`.
   */
  readonly approve?: ApprovalHandler | undefined;
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one turn on a session: prepare, build the machine, drive it, assemble and commit. Only
 * infrastructure failures throw (`RuntimeError`); every expected stop is in the returned outcome.
 */
export async function runSessionTurn(core: SessionCore, input: TurnInput, options: TurnRunOptions = {}): Promise<AssembledTurn> {
  if (core.turnRunning) throw new LashError("turn_in_progress", `session \`${core.sessionId}\` already has a running turn`);
  core.turnRunning = true;
  try {
    return await runTurn(core, input, options);
  } finally {
    core.turnRunning = false;
  }
}

async function runTurn(core: SessionCore, input: TurnInput, options: TurnRunOptions): Promise<AssembledTurn> {
  try {
    await core.refreshFromStore();
  } catch {
    // A store that cannot be read now may still accept the commit; a moved head surfaces as a conflict then.
  }
  // The open tool calls of a turn that waits for approval must not reach a model in a new turn.
  if (core.suspendedTurn) throw awaitingApprovalError(core.sessionId, core.suspendedTurn);
  const mode = core.mode();
  // The input is hostile until normalized: read its optional parts only from an object, and let
  // `prepareTurn` report anything else as an `invalid_input` stop.
  const inputShape: Partial<TurnInput> = typeof input === "object" && input !== null ? input : {};
  if (inputShape.modeExtension) {
    try {
      mode.validateTurnExtension?.(inputShape.modeExtension);
    } catch (error) {
      throw new RuntimeError("mode_turn_extension", errorMessage(error), { cause: error });
    }
  }
  const termination = turnTermination(core, inputShape);
  const output = options.output === undefined ? undefined : resolveTurnOutput(options.output);
  const assembler = new TurnAssembler({ captureTextDeltas: true });
  let context: TurnContext | undefined;
  const activities = core.environment.core.traceSink ? tracedActivitySink(options.activities, () => context?.tracer) : options.activities;
  const pipe = new TurnEventPipe(assembler, options.events, activities);
  const prepared = await prepareTurn(core, input, pipe, assembler, termination.treatMissingDoneAsFailure);
  if (prepared.type === "finished") return prepared.turn;

  const selection = selectTurnModel(core, input);
  const turn = new TurnContext({
    core,
    input,
    prepared,
    mode,
    pipe,
    assembler,
    termination,
    selection,
    output,
    hostSignal: options.signal,
    cancellation: cancellationOf(options),
    approve: options.approve,
  });
  context = turn;
  return await runTurnSegment(turn, async () => {
    if (core.store && isResumeSafe(prepared.messages)) {
      try {
        // A checkpoint: the turn's last commit makes it durable against a power loss too (ADR 0030).
        await core.commit(`${turn.turnId}:prepared`, [], "checkpoint");
      } catch (error) {
        throw new RuntimeError("store_commit_failed", `prepared checkpoint failed: ${errorMessage(error)}`, { cause: error });
      }
    }
    const surface = await turnSurface(turn);
    if (!surface) return undefined;
    turn.tracer?.promptBuilt(surface.systemPrompt, prepared.messages.length, surface.toolSpecs.length);
    const machine = new TurnMachine(machineConfig(turn, surface), mode.createDriver(turn.modeSetup), {
      messages: prepared.messages,
      systemPrompt: surface.systemPrompt,
      toolSpecs: surface.toolSpecs,
    });
    return { machine, surface: surface.surface };
  });
}

/** The machine configuration of a turn on its surface. */
export function machineConfig(turn: TurnContext, surface: TurnSurface): TurnMachineConfig {
  const { termination, selection } = turn;
  return {
    sessionId: turn.sessionId,
    model: selection.model,
    modelVariant: selection.modelVariant,
    useTools: surface.preamble.useTools,
    syncExecutionSurface: surface.preamble.syncExecutionSurface,
    maxModelCalls: termination.maxModelCalls,
    maxToolCalls: termination.maxToolCalls,
    maxTotalTokens: termination.maxTotalTokens,
    checkLimitsBeforeModelCall: termination.maxWallTimeMs !== undefined || (termination.stopWhen?.length ?? 0) > 0,
  };
}

/**
 * One run of a turn, from its machine to its commit: `start` builds the machine (or gives
 * `undefined` when the turn ends before any model call), the effect loop drives it, and the turn
 * is assembled and committed. A turn that suspends for approval leaves its record in the session
 * core before the commit, so the commit stores it.
 */
export async function runTurnSegment(
  turn: TurnContext,
  start: () => Promise<{ readonly machine: TurnMachine; readonly surface: ToolSurface } | undefined>,
): Promise<AssembledTurn> {
  const { core, pipe, assembler } = turn;
  core.sessions.setLiveRelay((event) => pipe.session(event));
  let completed = false;
  try {
    core.turnTracer = turn.tracer;
    const started = await start();
    if (started) {
      const { machine } = started;
      const result = await driveTurn(turn, machine, started.surface);
      if (!result.messages) turn.writer.sync(machine.messages, true);
      if (machine.suspension) recordSuspension(turn, machine, machine.suspension);
    } else {
      turn.writer.sync(turn.prepared.messages, true);
    }
    await deliver(pipe.flush());
    const assembled = await completeTurn(turn);
    completed = true;
    if (turn.outputValue !== undefined && assembled.outcome.type === "finished") assembled.output = turn.outputValue.value;
    turn.tracer?.turnCompleted(assembled);
    return assembled;
  } catch (error) {
    // A turn that fails in its effect loop keeps its last resume-safe boundary, as when every
    // boundary was committed at once (a no-op once the completion has started).
    await turn.commitDueProgress();
    turn.tracer?.turnFailed(error, assembler.tokenUsage);
    throw error;
  } finally {
    core.turnTracer = undefined;
    turn.dispose(completed);
    core.sessions.setLiveRelay(undefined);
  }
}

/**
 * The turn's prompt and tools, or `undefined` when they cannot be built: a model variant the
 * provider does not offer, or a prompt contribution that failed (the turn then ends with that
 * error, and nothing is sent to the model).
 */
async function turnSurface(turn: TurnContext): Promise<TurnSurface | undefined> {
  const { pipe } = turn;
  const problem = variantProblem(turn.selection);
  if (problem) {
    await deliver(
      pipe.session({
        type: "error",
        message: problem,
        envelope: { kind: "llm_provider", code: "invalid_model_variant", userMessage: problem },
      }),
    );
    await deliver(pipe.session({ type: "done" }));
    return undefined;
  }
  try {
    return await buildTurnSurface(turn.core, turn.mode, turn.input, turn.prepared, turn.modeSetup);
  } catch (error) {
    if (LashError.isInstance(error)) throw error;
    const message = `Failed to build the prompt: ${errorMessage(error)}`;
    await deliver(pipe.session({ type: "error", message, envelope: { kind: "plugin_prompt", userMessage: message } }));
    await deliver(pipe.session({ type: "done" }));
    return undefined;
  }
}
