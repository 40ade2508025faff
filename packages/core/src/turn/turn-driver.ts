import type { JsonValue, Message, TerminationPolicy, ToolCallRecord, TurnOutcome } from "@lash/protocol";
import type { ExecutionMode } from "../modes/execution-mode.js";
import type { EffectInvocation, EffectKind, RuntimeEffectHost } from "../runtime/effect-host.js";
import { runToolBatch, type ToolBatchEnvironment } from "../tools/tool-batch.js";
import type { TurnTracer } from "../tracing/turn-tracer.js";
import type { TurnEventPipe } from "./event-pipe.js";
import { emitResponseParts, type LlmCallEnvironment, performLlmCall } from "./llm-call.js";
import type { TurnAssembler } from "./turn-assembler.js";
import type { TurnMachine } from "./turn-machine.js";
import type { CheckpointResult, SurfaceSyncResult, TurnEffect } from "./turn-machine-types.js";

/** Everything the effect loop needs; built by the turn pipeline. */
export interface TurnDriverEnvironment {
  readonly machine: TurnMachine;
  readonly pipe: TurnEventPipe;
  readonly assembler: TurnAssembler;
  readonly mode: ExecutionMode;
  readonly effectHost: RuntimeEffectHost;
  readonly identity: { readonly sessionId: string; readonly turnId: string; readonly turnIndex: number };
  readonly llm: LlmCallEnvironment;
  readonly tools: ToolBatchEnvironment;
  readonly termination: TerminationPolicy;
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly now: () => number;
  /** A resume-safe boundary (or the end): apply the messages to the graph, commit when possible. */
  readonly onBoundary: (messages: readonly Message[], modeEvents: readonly JsonValue[], final: boolean) => Promise<void>;
  readonly onToolRecords: (records: readonly ToolCallRecord[]) => void;
  readonly checkpoint: (
    effect: Extract<TurnEffect, { type: "checkpoint" }>,
    modeIteration: number,
    messages: readonly Message[],
  ) => Promise<CheckpointResult>;
  readonly syncSurface: (updateMachineConfig: boolean) => Promise<SurfaceSyncResult>;
  /** The turn's tracer, when a trace sink is configured. */
  readonly tracer?: TurnTracer | undefined;
}

/** What the effect loop ends with: the final conversation, or nothing when the machine stalled. */
export interface TurnDriverResult {
  readonly messages: readonly Message[] | undefined;
}

function invocation(environment: TurnDriverEnvironment, kind: EffectKind, effectId: number): EffectInvocation {
  const { sessionId, turnId, turnIndex } = environment.identity;
  const modeIteration = environment.machine.modeIteration;
  return {
    kind,
    effectId,
    idempotencyKey: `${sessionId}:${turnId}:${turnIndex}:${modeIteration}:${kind}:${effectId}`,
    sessionId,
    turnId,
    turnIndex,
    modeIteration,
    machineSnapshot: () => environment.machine.snapshot(),
  };
}

/** A limit check's answer: plain data, so a durable effect host can journal it. */
interface LimitCheckResult {
  readonly stop?: TurnOutcome;
  /** A stop condition threw: the message of the error the turn ends with. */
  readonly failure?: string;
}

/** Limits checked before every model call after the first: wall time, then the stop conditions. */
async function limitStop(environment: TurnDriverEnvironment): Promise<LimitCheckResult> {
  const { termination, machine } = environment;
  if (termination.maxWallTimeMs !== undefined && environment.now() - environment.startedAt >= termination.maxWallTimeMs) {
    return { stop: { type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } } };
  }
  for (const condition of termination.stopWhen ?? []) {
    let stop: boolean;
    try {
      stop = await condition.predicate({
        modelCalls: machine.modelCalls,
        toolCalls: machine.toolCallsExecuted,
        usage: machine.cumulativeUsage,
        elapsedMs: environment.now() - environment.startedAt,
        toolCallRecords: environment.assembler.toolCalls,
        lastResponseText: machine.lastResponseText,
      });
    } catch (error) {
      return { failure: `stop condition \`${condition.name}\` failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (stop) return { stop: { type: "stopped", stop: { type: "stop_condition", name: condition.name } } };
  }
  return {};
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

async function handleLlmCall(effect: Extract<TurnEffect, { type: "llm_call" }>, environment: TurnDriverEnvironment): Promise<void> {
  const { machine, signal } = environment;
  if (signal.aborted) {
    machine.interrupt();
    return;
  }
  const action = environment.mode.beforeLlmCall?.({ modeIteration: machine.modeIteration });
  if (action?.type === "handoff") {
    machine.stop({ type: "handoff", sessionId: action.sessionId });
    return;
  }
  const modeIteration = machine.modeIteration;
  const trace = environment.tracer?.llmCall(modeIteration, effect.request);
  const llm = trace ? { ...environment.llm, onStreamEvent: trace.onStreamEvent } : environment.llm;
  const result = await environment.effectHost.run(invocation(environment, "llm_call", effect.id), () =>
    performLlmCall(effect, modeIteration, llm),
  );
  trace?.finished(result);
  if (result.ok && !result.textStreamed)
    await deliver(emitResponseParts(result.response, environment.pipe, { reasoningStreamed: result.reasoningStreamed === true }));
  machine.handleLlmComplete(effect.id, result);
}

async function handleExec(effect: Extract<TurnEffect, { type: "exec_code" }>, environment: TurnDriverEnvironment): Promise<void> {
  const { machine, mode, pipe } = environment;
  const correlationId = `code:EffectId(${effect.id})`;
  await deliver(pipe.activity({ type: "code_block_started", language: mode.id, code: effect.code }, correlationId));
  environment.assembler.markCodeExecution();
  const started = environment.now();
  const result = await environment.effectHost.run(invocation(environment, "exec_code", effect.id), async () => {
    if (!mode.executeCode) return { output: "", error: `execution mode \`${mode.id}\` cannot run code`, toolCalls: [], durationMs: 0 };
    try {
      return await mode.executeCode(effect.code, { signal: environment.signal });
    } catch (error) {
      return {
        output: "",
        error: error instanceof Error ? error.message : String(error),
        toolCalls: [],
        durationMs: Math.round(environment.now() - started),
      };
    }
  });
  environment.onToolRecords(result.toolCalls);
  await deliver(
    pipe.activity(
      {
        type: "code_block_completed",
        language: mode.id,
        output: result.output,
        ...(result.error === undefined ? {} : { error: result.error }),
        success: result.error === undefined,
        durationMs: result.durationMs,
        toolCallIds: result.toolCalls.flatMap((record) => (record.callId === undefined ? [] : [record.callId])),
      },
      correlationId,
    ),
  );
  machine.handleExecResult(effect.id, result);
}

/**
 * The effect loop: polls the turn machine and fulfils each effect through the effect host, feeding
 * results back, until the machine reports `done` (or stalls).
 */
export async function driveTurn(environment: TurnDriverEnvironment): Promise<TurnDriverResult> {
  const { machine, pipe } = environment;
  for (;;) {
    const effect = machine.pollEffect();
    if (!effect) return { messages: undefined };
    switch (effect.type) {
      case "emit": {
        const pending = pipe.session(effect.event);
        if (pending !== undefined) await pending;
        break;
      }
      case "progress":
        await environment.onBoundary(effect.messages, effect.modeEvents, false);
        break;
      case "done":
        await environment.onBoundary(effect.messages, effect.modeEvents, true);
        return { messages: effect.messages };
      case "limit_check": {
        // Wall time and stop conditions are nondeterministic: a durable host journals the answer.
        const result = await environment.effectHost.run(invocation(environment, "limit_check", effect.id), () => limitStop(environment));
        if (result.failure !== undefined) {
          machine.failWith({
            type: "error",
            message: result.failure,
            envelope: { kind: "runtime", code: "stop_condition_failed", userMessage: result.failure },
          });
        } else {
          machine.handleLimitCheck(effect.id, result.stop);
        }
        break;
      }
      case "llm_call":
        await handleLlmCall(effect, environment);
        break;
      case "tool_calls": {
        const batch = await environment.effectHost.run(invocation(environment, "tool_batch", effect.id), () =>
          runToolBatch(effect.calls, environment.tools, { nestedCallBudget: effect.nestedCallBudget }),
        );
        machine.handleToolResults(effect.id, batch.completed, batch.nested);
        break;
      }
      case "tool_records":
        environment.onToolRecords(effect.records);
        break;
      case "checkpoint": {
        const result = await environment.effectHost.run(invocation(environment, "checkpoint", effect.id), () =>
          environment.checkpoint(effect, machine.modeIteration, machine.messages),
        );
        machine.handleCheckpoint(effect.id, result);
        break;
      }
      case "exec_code":
        await handleExec(effect, environment);
        break;
      case "sync_execution_surface": {
        const result = await environment.effectHost.run(invocation(environment, "sync_execution_surface", effect.id), () =>
          environment.syncSurface(effect.updateMachineConfig),
        );
        machine.handleSurfaceSynced(effect.id, result);
        break;
      }
    }
  }
}
