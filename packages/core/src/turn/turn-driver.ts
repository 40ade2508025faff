import type { JsonValue, Message, TurnOutcome } from "@lash/protocol";
import { RuntimeError } from "@lash/protocol";
import { performManagedLlmCall } from "../context/managed-llm-call.js";
import type { CodeExecutionContext, CodeToolCallResult, ExecResult } from "../modes/execution-mode.js";
import type { EffectInvocation, EffectKind } from "../runtime/effect-host.js";
import { runToolBatch } from "../tools/tool-batch.js";
import type { ToolSurface } from "../tools/tool-surface.js";
import { emitResponseParts } from "./llm-call.js";
import type { TurnContext } from "./turn-context.js";
import type { TurnMachine } from "./turn-machine.js";
import { skippedToolCall } from "./turn-machine-messages.js";
import type { TurnEffect } from "./turn-machine-types.js";
import { lastAssistantMessageId } from "./turn-suspension.js";

/** What the effect loop drives: the turn (its context) and its machine. */
interface TurnDriver {
  readonly context: TurnContext;
  readonly machine: TurnMachine;
  readonly surface: ToolSurface;
}

/** What the effect loop ends with: the final conversation, or nothing when the machine stalled. */
export interface TurnDriverResult {
  readonly messages: readonly Message[] | undefined;
}

function invocation(driver: TurnDriver, kind: EffectKind, effectId: number): EffectInvocation {
  const { sessionId, turnId, turnIndex } = driver.context;
  const modeIteration = driver.machine.modeIteration;
  return {
    kind,
    effectId,
    idempotencyKey: `${sessionId}:${turnId}:${turnIndex}:${modeIteration}:${kind}:${effectId}`,
    sessionId,
    turnId,
    turnIndex,
    modeIteration,
    machineSnapshot: () => driver.machine.snapshot(),
  };
}

/** A limit check's answer: plain data, so a durable effect host can journal it. */
interface LimitCheckResult {
  readonly stop?: TurnOutcome;
  /** A stop condition threw: the message of the error the turn ends with. */
  readonly failure?: string;
}

/** Limits checked before every model call after the first: wall time, then the stop conditions. */
async function limitStop({ context, machine }: TurnDriver): Promise<LimitCheckResult> {
  const { termination } = context;
  if (termination.maxWallTimeMs !== undefined && context.now() - context.startedAt >= termination.maxWallTimeMs) {
    return { stop: { type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } } };
  }
  for (const condition of termination.stopWhen ?? []) {
    let stop: boolean;
    try {
      stop = await condition.predicate({
        modelCalls: machine.modelCalls,
        toolCalls: machine.toolCallsExecuted,
        usage: machine.cumulativeUsage,
        elapsedMs: context.now() - context.startedAt,
        toolCallRecords: context.assembler.toolCalls,
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

async function handleLlmCall(effect: Extract<TurnEffect, { type: "llm_call" }>, driver: TurnDriver): Promise<void> {
  const { machine, context } = driver;
  if (context.signal.aborted) {
    machine.interrupt();
    return;
  }
  const action = context.mode.beforeLlmCall?.({ modeIteration: machine.modeIteration });
  if (action?.type === "handoff") {
    machine.stop({ type: "handoff", sessionId: action.sessionId });
    return;
  }
  const modeIteration = machine.modeIteration;
  const trace = context.tracer?.llmCall(modeIteration, effect.request);
  const llm = trace ? { ...context.llm, onStreamEvent: trace.onStreamEvent } : context.llm;
  // The context manager fits the call to the window and recovers from a context overflow.
  const result = await context.effectHost.run(invocation(driver, "llm_call", effect.id), () =>
    performManagedLlmCall(effect, modeIteration, llm, context, machine.messages),
  );
  trace?.finished(result);
  if (result.ok && !result.textStreamed)
    await deliver(emitResponseParts(result.response, context.pipe, { reasoningStreamed: result.reasoningStreamed === true }));
  machine.handleLlmComplete(effect.id, result);
}

/**
 * What a code cell gets from the turn: its tools as the turn's dispatch runs them (one call per
 * batch, counted against `maxToolCalls`), and the session's saved execution state.
 */
function codeExecutionContext(driver: TurnDriver): CodeExecutionContext {
  const { machine, context, surface } = driver;
  const limit = context.termination.maxToolCalls;
  const origin = { messageId: lastAssistantMessageId(machine.messages), modeIteration: machine.modeIteration };
  let callsRun = 0;
  return {
    signal: context.signal,
    sessionId: context.sessionId,
    turnId: context.turnId,
    turnIndex: context.turnIndex,
    tools: surface.specs,
    executionState: context.core.executionState,
    async callTool(toolName: string, args: JsonValue): Promise<CodeToolCallResult> {
      const call = { callId: `code-${context.pipe.freshId()}`, toolName, inputJson: JSON.stringify(args) ?? "null" };
      const remaining = limit === undefined ? undefined : limit - machine.toolCallsExecuted - callsRun;
      if (remaining !== undefined && remaining <= 0) {
        const skipped = skippedToolCall(call, limit ?? 0);
        return { record: skipped.record, modelText: skipped.modelText, ran: false, budgetExhausted: true };
      }
      callsRun += 1;
      const batch = await runToolBatch([call], context.toolEnvironment(surface), {
        nestedCallBudget: remaining === undefined ? undefined : remaining - 1,
        origin,
        fromCode: true,
      });
      callsRun += batch.nested.run;
      const completed = batch.completed[0];
      if (completed === undefined) {
        // Unreachable: a call from code never waits for a decision; kept as a typed failure.
        throw new RuntimeError("tool_failure", `tool call \`${toolName}\` from code was left waiting for a decision`);
      }
      return { record: completed.record, modelText: completed.modelText, ran: true, budgetExhausted: batch.nested.refused > 0 };
    },
  };
}

async function handleExec(effect: Extract<TurnEffect, { type: "exec_code" }>, driver: TurnDriver): Promise<void> {
  const { machine, context } = driver;
  const { mode, pipe } = context;
  const correlationId = `code:EffectId(${effect.id})`;
  await deliver(pipe.activity({ type: "code_block_started", language: mode.codeLanguage ?? mode.id, code: effect.code }, correlationId));
  context.assembler.markCodeExecution();
  const started = context.now();
  const result = await context.effectHost.run(invocation(driver, "exec_code", effect.id), async (): Promise<ExecResult> => {
    if (!mode.executeCode) return { output: "", error: `execution mode \`${mode.id}\` cannot run code`, toolCalls: [], durationMs: 0 };
    try {
      return await mode.executeCode(effect.code, codeExecutionContext(driver));
    } catch (error) {
      return {
        output: "",
        error: error instanceof Error ? error.message : String(error),
        toolCalls: [],
        durationMs: Math.round(context.now() - started),
      };
    }
  });
  context.recordToolCalls(result.toolCalls);
  // The cell's sandbox state goes with the turn's next commit.
  if (result.executionState !== undefined) context.core.executionState = result.executionState;
  await deliver(
    pipe.activity(
      {
        type: "code_block_completed",
        language: mode.codeLanguage ?? mode.id,
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
 * results back, until the machine reports `done` (or stalls). Tool batches run on `surface`.
 */
export async function driveTurn(context: TurnContext, machine: TurnMachine, surface: ToolSurface): Promise<TurnDriverResult> {
  const driver: TurnDriver = { context, machine, surface };
  const { pipe, effectHost } = context;
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
        await context.boundary(effect.messages, effect.modeEvents, false);
        break;
      case "done":
        await context.boundary(effect.messages, effect.modeEvents, true);
        return { messages: effect.messages };
      case "limit_check": {
        // Wall time and stop conditions are nondeterministic: a durable host journals the answer.
        const result = await effectHost.run(invocation(driver, "limit_check", effect.id), () => limitStop(driver));
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
        await handleLlmCall(effect, driver);
        break;
      case "tool_calls": {
        // The model call that asked: the assistant message holding the calls, and its round.
        const origin = { messageId: lastAssistantMessageId(machine.messages), modeIteration: machine.modeIteration };
        // A resumed turn's first batch holds its approved calls: they run without asking again.
        const approved = context.resumeApprovals;
        const batch = await effectHost.run(invocation(driver, "tool_batch", effect.id), () =>
          runToolBatch(effect.calls, context.toolEnvironment(surface), { nestedCallBudget: effect.nestedCallBudget, origin, approved }),
        );
        machine.handleToolResults(effect.id, batch.completed, batch.nested, batch.pending);
        if (approved !== undefined) {
          // The batch has its results: the next commit no longer carries the suspended turn.
          context.resumeApprovals = undefined;
          context.core.suspendedTurn = undefined;
        }
        break;
      }
      case "tool_records":
        context.recordToolCalls(effect.records);
        break;
      case "checkpoint": {
        const result = await effectHost.run(invocation(driver, "checkpoint", effect.id), () =>
          context.checkpoint(effect, machine.modeIteration, machine.messages),
        );
        machine.handleCheckpoint(effect.id, result);
        break;
      }
      case "exec_code":
        await handleExec(effect, driver);
        break;
      case "sync_execution_surface": {
        const result = await effectHost.run(invocation(driver, "sync_execution_surface", effect.id), () => context.syncSurface());
        machine.handleSurfaceSynced(effect.id, result);
        break;
      }
    }
  }
}
