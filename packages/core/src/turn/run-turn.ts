import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { AssembledTurn, EventSink, JsonValue, Message, PluginMessage, TurnActivitySink, TurnInput, TurnStop } from "@lash/protocol";
import { LashError, RuntimeError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import { tracedActivitySink } from "../tracing/traced-activity-sink.js";
import { TurnTracer } from "../tracing/turn-tracer.js";
import { completeTurn } from "./complete-turn.js";
import { TurnEventPipe } from "./event-pipe.js";
import { prepareTurn } from "./prepare-turn.js";
import { abortableSleep } from "./provider-call.js";
import { TurnAssembler } from "./turn-assembler.js";
import { runCheckpoint } from "./turn-checkpoint.js";
import { driveTurn } from "./turn-driver.js";
import { isResumeSafe, TurnGraphWriter } from "./turn-graph-writer.js";
import { TurnMachine } from "./turn-machine.js";
import { buildTurnSurface, providerSettings, selectTurnModel, type TurnSurface, turnTermination, variantProblem } from "./turn-setup.js";

/** Sinks and cancellation of one turn. */
export interface TurnRunOptions {
  readonly events?: EventSink | undefined;
  readonly activities?: TurnActivitySink | undefined;
  /** Cancels the turn: running tools and the provider call see it; the turn ends `cancelled`. */
  readonly signal?: AbortSignal | undefined;
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
  const assembler = new TurnAssembler({ captureTextDeltas: true });
  let tracer: TurnTracer | undefined;
  const traceSink = core.environment.core.traceSink;
  const activities = traceSink ? tracedActivitySink(options.activities, () => tracer) : options.activities;
  const pipe = new TurnEventPipe(assembler, options.events, activities);
  const prepared = await prepareTurn(core, input, pipe, assembler, termination.treatMissingDoneAsFailure);
  if (prepared.type === "finished") return prepared.turn;

  const startedAt = performance.now();
  const turnIndex = core.turnIndex + 1;
  const turnId = input.traceTurnId ?? randomUUID();
  const selection = selectTurnModel(core, input);
  core.lastPromptUsage = undefined;
  tracer = TurnTracer.start(traceSink, core.environment.core.traceLevel ?? "standard", {
    sessionId: core.sessionId,
    turnId,
    turnIndex,
    provider: selection.provider.providerId,
    model: selection.model,
  });

  // One controller for the turn: the host's signal and the wall-time budget both abort it.
  const controller = new AbortController();
  let interruption: TurnStop | undefined;
  const onHostAbort = (): void => {
    interruption ??= { type: "cancelled" };
    controller.abort(options.signal?.reason);
  };
  options.signal?.addEventListener("abort", onHostAbort, { once: true });
  if (options.signal?.aborted) onHostAbort();
  const wallTimer =
    termination.maxWallTimeMs === undefined
      ? undefined
      : setTimeout(() => {
          interruption ??= { type: "budget_exhausted", budget: "wall_time" };
          controller.abort();
        }, termination.maxWallTimeMs);

  const writer = new TurnGraphWriter(core.graph);
  writer.sync(prepared.messages, false);
  const toolHookMessages: PluginMessage[] = [];
  core.sessions.setLiveRelay((event) => pipe.session(event));
  let completed = false;
  try {
    core.turnTracer = tracer;
    if (core.store && isResumeSafe(prepared.messages)) {
      try {
        await core.commit(`${turnId}:prepared`);
      } catch (error) {
        throw new RuntimeError("store_commit_failed", `prepared checkpoint failed: ${errorMessage(error)}`, { cause: error });
      }
    }
    let finalMessages: readonly Message[] = prepared.messages;
    const problem = variantProblem(selection);
    let surface: TurnSurface | undefined;
    if (problem) {
      await deliver(
        pipe.session({
          type: "error",
          message: problem,
          envelope: { kind: "llm_provider", code: "invalid_model_variant", userMessage: problem },
        }),
      );
      await deliver(pipe.session({ type: "done" }));
    } else {
      try {
        surface = await buildTurnSurface(core, mode, input, prepared);
      } catch (error) {
        if (LashError.isInstance(error)) throw error;
        const message = `Failed to build the prompt: ${errorMessage(error)}`;
        await deliver(pipe.session({ type: "error", message, envelope: { kind: "plugin_prompt", userMessage: message } }));
        await deliver(pipe.session({ type: "done" }));
      }
    }
    if (surface) {
      tracer?.promptBuilt(surface.systemPrompt, prepared.messages.length, surface.toolSpecs.length);
      const currentSurface = surface;
      const machine = new TurnMachine(
        {
          sessionId: core.sessionId,
          model: selection.model,
          modelVariant: selection.modelVariant,
          useTools: surface.preamble.useTools,
          syncExecutionSurface: surface.preamble.syncExecutionSurface,
          maxModelCalls: termination.maxModelCalls,
          maxToolCalls: termination.maxToolCalls,
          maxTotalTokens: termination.maxTotalTokens,
          checkLimitsBeforeModelCall: termination.maxWallTimeMs !== undefined || (termination.stopWhen?.length ?? 0) > 0,
        },
        mode.createDriver(),
        { messages: prepared.messages, systemPrompt: surface.systemPrompt, toolSpecs: surface.toolSpecs },
      );
      let progressCount = 0;
      const now = (): number => performance.now();
      const result = await driveTurn({
        machine,
        pipe,
        assembler,
        mode,
        effectHost: core.environment.core.effectHost,
        identity: { sessionId: core.sessionId, turnId, turnIndex },
        llm: {
          provider: selection.provider,
          settings: providerSettings(core, selection.provider),
          attachmentStore: core.environment.core.attachmentStore,
          pipe,
          plugins: core.environment.plugins,
          sessionId: core.sessionId,
          maxContextTokens: core.policy.maxContextTokens,
          signal: controller.signal,
        },
        tools: {
          surface: currentSurface.surface,
          plugins: core.environment.plugins,
          sessionId: core.sessionId,
          turnIndex,
          sessions: core.sessions,
          signal: controller.signal,
          emit: (event) => pipe.session(event),
          enqueueMessages: (messages) => toolHookMessages.push(...messages),
          sleep: abortableSleep,
          now,
          pipe,
        },
        termination,
        signal: controller.signal,
        startedAt,
        now,
        onBoundary: async (messages, modeEvents: readonly JsonValue[], final) => {
          writer.sync(messages, final);
          for (const event of modeEvents) core.graph.appendRecord({ kind: "mode_event", event });
          if (final || !core.store || !isResumeSafe(messages)) return;
          progressCount += 1;
          try {
            await core.commit(`${turnId}:progress:${progressCount}`);
          } catch {
            // A failed progress boundary is not fatal: the final commit carries everything.
          }
        },
        onToolRecords: (records) => writer.recordToolCalls(records),
        checkpoint: (effect, modeIteration, messages) =>
          runCheckpoint(effect.kind, modeIteration, messages, {
            sessionId: core.sessionId,
            plugins: core.environment.plugins,
            pipe,
            sessions: core.sessions,
            turnInjection: core.turnInjection,
            inputInjection: core.inputInjection,
            takeToolHookMessages: () => toolHookMessages.splice(0),
          }),
        tracer,
        syncSurface: async () => {
          try {
            const rebuilt = await buildTurnSurface(core, mode, input, prepared);
            return { ok: true, systemPrompt: rebuilt.systemPrompt, toolSpecs: rebuilt.toolSpecs };
          } catch (error) {
            return { ok: false, message: errorMessage(error) };
          }
        },
      });
      finalMessages = result.messages ?? machine.messages;
      if (!result.messages) writer.sync(finalMessages, true);
    } else {
      writer.sync(finalMessages, true);
    }
    await deliver(pipe.flush());
    const turn = await completeTurn(core, {
      turnId,
      turnIndex,
      selection,
      assembler,
      pipe,
      termination,
      interruption,
    });
    completed = true;
    tracer?.turnCompleted(turn);
    return turn;
  } catch (error) {
    tracer?.turnFailed(error, assembler.tokenUsage);
    throw error;
  } finally {
    core.turnTracer = undefined;
    if (wallTimer !== undefined) clearTimeout(wallTimer);
    // A turn that ends by a thrown failure (a sink, a store) must not leave tools running detached:
    // aborting the turn's controller lets every in-flight tool and provider call see the end. A turn
    // that completed leaves the signal alone (work a tool started on purpose may outlive the turn).
    if (!completed && !controller.signal.aborted) controller.abort(new Error("the turn failed"));
    options.signal?.removeEventListener("abort", onHostAbort);
    core.sessions.setLiveRelay(undefined);
  }
}
