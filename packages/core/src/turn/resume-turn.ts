import { randomUUID } from "node:crypto";
import type {
  AssembledTurn,
  SessionEvent,
  SuspendedTurn,
  TerminationPolicy,
  ToolCallApproval,
  ToolCallOutput,
  TurnInput,
} from "@lash/protocol";
import { ApprovalConflictError, HeadRevisionConflictError, LashError, RuntimeError } from "@lash/protocol";
import type { CompletedToolCall, PendingToolCall } from "../modes/execution-mode.js";
import {
  type DecidedTurn,
  decideApprovals,
  expireApprovals,
  type NewlyResolved,
  parseDecisions,
  type ResumeTurnRequest,
  winningResolutions,
} from "../runtime/approval-decisions.js";
import type { SessionCore } from "../runtime/session-core.js";
import { emitApprovalEvent, rejectedOutput } from "../tools/approval-gate.js";
import { renderToolOutputForModel } from "../tools/tool-output.js";
import { tracedActivitySink } from "../tracing/traced-activity-sink.js";
import { TurnEventPipe } from "./event-pipe.js";
import type { PreparedTurn } from "./prepare-turn.js";
import { machineConfig, runTurnSegment, type TurnRunOptions } from "./run-turn.js";
import type { IndexedResult, ResumedBatch } from "./suspended-batch.js";
import { TurnAssembler } from "./turn-assembler.js";
import { cancellationOf } from "./turn-cancellation.js";
import { TurnContext } from "./turn-context.js";
import { TurnMachine } from "./turn-machine.js";
import { resolveTurnOutput } from "./turn-output.js";
import { buildTurnSurface, type TurnModelSelection } from "./turn-setup.js";

/** How often a decider retries when the head moved for another reason than a rival decision. */
const DECISION_ATTEMPTS = 3;

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Continues the session's suspended turn with `request.decisions` (ADR 0029): decisions are
 * checked, then committed under compare-and-set before any approved tool runs; while requests stay
 * open the result is `awaiting_approval` again, otherwise the same turn goes on (approved calls
 * run, rejected ones give the model the reason) under its own limits and usage.
 */
export async function resumeSessionTurn(
  core: SessionCore,
  request: ResumeTurnRequest,
  options: TurnRunOptions = {},
): Promise<AssembledTurn> {
  if (core.turnRunning) throw new LashError("turn_in_progress", `session \`${core.sessionId}\` already has a running turn`);
  core.turnRunning = true;
  try {
    return await resumeTurn(core, request, options);
  } finally {
    core.turnRunning = false;
  }
}

async function resumeTurn(core: SessionCore, request: ResumeTurnRequest, options: TurnRunOptions): Promise<AssembledTurn> {
  const decisions = parseDecisions(request);
  const { suspended, resolved } = await commitDecisions(core, decisions);
  const assembler = new TurnAssembler({ captureTextDeltas: true });
  assembler.continueFromUsage(suspended.machine.cumulativeUsage);
  let context: TurnContext | undefined;
  const activities = core.environment.core.traceSink ? tracedActivitySink(options.activities, () => context?.tracer) : options.activities;
  const pipe = new TurnEventPipe(assembler, options.events, activities);
  await announceResolutions(pipe, core.sessionId, suspended, resolved);
  const open = suspended.approvals.filter((approval) => approval.resolution === undefined);
  if (open.length > 0) {
    // Some requests still wait: nothing runs until every request of the batch is decided.
    const approvals = open.map(({ index: _index, resolution: _resolution, ...approval }) => approval);
    await deliver(pipe.sessionOnly({ type: "turn_outcome", outcome: { type: "stopped", stop: { type: "awaiting_approval", approvals } } }));
    await deliver(pipe.sessionOnly({ type: "done" }));
    await deliver(pipe.flush());
    return assembler.finish({ state: core.exportEnvelope(), interrupted: false, treatMissingDoneAsFailure: true });
  }
  const messages = core.graph.activeMessages();
  if (messages.at(-1)?.id !== suspended.batch.messageId) {
    throw new LashError(
      "suspended_turn_mismatch",
      `the suspended turn of session \`${core.sessionId}\` waits on message \`${suspended.batch.messageId}\`, but the session's history ends elsewhere`,
    );
  }
  const input: TurnInput = {
    items: [],
    traceTurnId: suspended.turnId,
    ...(suspended.prompt === undefined ? {} : { turnContext: { prompt: suspended.prompt } }),
  };
  const prepared = await resumedPreparation(core, input, messages);
  const termination: TerminationPolicy =
    request.stopWhen === undefined ? suspended.termination : { ...suspended.termination, stopWhen: request.stopWhen };
  const turn = new TurnContext({
    core,
    input,
    prepared,
    mode: core.mode(),
    pipe,
    assembler,
    termination,
    selection: resumedSelection(core, suspended),
    output: options.output === undefined ? undefined : resolveTurnOutput(options.output),
    hostSignal: options.signal,
    cancellation: cancellationOf(options),
    approve: options.approve,
    resumed: {
      turnId: suspended.turnId,
      turnIndex: suspended.turnIndex,
      segment: suspended.segment + 1,
      elapsedMs: suspended.machine.elapsedMs,
      cumulativeUsage: suspended.machine.cumulativeUsage,
      outputRepairs: suspended.machine.outputRepairs,
    },
  });
  context = turn;
  const batch = resumedBatch(suspended);
  await announceDeniedCalls(pipe, batch);
  return await runTurnSegment(turn, async () => {
    const surface = await buildTurnSurface(core, turn.mode, input, prepared, turn.modeSetup);
    const machine = new TurnMachine(machineConfig(turn, surface), turn.mode.createDriver(turn.modeSetup), {
      resume: {
        messages,
        systemPrompt: surface.systemPrompt,
        toolSpecs: surface.toolSpecs,
        counters: suspended.machine,
        cumulativeUsage: suspended.machine.cumulativeUsage,
        batch,
      },
    });
    if (batch.toRun.length > 0) turn.resumeApprovals = approvalsByCallId(suspended);
    // Nothing to run: the batch is complete already, and the next commit drops the suspended turn.
    else core.suspendedTurn = undefined;
    return { machine, surface: surface.surface };
  });
}

/**
 * Applies expiry and the decisions, and commits them (a `decide` commit, compare-and-set) before
 * anything runs. When another decider's commit got there first, its decision stands and this one
 * fails with `ApprovalConflictError`; when the head moved for another reason, it tries again.
 */
async function commitDecisions(
  core: SessionCore,
  decisions: ReturnType<typeof parseDecisions>,
): Promise<{ readonly suspended: SuspendedTurn; readonly resolved: readonly NewlyResolved[] }> {
  for (let attempt = 1; ; attempt += 1) {
    await core.refreshFromStore();
    const now = new Date();
    const records = core.graph.activeToolCalls();
    const current = core.suspendedTurn;
    // Expiry first: a request past its deadline counts as decided, so a decision naming it is refused.
    const expired = current === undefined ? undefined : expireApprovals(current, now);
    const decided = decideApprovals(core.sessionId, expired?.suspended, decisions, records, now);
    if (current === undefined || expired === undefined || decided === undefined) {
      throw new LashError("no_suspended_turn", `session \`${core.sessionId}\` has no turn waiting for approval`);
    }
    const next: DecidedTurn = { suspended: decided.suspended, resolved: [...expired.resolved, ...decided.resolved] };
    if (next.resolved.length === 0) return next;
    core.suspendedTurn = next.suspended;
    try {
      await core.commit(`${current.turnId}:decide:${randomUUID()}`);
      return next;
    } catch (error) {
      core.suspendedTurn = current;
      if (!HeadRevisionConflictError.isInstance(error)) {
        throw LashError.isInstance(error)
          ? error
          : new RuntimeError("store_commit_failed", `decision commit failed: ${errorMessage(error)}`, { cause: error });
      }
      await core.refreshFromStore();
      const ids = decisions.map((decision) => decision.id);
      const winners = winningResolutions(core.suspendedTurn, core.graph.activeToolCalls(), ids);
      if (Object.keys(winners).length > 0) throw new ApprovalConflictError(core.sessionId, winners, { cause: error });
      if (attempt >= DECISION_ATTEMPTS) throw error;
    }
  }
}

/** `approval_resolved` for each decision made now, and an issue for each request that expired. */
async function announceResolutions(
  pipe: TurnEventPipe,
  sessionId: string,
  suspended: SuspendedTurn,
  resolved: readonly NewlyResolved[],
): Promise<void> {
  for (const { approval, resolution } of resolved) {
    const correlationId = `tool:${approval.callId ?? approval.id}`;
    const event: Extract<SessionEvent, { type: "approval_resolved" }> = {
      type: "approval_resolved",
      id: approval.id,
      sessionId,
      ...(approval.callId === undefined ? {} : { callId: approval.callId }),
      tool: approval.tool,
      resolution,
    };
    await emitApprovalEvent(pipe, event, correlationId);
    if (resolution.source === "expiry") {
      const message = `Nobody decided on the \`${approval.tool}\` call of turn ${suspended.turnIndex} before its approval request expired; it was not run.`;
      await deliver(
        pipe.session({ type: "error", message, envelope: { kind: "approval", code: "approval_expired", userMessage: message } }),
      );
    }
  }
}

/**
 * Calls decided against (rejected or expired) never run, so no tool batch reports them: their
 * `tool_call_completed` activity comes from here, as a readers' stream expects one per call.
 */
async function announceDeniedCalls(pipe: TurnEventPipe, batch: ResumedBatch): Promise<void> {
  for (const { completed } of batch.resolved) {
    const { record } = completed;
    const correlationId = `tool:${record.callId ?? completed.call.callId}`;
    await deliver(
      pipe.activity(
        {
          type: "tool_call_completed",
          ...(record.callId === undefined ? {} : { callId: record.callId }),
          name: record.tool,
          args: record.args,
          output: record.output,
          durationMs: record.durationMs,
          ...(record.approval === undefined ? {} : { approval: record.approval }),
        },
        correlationId,
      ),
    );
  }
}

/** The provider and model the turn ran on; the runtime must have that provider. */
function resumedSelection(core: SessionCore, suspended: SuspendedTurn): TurnModelSelection {
  const { providerId, model, modelVariant } = suspended.selection;
  if (core.provider.providerId !== providerId) {
    throw new LashError(
      "invalid_configuration",
      `the suspended turn of session \`${core.sessionId}\` runs on provider \`${providerId}\`, but this runtime's provider is \`${core.provider.providerId}\``,
    );
  }
  return { provider: core.provider, model, modelVariant };
}

/**
 * What a resumed turn builds its surface from: the history as stored, and the tools and prompt
 * contributions of the context transforms, which run again (their message changes are not taken:
 * the turn's conversation is the stored one).
 */
async function resumedPreparation(core: SessionCore, input: TurnInput, messages: PreparedTurn["messages"]): Promise<PreparedTurn> {
  const base = { messages, promptContributions: [], toolProviders: [], includeBaseTools: true };
  const { plugins } = core.environment;
  if (plugins.isEmpty) return { type: "prepared", ...base };
  try {
    const transformed = await plugins.transformTurnContext(
      {
        sessionId: core.sessionId,
        state: core.exportEnvelope(),
        promptUsage: core.lastPromptUsage,
        maxContextTokens: core.policy.maxContextTokens,
        turnContext: input.turnContext,
      },
      base,
    );
    return { type: "prepared", ...transformed, messages };
  } catch (error) {
    throw new RuntimeError("context_prepare_turn", `context transform failed: ${errorMessage(error)}`, { cause: error });
  }
}

function completedCall(call: PendingToolCall, record: CompletedToolCall["record"], modelText?: string): CompletedToolCall {
  return { call, record, modelText: modelText ?? renderToolOutputForModel(record.output) };
}

/** The model's view of a call nobody decided in time. */
function expiredOutput(): ToolCallOutput {
  const message = "Nobody decided on this call before its approval request expired; it was not run.";
  return {
    outcome: {
      status: "failure",
      payload: { class: "permission_denied", code: "approval_rejected", message, source: "runtime", retry: { type: "never" } },
    },
  };
}

function callAt(suspended: SuspendedTurn, index: number): PendingToolCall {
  const call = suspended.batch.calls[index];
  if (call === undefined) {
    throw new LashError("suspended_turn_mismatch", `the suspended turn's batch has no call at position ${index}`);
  }
  return call;
}

/** The suspended batch as a resumed machine takes it: results it had, rejected calls resolved, approved calls to run. */
function resumedBatch(suspended: SuspendedTurn): ResumedBatch {
  const recorded: IndexedResult[] = suspended.batch.results.map(({ index, record, modelText }) => ({
    index,
    completed: completedCall(callAt(suspended, index), record, modelText),
  }));
  const resolved: IndexedResult[] = [];
  const toRun: { index: number; call: PendingToolCall }[] = [];
  for (const approval of suspended.approvals) {
    const call = callAt(suspended, approval.index);
    const resolution = approval.resolution;
    if (resolution?.decision === "approved") {
      toRun.push({ index: approval.index, call });
      continue;
    }
    const output = resolution?.source === "expiry" ? expiredOutput() : rejectedOutput(resolution?.reason);
    const record: CompletedToolCall["record"] = { tool: approval.tool, args: approval.args, output, durationMs: 0 };
    if (approval.callId !== undefined) record.callId = approval.callId;
    if (resolution !== undefined) record.approval = { id: approval.id, ...resolution };
    resolved.push({ index: approval.index, completed: completedCall(call, record) });
  }
  return { calls: suspended.batch.calls, recorded, resolved, toRun, budgetExhausted: suspended.batch.budgetExhausted };
}

/** The approved calls' decisions, by call id (their records carry them). */
function approvalsByCallId(suspended: SuspendedTurn): Map<string, ToolCallApproval> {
  const approved = new Map<string, ToolCallApproval>();
  for (const approval of suspended.approvals) {
    if (approval.resolution?.decision === "approved" && approval.callId !== undefined) {
      approved.set(approval.callId, { id: approval.id, ...approval.resolution });
    }
  }
  return approved;
}
