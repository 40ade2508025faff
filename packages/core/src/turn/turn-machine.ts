import type { CheckpointKind, JsonValue, LlmToolSpec, Message, SessionEvent, TokenUsage, TurnOutcome } from "@lash/protocol";
import { addTokenUsage, totalTokens } from "@lash/protocol";
import type {
  CheckpointOnEmpty,
  CompletedToolCall,
  DriverAction,
  DriverContext,
  ExecResult,
  PendingApprovalCall,
  PendingToolCall,
  ProtocolDriver,
} from "../modes/execution-mode.js";
import { projectRequest } from "../prompt/request-projection.js";
import {
  inCallOrder,
  type MachineSuspension,
  mergeResumedBatch,
  pendingRequests,
  type ResumedBatch,
  suspendBatch,
  toolCallCompletedEvent,
} from "./suspended-batch.js";
import {
  assistantProseMessage,
  llmFailureEvent,
  machineError,
  skippedToolCall,
  terminalReasonEvent,
  terminalStopFor,
  turnLimitMessage,
} from "./turn-machine-messages.js";
import {
  type CheckpointResult,
  initialSnapshot,
  type LlmCallResult,
  mutable,
  type NestedCallCounts,
  NO_NESTED_CALLS,
  type SurfaceSyncResult,
  type TurnEffect,
  type TurnMachineConfig,
  type TurnMachinePhase,
  type TurnMachineSnapshot,
  type TurnMachineStart,
} from "./turn-machine-types.js";

export type { TurnMachineConfig, TurnMachineSnapshot } from "./turn-machine-types.js";

/**
 * The sans-IO turn machine: it owns the turn's conversation, counters and control flow, and asks
 * its driver for work through effects (`pollEffect`), taking results back through `handle*`. It
 * does no I/O and reads no clock, so its state can be snapshotted and restored, and the same
 * effect is redelivered after a restore.
 */
export class TurnMachine {
  readonly #config: TurnMachineConfig;
  readonly #driver: ProtocolDriver;
  #phase: TurnMachinePhase;
  #nextEffectId: number;
  #outstanding: TurnEffect | undefined;
  #queue: TurnEffect[];
  #modeIteration: number;
  readonly #modeRunOffset: number;
  #messages: Message[];
  #modeEvents: JsonValue[];
  #reportedModeEvents: number;
  #cumulativeUsage: TokenUsage;
  #modelCalls: number;
  #toolCallsExecuted: number;
  #surfaceSyncedIteration: number | undefined;
  #systemPrompt: string;
  #toolSpecs: readonly LlmToolSpec[];
  #checkpointOnEmpty: CheckpointOnEmpty | undefined;
  #checkpointKind: CheckpointKind | undefined;
  #skippedToolCalls: { index: number; call: PendingToolCall }[];
  #lastResponseText: string;
  /** Every call of the current tool batch, skipped ones included. */
  #batchCalls: readonly PendingToolCall[] = [];
  /** Set when the turn suspended for approval decisions. */
  #suspension: MachineSuspension | undefined;
  /** Set while a resumed turn finishes the batch it suspended on. */
  #resumed: ResumedBatch | undefined;

  constructor(
    config: TurnMachineConfig,
    driver: ProtocolDriver,
    initial:
      | TurnMachineStart
      | { readonly snapshot: TurnMachineSnapshot }
      /** A turn that suspended for approval decisions goes on: it finishes its open batch first. */
      | { readonly resume: TurnMachineStart & { readonly batch: ResumedBatch } },
  ) {
    this.#config = config;
    this.#driver = driver;
    const snapshot =
      "snapshot" in initial ? structuredClone(initial.snapshot) : initialSnapshot("resume" in initial ? initial.resume : initial);
    this.#phase = snapshot.phase;
    this.#nextEffectId = snapshot.nextEffectId;
    // The outstanding effect is redelivered once after a restore.
    this.#queue = snapshot.outstanding ? [snapshot.outstanding, ...snapshot.queue] : [...snapshot.queue];
    this.#outstanding = undefined;
    this.#modeIteration = snapshot.modeIteration;
    this.#modeRunOffset = snapshot.modeRunOffset;
    this.#messages = mutable(snapshot.messages);
    this.#modeEvents = mutable(snapshot.modeEvents);
    this.#reportedModeEvents = snapshot.reportedModeEvents;
    this.#cumulativeUsage = snapshot.cumulativeUsage;
    this.#modelCalls = snapshot.modelCalls;
    this.#toolCallsExecuted = snapshot.toolCallsExecuted;
    this.#surfaceSyncedIteration = snapshot.surfaceSyncedIteration;
    this.#systemPrompt = snapshot.systemPrompt;
    this.#toolSpecs = snapshot.toolSpecs;
    this.#checkpointOnEmpty = snapshot.checkpointOnEmpty;
    this.#checkpointKind = snapshot.checkpointKind;
    this.#skippedToolCalls = mutable(snapshot.skippedToolCalls);
    this.#lastResponseText = snapshot.lastResponseText;
    this.#batchCalls = snapshot.batchCalls ?? [];
    this.#suspension = snapshot.suspension;
    this.#resumed = snapshot.resumedBatch;
    if ("resume" in initial) this.#resume(initial.resume.batch);
  }

  /** A resumed turn first runs the approved calls of its batch (or merges at once when there are none). */
  #resume(batch: ResumedBatch): void {
    this.#resumed = batch;
    this.#batchCalls = batch.calls;
    this.#phase = "waiting";
    if (batch.toRun.length === 0) {
      this.#mergeResumed([], NO_NESTED_CALLS);
      return;
    }
    const limit = this.#config.maxToolCalls;
    const nestedCallBudget = limit === undefined ? undefined : Math.max(0, limit - this.#toolCallsExecuted - batch.toRun.length);
    const calls = batch.toRun.map((entry) => entry.call);
    this.#queue.push({ type: "tool_calls", id: this.#takeEffectId(), calls, nestedCallBudget });
  }

  get finished(): boolean {
    return this.#phase === "finished";
  }
  get modeIteration(): number {
    return this.#modeIteration;
  }
  get modelCalls(): number {
    return this.#modelCalls;
  }
  get toolCallsExecuted(): number {
    return this.#toolCallsExecuted;
  }
  get cumulativeUsage(): TokenUsage {
    return this.#cumulativeUsage;
  }
  get messages(): readonly Message[] {
    return this.#messages;
  }
  get lastResponseText(): string {
    return this.#lastResponseText;
  }
  /** What the turn left waiting when it suspended for approval decisions; undefined otherwise. */
  get suspension(): MachineSuspension | undefined {
    return this.#suspension;
  }
  get nextEffectId(): number {
    return this.#nextEffectId;
  }
  get modeRunOffset(): number {
    return this.#modeRunOffset;
  }

  /** A JSON-serializable copy of the whole state. */
  snapshot(): TurnMachineSnapshot {
    return structuredClone({
      phase: this.#phase,
      nextEffectId: this.#nextEffectId,
      outstanding: this.#outstanding,
      queue: this.#queue,
      modeIteration: this.#modeIteration,
      modeRunOffset: this.#modeRunOffset,
      messages: this.#messages,
      modeEvents: this.#modeEvents,
      reportedModeEvents: this.#reportedModeEvents,
      cumulativeUsage: this.#cumulativeUsage,
      modelCalls: this.#modelCalls,
      toolCallsExecuted: this.#toolCallsExecuted,
      surfaceSyncedIteration: this.#surfaceSyncedIteration,
      systemPrompt: this.#systemPrompt,
      toolSpecs: this.#toolSpecs,
      checkpointOnEmpty: this.#checkpointOnEmpty,
      checkpointKind: this.#checkpointKind,
      skippedToolCalls: this.#skippedToolCalls,
      lastResponseText: this.#lastResponseText,
      batchCalls: this.#batchCalls,
      suspension: this.#suspension,
      resumedBatch: this.#resumed,
    });
  }

  /** The next effect, or `undefined` while waiting for a response (or when the turn is over). */
  pollEffect(): TurnEffect | undefined {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued) {
        if ("id" in queued) this.#outstanding = queued;
        return queued;
      }
      if (this.#phase === "preparing") {
        this.#phase = "prepare_iteration";
        continue;
      }
      if (this.#phase === "prepare_iteration") {
        if (this.#config.syncExecutionSurface && this.#surfaceSyncedIteration !== this.#modeIteration) {
          const updateMachineConfig = this.#surfaceSyncedIteration !== undefined;
          this.#surfaceSyncedIteration = this.#modeIteration;
          this.#phase = "waiting";
          this.#queue.push({ type: "sync_execution_surface", id: this.#takeEffectId(), updateMachineConfig });
          continue;
        }
        this.#phase = "waiting";
        this.#apply(this.#driver.prepareIteration(this.#context()));
        continue;
      }
      return undefined;
    }
  }

  handleSurfaceSynced(id: number, result: SurfaceSyncResult): void {
    if (!this.#accept(id, "sync_execution_surface")) return;
    if (!result.ok) {
      this.#failTurn(machineError("execution_surface", "reconfigure_failed", `Failed to refresh execution surface: ${result.message}`));
      return;
    }
    if (result.systemPrompt !== undefined) this.#systemPrompt = result.systemPrompt;
    if (result.toolSpecs !== undefined) this.#toolSpecs = result.toolSpecs;
    this.#phase = "prepare_iteration";
  }

  handleLlmComplete(id: number, result: LlmCallResult): void {
    if (!this.#accept(id, "llm_call")) return;
    if (!result.ok) {
      if (result.partialUsage) this.#recordUsage(result.partialUsage);
      if (result.partialText && result.partialText.trim() !== "") this.#messages.push(assistantProseMessage(result.partialText));
      this.#emit(llmFailureEvent(result.error));
      this.#finish({ type: "stopped", stop: { type: "provider_error" } });
      return;
    }
    const { response } = result;
    this.#modelCalls += 1;
    this.#lastResponseText = response.fullText;
    this.#recordUsage(response.usage);
    const terminalStop = terminalStopFor(response.terminalReason);
    if (terminalStop) {
      if (!result.textStreamed && response.fullText !== "") this.#emit({ type: "text_delta", text: response.fullText });
      this.#emit({ type: "model_response_completed", modeIteration: this.#modeIteration, text: response.fullText, durationMs: 0 });
      this.#emit(terminalReasonEvent(response));
      this.#finish({ type: "stopped", stop: terminalStop });
      return;
    }
    this.#apply(this.#driver.handleLlmSuccess(response, { ...this.#context(), textStreamed: result.textStreamed }));
  }

  /**
   * Takes a tool batch's results. `nested` counts the calls that container tools (the standard
   * mode's `batch`) ran or refused inside the batch; they count against `maxToolCalls` too.
   * `pending` are calls that wait for an approval decision: the turn records the rest and suspends.
   */
  handleToolResults(
    id: number,
    results: readonly CompletedToolCall[],
    nested: NestedCallCounts = NO_NESTED_CALLS,
    pending: readonly PendingApprovalCall[] = [],
  ): void {
    if (!this.#accept(id, "tool_calls")) return;
    if (this.#resumed !== undefined) this.#mergeResumed(results, nested);
    else if (pending.length > 0) this.#suspend(results, nested, pending);
    else this.#completeToolBatch(results, nested);
  }

  /** The driver's answer to a `limit_check`: the stop its limits call for, or undefined to go on. */
  handleLimitCheck(id: number, stop: TurnOutcome | undefined): void {
    if (!this.#accept(id, "limit_check")) return;
    if (stop) this.#finish(stop);
    else this.#startLlm();
  }

  handleExecResult(id: number, result: ExecResult): void {
    if (!this.#accept(id, "exec_code")) return;
    const handler = this.#driver.handleExecResult;
    if (!handler) {
      this.#failTurn(machineError("runtime", "exec_unsupported", "execution mode does not handle code results"));
      return;
    }
    // Calls made from code count against `maxToolCalls` like the model's own.
    this.#toolCallsExecuted += result.toolCalls.length;
    this.#apply(handler.call(this.#driver, result, this.#context()));
    if (result.toolCallBudgetExhausted === true) this.stop({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
  }

  handleCheckpoint(id: number, result: CheckpointResult): void {
    if (!this.#accept(id, "checkpoint")) return;
    const onEmpty = this.#checkpointOnEmpty ?? { type: "continue" };
    const kind = this.#checkpointKind ?? "after_work";
    this.#checkpointOnEmpty = undefined;
    this.#checkpointKind = undefined;
    if (!result.ok) {
      this.#emit({
        type: "error",
        message: result.message,
        envelope: { kind: result.kind ?? "plugin", code: result.code, userMessage: result.message },
      });
      this.#finish({ type: "stopped", stop: result.stop ?? { type: result.abort ? "plugin_abort" : "runtime_error" } });
      return;
    }
    const injected = [...result.committed, ...result.transient].filter((message) => message.role !== "assistant");
    if (injected.length === 0) {
      if (onEmpty.type === "finish") this.#finish(onEmpty.outcome);
      else this.#phase = "prepare_iteration";
      return;
    }
    this.#messages.push(...injected);
    if (kind === "before_completion") {
      this.#modeIteration += 1;
      if (this.#limitReached()) {
        this.#messages.push(turnLimitMessage(this.#config.maxModelCalls ?? 0));
        this.#queueProgress();
        this.#finish({ type: "stopped", stop: { type: "max_turns" } });
        return;
      }
    }
    this.#queueProgress();
    this.#phase = "prepare_iteration";
  }

  /**
   * Ends the turn now with `outcome` (a limit or a stop condition fired): drops pending work and
   * emits the outcome. A finished machine is left as it is.
   */
  stop(outcome: TurnOutcome): void {
    if (this.#phase === "finished") return;
    this.#dropPendingWork();
    this.#finish(outcome);
  }

  /** Ends the turn for a cancellation seen at an effect boundary: only `done`, no outcome event. */
  interrupt(): void {
    if (this.#phase === "finished") return;
    this.#dropPendingWork();
    this.#emit({ type: "done" });
    this.#queueDone();
    this.#phase = "finished";
  }

  /** Ends the turn with an error (used for a mode's own failures). */
  failWith(event: Extract<SessionEvent, { type: "error" }>): void {
    if (this.#phase === "finished") return;
    this.#dropPendingWork();
    this.#failTurn(event);
  }

  #accept(id: number, type: TurnEffect["type"]): boolean {
    const outstanding = this.#outstanding;
    if (!outstanding || outstanding.type !== type || !("id" in outstanding) || outstanding.id !== id) return false;
    this.#outstanding = undefined;
    return true;
  }

  #context(): DriverContext {
    return {
      messages: this.#messages,
      modeIteration: this.#modeIteration,
      modeRunOffset: this.#modeRunOffset,
      maxModelCalls: this.#config.maxModelCalls,
    };
  }

  #takeEffectId(): number {
    const id = this.#nextEffectId;
    this.#nextEffectId += 1;
    return id;
  }

  #emit(event: SessionEvent): void {
    this.#queue.push({ type: "emit", event });
  }

  #recordUsage(usage: TokenUsage): void {
    this.#cumulativeUsage = addTokenUsage(this.#cumulativeUsage, usage);
    this.#emit({ type: "usage", modeIteration: this.#modeIteration, usage, cumulative: this.#cumulativeUsage });
  }

  #limitReached(): boolean {
    const limit = this.#config.maxModelCalls;
    return limit !== undefined && this.#modeIteration >= this.#modeRunOffset + limit;
  }

  #apply(actions: readonly DriverAction[]): void {
    let progressed = false;
    let waitAction: DriverAction | undefined;
    let finishOutcome: TurnOutcome | undefined;
    for (const action of actions) {
      if (action.type === "finish") {
        finishOutcome = action.outcome;
        break;
      }
      switch (action.type) {
        case "emit":
          this.#emit(action.event);
          break;
        case "append_messages":
          this.#messages.push(...action.messages);
          progressed = true;
          break;
        case "record_mode_event":
          this.#modeEvents.push(action.event);
          progressed = true;
          break;
        case "advance_mode_iteration":
          this.#modeIteration += 1;
          progressed = true;
          break;
        default:
          waitAction = action;
      }
    }
    // The boundary is committed before the next piece of work starts.
    if (progressed) this.#queueProgress();
    if (finishOutcome) {
      this.#finish(finishOutcome);
      return;
    }
    if (!waitAction) {
      // A driver that neither waits nor finishes would stall the turn: end it as a runtime error.
      this.#failTurn(machineError("runtime", "driver_stalled", "execution mode returned no next step"));
      return;
    }
    switch (waitAction.type) {
      case "start_llm":
        this.#requestLlm();
        break;
      case "start_tools":
        this.#startTools(waitAction.calls);
        break;
      case "start_exec":
        this.#phase = "waiting";
        this.#queue.push({ type: "exec_code", id: this.#takeEffectId(), code: waitAction.code });
        break;
      case "start_checkpoint":
        this.#phase = "waiting";
        this.#checkpointOnEmpty = waitAction.onEmpty;
        this.#checkpointKind = waitAction.kind;
        this.#queue.push({ type: "checkpoint", id: this.#takeEffectId(), kind: waitAction.kind });
        break;
      default:
        break;
    }
  }

  /**
   * The machine's own budgets first; then, when the driver has limits the machine cannot see
   * (wall time, stop conditions), a `limit_check` before the request is announced.
   */
  #requestLlm(): void {
    const { maxTotalTokens, maxModelCalls } = this.#config;
    if (maxTotalTokens !== undefined && totalTokens(this.#cumulativeUsage) >= maxTotalTokens) {
      this.#finish({ type: "stopped", stop: { type: "budget_exhausted", budget: "tokens" } });
      return;
    }
    if (maxModelCalls !== undefined && this.#modelCalls >= maxModelCalls) {
      this.#messages.push(turnLimitMessage(maxModelCalls));
      this.#queueProgress();
      this.#finish({ type: "stopped", stop: { type: "max_turns" } });
      return;
    }
    if (this.#config.checkLimitsBeforeModelCall === true && this.#modelCalls > 0) {
      this.#phase = "waiting";
      this.#queue.push({ type: "limit_check", id: this.#takeEffectId() });
      return;
    }
    this.#startLlm();
  }

  #startLlm(): void {
    const { request, attachmentRefs } = projectRequest({
      systemPrompt: this.#systemPrompt,
      messages: this.#messages,
      tools: this.#toolSpecs,
      useTools: this.#config.useTools,
      model: this.#config.model,
      modelVariant: this.#config.modelVariant,
      sessionId: this.#config.sessionId,
    });
    this.#emit({
      type: "model_request_started",
      modeIteration: this.#modeIteration,
      messageCount: request.messages.length,
      toolNames: request.tools.map((tool) => tool.name),
    });
    this.#phase = "waiting";
    this.#queue.push({ type: "llm_call", id: this.#takeEffectId(), request, attachmentRefs });
  }

  #startTools(calls: readonly PendingToolCall[]): void {
    const limit = this.#config.maxToolCalls;
    const allowed = limit === undefined ? calls.length : Math.max(0, limit - this.#toolCallsExecuted);
    this.#skippedToolCalls = calls.slice(allowed).map((call, offset) => ({ index: allowed + offset, call }));
    const runnable = calls.slice(0, allowed);
    this.#batchCalls = calls;
    this.#phase = "waiting";
    if (runnable.length === 0) {
      this.#completeToolBatch([], NO_NESTED_CALLS);
      return;
    }
    // What is left of the budget after the batch's own calls is what calls nested inside it may use.
    const nestedCallBudget = limit === undefined ? undefined : Math.max(0, limit - this.#toolCallsExecuted - runnable.length);
    this.#queue.push({ type: "tool_calls", id: this.#takeEffectId(), calls: runnable, nestedCallBudget });
  }

  #completeToolBatch(results: readonly CompletedToolCall[], nested: NestedCallCounts): void {
    this.#toolCallsExecuted += results.length + nested.run;
    const skipped = this.#skippedToolCalls;
    this.#skippedToolCalls = [];
    const all =
      skipped.length === 0 ? results : [...results, ...skipped.map(({ call }) => skippedToolCall(call, this.#config.maxToolCalls ?? 0))];
    // Every call the model asked for is recorded, skipped ones included, so the session's records
    // match the tool results the model sees.
    this.#recordResults(all);
    this.#apply(this.#driver.handleToolResults(all, this.#context()));
    if (skipped.length > 0 || nested.refused > 0) this.stop({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
  }

  /** Records finished calls in the session and reports them, in call order. */
  #recordResults(results: readonly CompletedToolCall[]): void {
    if (results.length === 0) return;
    this.#queue.push({ type: "tool_records", records: results.map(({ record }) => record) });
    for (const result of results) this.#emit(toolCallCompletedEvent(result.record));
  }

  /**
   * Calls wait for approval: the finished ones (skipped ones included) are recorded now, the batch
   * is kept, and the turn ends `awaiting_approval`. The model sees nothing of the batch until every
   * call in it is decided.
   */
  #suspend(results: readonly CompletedToolCall[], nested: NestedCallCounts, pending: readonly PendingApprovalCall[]): void {
    this.#toolCallsExecuted += results.length + nested.run;
    const skipped = this.#skippedToolCalls.map(({ index, call }) => ({
      index,
      completed: skippedToolCall(call, this.#config.maxToolCalls ?? 0),
    }));
    this.#skippedToolCalls = [];
    this.#suspension = suspendBatch(this.#batchCalls, skipped, results, nested, pending);
    this.#recordResults(inCallOrder(this.#suspension.results));
    this.#finish({ type: "stopped", stop: { type: "awaiting_approval", approvals: pendingRequests(pending) } });
  }

  /** A resumed turn's batch is complete: every result of it goes to the model, in call order. */
  #mergeResumed(results: readonly CompletedToolCall[], nested: NestedCallCounts): void {
    const batch = this.#resumed;
    if (batch === undefined) return;
    this.#resumed = undefined;
    this.#toolCallsExecuted += results.length + nested.run;
    const { fresh, all } = mergeResumedBatch(batch, results);
    this.#recordResults(fresh);
    this.#apply(this.#driver.handleToolResults(all, this.#context()));
    if (batch.budgetExhausted || nested.refused > 0)
      this.stop({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
  }

  #queueProgress(): void {
    const modeEvents = this.#modeEvents.slice(this.#reportedModeEvents);
    this.#reportedModeEvents = this.#modeEvents.length;
    // A copy: effects are values, and the turn keeps appending to its own conversation.
    this.#queue.push({ type: "progress", messages: [...this.#messages], modeEvents, modeIteration: this.#modeIteration });
  }

  #queueDone(): void {
    const modeEvents = this.#modeEvents.slice(this.#reportedModeEvents);
    this.#reportedModeEvents = this.#modeEvents.length;
    this.#queue.push({ type: "done", messages: [...this.#messages], modeEvents, modeIteration: this.#modeIteration });
  }

  #dropPendingWork(): void {
    // Keep what was already said (emits, boundaries); drop work that has not started.
    this.#queue = this.#queue.filter((effect) => effect.type === "emit" || effect.type === "progress" || effect.type === "tool_records");
    this.#outstanding = undefined;
    this.#checkpointOnEmpty = undefined;
    this.#checkpointKind = undefined;
  }

  #finish(outcome: TurnOutcome): void {
    this.#emit({ type: "turn_outcome", outcome });
    this.#emit({ type: "done" });
    this.#queueDone();
    this.#phase = "finished";
  }

  #failTurn(event: SessionEvent): void {
    this.#emit(event);
    this.#finish({ type: "stopped", stop: { type: "runtime_error" } });
  }
}
