import type { ApprovalHandler, ApprovalRequest, JsonValue, SessionEvent, ToolCallApproval, ToolCallRecord } from "@lash/protocol";
import type { ToolOutputBudgeter } from "../context/tool-output-budget.js";
import type { CompletedToolCall, PendingApprovalCall, PendingToolCall } from "../modes/execution-mode.js";
import type { TurnEventPipe } from "../turn/event-pipe.js";
import { type AbortWatch, watchSignal } from "../turn/turn-abort.js";
import type { NestedCallCounts } from "../turn/turn-machine-types.js";
import { type ApprovalGateResult, type ApprovalOrigin, passApprovalGate } from "./approval-gate.js";
import type { NestedToolCall, NestedToolResult } from "./nested-dispatch.js";
import { parseToolArguments } from "./tool-arguments.js";
import { type DispatchedToolCall, dispatchToolCall, type ToolDispatchEnvironment } from "./tool-execution.js";
import { cancelledOutput, renderToolOutputForModel } from "./tool-output.js";

/** Everything a batch needs: the dispatch environment without the nested dispatcher, plus the pipe. */
export type ToolBatchEnvironment = Omit<ToolDispatchEnvironment, "nestedDispatcher"> & {
  readonly pipe: TurnEventPipe;
  /** The turn's trace id (approval requests name it). */
  readonly turnId: string;
  /** Who answers approval requests: the turn's callback, else the runtime's; undefined = nobody. */
  readonly approve: ApprovalHandler | undefined;
  /** The default lifetime of a request that waits, in milliseconds; undefined = no expiry. */
  readonly expiresInMs: number | undefined;
  /** Watches the turn's abort without a listener per call (a listener on `signal` when absent). */
  readonly abort?: AbortWatch | undefined;
  /** Cuts what the model reads of a long result (the turn's tool-output budget); absent = no budget. */
  readonly outputBudget?: ToolOutputBudgeter | undefined;
};

const CANCELLED = Symbol("cancelled");

/** Runs `work`, but settles with `CANCELLED` the moment the turn aborts (the tool sees the signal). */
async function raceCancellation<T>(work: Promise<T>, abort: AbortWatch): Promise<T | typeof CANCELLED> {
  let stopWatching: () => void = () => {};
  const aborted = new Promise<typeof CANCELLED>((resolve) => {
    stopWatching = abort.onAbort(() => resolve(CANCELLED));
  });
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    if (abort.signal.aborted) return CANCELLED;
    throw error;
  } finally {
    stopWatching();
    // A tool that ignores the signal keeps running detached; its late failure must not crash the process.
    work.catch(() => {});
  }
}

/** Runs calls: every parallel call at once, then the serial ones one by one; results by index. */
async function schedule<T, R>(
  items: readonly T[],
  isSerial: (item: T) => boolean,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const parallel: Promise<void>[] = [];
  const serial: number[] = [];
  items.forEach((item, index) => {
    if (isSerial(item)) serial.push(index);
    else
      parallel.push(
        run(item, index).then((result) => {
          results[index] = result;
        }),
      );
  });
  await Promise.all(parallel);
  for (const index of serial) results[index] = await run(items[index] as T, index);
  return results;
}

/**
 * What a batch ran: the results of the calls that finished (in call order, the pending ones left
 * out), the calls that wait for an approval decision, and the calls container tools ran or
 * refused inside it.
 */
export interface ToolBatchResult {
  readonly completed: CompletedToolCall[];
  readonly pending: PendingApprovalCall[];
  readonly nested: NestedCallCounts;
}

export interface ToolBatchOptions {
  /** How many calls container tools may run inside this batch; undefined = no limit. */
  readonly nestedCallBudget?: number | undefined;
  /** The model call that asked for the batch (approval requests name it). */
  readonly origin?: ApprovalOrigin | undefined;
  /**
   * Calls already decided (by call id), when a suspended turn resumes: they run without asking
   * again, and their records carry the decision.
   */
  readonly approved?: ReadonlyMap<string, ToolCallApproval> | undefined;
  /** The calls come from a code cell: one that needs an approval nobody gives in process fails, never waits. */
  readonly fromCode?: boolean | undefined;
}

const NO_ORIGIN: ApprovalOrigin = { messageId: "", modeIteration: 0 };

interface NestedCallCounter {
  remaining: number | undefined;
  run: number;
  refused: number;
}

/**
 * The dispatcher a container tool (`batch`) of one top-level call uses. Nested calls pass the same
 * approval gate as top-level ones; their approval events share the container call's correlation id.
 */
function createNestedDispatcher(
  environment: ToolBatchEnvironment,
  counter: NestedCallCounter,
  origin: ApprovalOrigin,
  correlationId: string,
): (calls: readonly NestedToolCall[], signal: AbortSignal) => Promise<NestedToolResult[]> {
  const nested = async (calls: readonly NestedToolCall[]): Promise<NestedToolResult[]> =>
    schedule(
      calls,
      (call) => environment.surface.get(call.toolName)?.executionMode === "serial",
      async (call) => {
        // Taken before the first await, so parallel calls claim the budget in call order.
        if (counter.remaining !== undefined) {
          if (counter.remaining <= 0) {
            counter.refused += 1;
            return { output: cancelledOutput("tool call not run: the turn's tool call budget (maxToolCalls) is exhausted"), durationMs: 0 };
          }
          counter.remaining -= 1;
        }
        counter.run += 1;
        const gated = { callId: undefined, toolName: call.toolName, args: call.args };
        const gate = await passApprovalGate(gated, environment, origin, correlationId);
        // The gate never leaves a nested call pending (it has no call id to decide later).
        if (gate.type !== "run") return { output: gate.type === "refused" ? gate.output : cancelledOutput(), durationMs: 0 };
        if (environment.signal.aborted) return { output: cancelledOutput(), durationMs: 0 };
        const dispatched = await dispatchToolCall(gated, { ...environment, nestedDispatcher: nested });
        return { output: dispatched.output, durationMs: dispatched.durationMs };
      },
    );
  return nested;
}

/** The gate, then (unless it refused) the dispatch; one unit, so cancellation can win over either. */
async function gateAndDispatch(
  call: {
    readonly callId: string | undefined;
    readonly toolName: string;
    readonly args: JsonValue;
    readonly argumentsError?: string;
    readonly fromCode?: boolean;
  },
  environment: ToolBatchEnvironment,
  counter: NestedCallCounter,
  origin: ApprovalOrigin,
  correlationId: string,
  decided: ToolCallApproval | undefined,
): Promise<
  | (DispatchedToolCall & { readonly gate: Exclude<ApprovalGateResult, { type: "pending" }> })
  | Extract<ApprovalGateResult, { type: "pending" }>
> {
  const gate: ApprovalGateResult =
    decided === undefined ? await passApprovalGate(call, environment, origin, correlationId) : { type: "run", approval: decided };
  if (gate.type === "pending") return gate;
  if (gate.type === "refused") return { args: call.args, output: gate.output, durationMs: 0, gate };
  // The turn may have been cancelled while the approver thought: the call's result is already the
  // cancellation, so an approval arriving afterwards must not start the tool behind the turn's back.
  if (environment.signal.aborted) return { args: call.args, output: cancelledOutput(), durationMs: 0, gate };
  const nestedDispatcher = createNestedDispatcher(environment, counter, origin, correlationId);
  const dispatched = await dispatchToolCall(call, { ...environment, nestedDispatcher });
  return { ...dispatched, gate };
}

async function runCall(
  call: PendingToolCall,
  environment: ToolBatchEnvironment,
  counter: NestedCallCounter,
  origin: ApprovalOrigin,
  decided: ToolCallApproval | undefined,
  fromCode = false,
): Promise<CompletedToolCall | { readonly pending: ApprovalRequest }> {
  const { pipe } = environment;
  const parsed = parseToolArguments(call.inputJson);
  const args: JsonValue = parsed.ok ? parsed.args : parsed.raw;
  const callId = call.callId === "" ? undefined : call.callId;
  const correlationId = `tool:${callId ?? pipe.freshId()}`;
  const start: SessionEvent =
    callId === undefined
      ? { type: "tool_call_started", name: call.toolName, args }
      : { type: "tool_call_started", callId, name: call.toolName, args };
  const startDelivery = pipe.session(start);
  if (startDelivery !== undefined) await startDelivery;
  const startedDelivery = pipe.activity(
    callId === undefined
      ? { type: "tool_call_started", name: call.toolName, args }
      : { type: "tool_call_started", callId, name: call.toolName, args },
    correlationId,
  );
  if (startedDelivery !== undefined) await startedDelivery;

  const dispatched = environment.signal.aborted
    ? CANCELLED
    : await raceCancellation(
        gateAndDispatch(
          parsed.ok
            ? { callId, toolName: call.toolName, args, fromCode }
            : { callId, toolName: call.toolName, args, argumentsError: parsed.message, fromCode },
          environment,
          counter,
          origin,
          correlationId,
          decided,
        ),
        environment.abort ?? watchSignal(environment.signal),
      );
  // Nobody decided: the call waits (its `tool_call_completed` comes when a resumed turn runs it).
  if (dispatched !== CANCELLED && "request" in dispatched) return { pending: dispatched.request };
  const record: ToolCallRecord =
    dispatched === CANCELLED
      ? { tool: call.toolName, args, output: cancelledOutput(), durationMs: 0 }
      : { tool: call.toolName, args: dispatched.args, output: dispatched.output, durationMs: dispatched.durationMs };
  if (callId !== undefined) record.callId = callId;
  if (dispatched !== CANCELLED && dispatched.gate.approval !== undefined) record.approval = dispatched.gate.approval;
  const projected = dispatched === CANCELLED ? undefined : await environment.plugins.projectToolResult(record);
  const rendered = projected ?? renderToolOutputForModel(record.output);
  const modelText = environment.outputBudget ? await environment.outputBudget.fit(rendered, { toolName: call.toolName, callId }) : rendered;
  const completed = pipe.activity(
    {
      type: "tool_call_completed",
      ...(callId === undefined ? {} : { callId }),
      name: call.toolName,
      args: record.args,
      output: record.output,
      durationMs: record.durationMs,
      ...(record.approval === undefined ? {} : { approval: record.approval }),
    },
    correlationId,
  );
  if (completed !== undefined) await completed;
  return { call, record, modelText };
}

function cancelledWhilePending(call: PendingToolCall, request: ApprovalRequest): CompletedToolCall {
  const output = cancelledOutput();
  const record: ToolCallRecord = { tool: call.toolName, args: request.args, output, durationMs: 0 };
  if (call.callId !== "") record.callId = call.callId;
  return { call, record, modelText: renderToolOutputForModel(output) };
}

/**
 * Runs a batch of tool calls: parallel calls start together, serial calls run one at a time after
 * them, results come back in call order. A cancelled turn gives every unfinished call a cancelled
 * result at once (the tools see the aborted signal).
 */
export async function runToolBatch(
  calls: readonly PendingToolCall[],
  environment: ToolBatchEnvironment,
  options: ToolBatchOptions = {},
): Promise<ToolBatchResult> {
  const counter: NestedCallCounter = { remaining: options.nestedCallBudget, run: 0, refused: 0 };
  const origin = options.origin ?? NO_ORIGIN;
  const results = await schedule(
    calls,
    (call) => environment.surface.get(call.toolName)?.executionMode === "serial",
    (call) =>
      runCall(call, environment, counter, origin, call.callId === "" ? undefined : options.approved?.get(call.callId), options.fromCode),
  );
  const completed: CompletedToolCall[] = [];
  const pending: PendingApprovalCall[] = [];
  results.forEach((result, index) => {
    const call = calls[index] as PendingToolCall;
    if (!("pending" in result)) completed.push(result);
    // Cancellation wins over waiting: a cancelled turn does not suspend, its open calls are cancelled.
    else if (environment.signal.aborted) completed.push(cancelledWhilePending(call, result.pending));
    else pending.push({ index, call, request: result.pending });
  });
  return { completed, pending, nested: { run: counter.run, refused: counter.refused } };
}
