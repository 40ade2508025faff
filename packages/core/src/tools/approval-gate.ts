import { randomUUID } from "node:crypto";
import type {
  ApprovalAnswer,
  ApprovalHandler,
  ApprovalRequest,
  JsonValue,
  SessionAccess,
  SessionEvent,
  ToolCallApproval,
  ToolCallOutput,
  ToolContext,
  ToolDefinition,
} from "@lash/protocol";
import { APPROVAL_REJECTED_CODE, APPROVAL_REQUIRED_CODE, approvalAnswerSchema, ToolError } from "@lash/protocol";
import type { TurnEventPipe } from "../turn/event-pipe.js";
import { validateToolInput } from "./tool-input-schema.js";
import type { ToolSurface } from "./tool-surface.js";

/** What the gate needs from the turn: who asks, and who answers. */
export interface ApprovalGateEnvironment {
  readonly surface: ToolSurface;
  readonly sessionId: string;
  readonly turnId: string;
  readonly turnIndex: number;
  readonly sessions: SessionAccess;
  readonly signal: AbortSignal;
  readonly pipe: TurnEventPipe;
  /** The turn's `approve` callback, else the runtime's (`withApprovals`); undefined = nobody answers. */
  readonly approve: ApprovalHandler | undefined;
  /** How long a request that waits stays open (the runtime's default), in milliseconds; undefined = no expiry. */
  readonly expiresInMs: number | undefined;
}

/** The model call that asked for a batch of calls: its assistant message and its round. */
export interface ApprovalOrigin {
  readonly messageId: string;
  readonly modeIteration: number;
}

/** One call as the gate sees it; `callId` is undefined for a call nested in a container tool. */
export interface GatedCall {
  readonly callId: string | undefined;
  readonly toolName: string;
  readonly args: JsonValue;
  /** Set when the arguments were not valid JSON (the call goes to dispatch, which refuses it). */
  readonly argumentsError?: string | undefined;
  /** Set for a call made from a code cell: it has an id, but its cell cannot wait for a later decision. */
  readonly fromCode?: boolean | undefined;
}

/**
 * The gate's verdict: `run` the call (through the usual dispatch, hooks and validation included),
 * record `output` instead of running it, or leave it `pending`: nobody decided, the turn will
 * suspend and wait for a decision on `request`. `approval` is the decision, when one was made.
 */
export type ApprovalGateResult =
  | { readonly type: "run"; readonly approval?: ToolCallApproval }
  | { readonly type: "refused"; readonly output: ToolCallOutput; readonly approval?: ToolCallApproval }
  | { readonly type: "pending"; readonly request: ApprovalRequest };

const RUN: ApprovalGateResult = { type: "run" };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function failure(
  failureClass: "internal" | "permission_denied",
  code: string,
  message: string,
  source: "runtime" | "tool",
): ToolCallOutput {
  return { outcome: { status: "failure", payload: { class: failureClass, code, message, source, retry: { type: "never" } } } };
}

/** A throwing `needsApproval` / `describeApproval`: the call fails with that error, nobody is asked. */
function declarationFailed(error: unknown, what: string): ToolCallOutput {
  if (ToolError.isInstance(error)) return { outcome: { status: "failure", payload: error.toFailure() } };
  return failure("internal", "approval_check_failed", `${what} failed: ${errorMessage(error)}`, "tool");
}

/**
 * A call nested inside a container tool (`batch`) cannot wait for a later decision: it has no call
 * id a decision could name, and its container's result is due now. Nobody decided it in process,
 * so it fails with `approval_required`, and the model can call the tool directly instead.
 */
function approvalRequired(fromCode = false): ToolCallOutput {
  const message = fromCode
    ? "This call needs approval and nobody approved it: a call made from code cannot wait for a later decision."
    : "This call needs approval and was not approved: call this tool directly so it can be approved.";
  return failure("permission_denied", APPROVAL_REQUIRED_CODE, message, "runtime");
}

/** The result the model sees for a call the decider rejected (the reason is the decider's). */
export function rejectedOutput(reason: string | undefined): ToolCallOutput {
  const message = reason === undefined || reason === "" ? "The user rejected this call." : `The user rejected this call: ${reason}`;
  return failure("permission_denied", APPROVAL_REJECTED_CODE, message, "runtime");
}

function expiry(requestedAt: Date, expiresInMs: number | undefined): { expiresAt?: string } {
  return expiresInMs === undefined ? {} : { expiresAt: new Date(requestedAt.getTime() + expiresInMs).toISOString() };
}

async function needsApproval(definition: ToolDefinition<unknown>, input: unknown, context: ToolContext): Promise<boolean> {
  const declared = definition.needsApproval;
  if (typeof declared === "function") return (await declared(input, context)) === true;
  return declared === true;
}

async function deliver(pending: void | Promise<void>): Promise<void> {
  if (pending !== undefined) await pending;
}

/** Emits an approval event to both streams, the activity correlated with the call's own. */
export async function emitApprovalEvent(
  pipe: TurnEventPipe,
  event: Extract<SessionEvent, { type: "approval_requested" | "approval_resolved" }>,
  correlationId: string,
): Promise<void> {
  await deliver(pipe.session(event));
  await deliver(pipe.activity(event, correlationId));
}

/** Asks the handler; a throwing handler or a malformed answer fails the call rather than the turn. */
async function ask(
  approve: ApprovalHandler,
  request: ApprovalRequest,
  signal: AbortSignal,
): Promise<{ ok: true; answer: ApprovalAnswer } | { ok: false; output: ToolCallOutput }> {
  let raw: unknown;
  try {
    raw = await approve(request, { signal });
  } catch (error) {
    return { ok: false, output: failure("internal", "approval_handler_failed", `The approver failed: ${errorMessage(error)}`, "runtime") };
  }
  const parsed = approvalAnswerSchema.safeParse(raw);
  if (!parsed.success) {
    const message = "The approver gave an invalid answer (expected { type: 'approve' | 'reject' | 'defer' })";
    return { ok: false, output: failure("internal", "invalid_approval_answer", message, "runtime") };
  }
  return { ok: true, answer: parsed.data };
}

/**
 * The approval gate, run before a call is dispatched. Unknown tools, unparsable or invalid
 * arguments and tools that need no approval pass straight through (dispatch reports the first
 * three as usual). Otherwise the gate asks `needsApproval` on the validated input, then the
 * approver: `approve` runs the call, `reject` gives the model `approval_rejected` with the reason,
 * `defer` (or no approver at all) leaves the call pending: the turn suspends once the rest of its
 * batch is done. A nested call cannot wait and fails with `approval_required` instead.
 */
export async function passApprovalGate(
  call: GatedCall,
  environment: ApprovalGateEnvironment,
  origin: ApprovalOrigin,
  correlationId: string,
): Promise<ApprovalGateResult> {
  const tool = environment.surface.get(call.toolName);
  const definition = tool?.definition;
  if (definition === undefined || definition.needsApproval === undefined || definition.needsApproval === false) return RUN;
  if (call.argumentsError !== undefined) return RUN;
  const validation = await validateToolInput(definition, call.args);
  if (!validation.ok) return RUN;
  const context: ToolContext = {
    callId: call.callId,
    toolName: call.toolName,
    sessionId: environment.sessionId,
    turnIndex: environment.turnIndex,
    signal: environment.signal,
    sessions: environment.sessions,
  };
  try {
    if (!(await needsApproval(definition, validation.value, context))) return RUN;
  } catch (error) {
    return { type: "refused", output: declarationFailed(error, "needsApproval") };
  }
  let summary: string | undefined;
  try {
    summary = definition.describeApproval ? await definition.describeApproval(validation.value, context) : undefined;
  } catch (error) {
    return { type: "refused", output: declarationFailed(error, "describeApproval") };
  }
  const fromCode = call.fromCode === true;
  const nested = call.callId === undefined || fromCode;
  // A nested call with nobody to ask: no request is announced, since no decision can ever follow it.
  if (nested && environment.approve === undefined) return { type: "refused", output: approvalRequired(fromCode) };
  const requestedAt = new Date();
  const request: ApprovalRequest = {
    id: randomUUID(),
    sessionId: environment.sessionId,
    turnId: environment.turnId,
    turnIndex: environment.turnIndex,
    ...(call.callId === undefined ? {} : { callId: call.callId }),
    tool: call.toolName,
    args: call.args,
    ...(typeof summary === "string" ? { summary } : {}),
    messageId: origin.messageId,
    modeIteration: origin.modeIteration,
    requestedAt: requestedAt.toISOString(),
    ...expiry(requestedAt, environment.expiresInMs),
  };
  await emitApprovalEvent(environment.pipe, { type: "approval_requested", request }, correlationId);
  if (environment.approve === undefined) return { type: "pending", request };
  const asked = await ask(environment.approve, request, environment.signal);
  if (!asked.ok) return { type: "refused", output: asked.output };
  const { answer } = asked;
  if (answer.type === "defer") {
    if (nested) return { type: "refused", output: approvalRequired(fromCode) };
    const expiresInMs = answer.expiresInMs ?? environment.expiresInMs;
    const { expiresAt: _replaced, ...withoutExpiry } = request;
    return { type: "pending", request: { ...withoutExpiry, ...expiry(requestedAt, expiresInMs) } };
  }
  const approval: ToolCallApproval = {
    id: request.id,
    decision: answer.type === "approve" ? "approved" : "rejected",
    ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    ...(answer.decidedBy === undefined ? {} : { decidedBy: answer.decidedBy }),
    decidedAt: new Date().toISOString(),
    source: "handler",
  };
  const { id, ...resolution } = approval;
  await emitApprovalEvent(
    environment.pipe,
    {
      type: "approval_resolved",
      id,
      sessionId: environment.sessionId,
      ...(call.callId === undefined ? {} : { callId: call.callId }),
      tool: call.toolName,
      resolution,
    },
    correlationId,
  );
  return answer.type === "approve" ? { type: "run", approval } : { type: "refused", output: rejectedOutput(answer.reason), approval };
}
