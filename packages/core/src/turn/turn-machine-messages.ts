import type { LlmResponse, Message, SessionEvent, TurnFinish, TurnStop } from "@lash/protocol";
import type { CompletedToolCall, DriverAction, PendingToolCall } from "../modes/execution-mode.js";
import { freshMessageId, partId } from "../session/ids.js";
import { recordedToolArguments } from "../tools/tool-arguments.js";
import { truncateRaw } from "./raw-text.js";
import type { LlmCallError } from "./turn-machine-types.js";

/** The prefix of the system message that records a turn limit (the assembler recognises it). */
const TURN_LIMIT_PREFIX = "Turn limit reached (";

/** The stop a model call's terminal reason ends the turn with, or undefined when the turn goes on. */
export function terminalStopFor(reason: string): TurnStop | undefined {
  switch (reason) {
    case "output_limit":
      return { type: "incomplete" };
    case "context_overflow":
    case "content_filter":
    case "provider_error":
    // A finish reason the adapter did not recognise: the call may have been cut off (a network
    // error, a provider-side failure), so its text is not taken as a finished answer.
    case "unknown":
      return { type: "provider_error" };
    case "cancelled":
      return { type: "cancelled" };
    default:
      return undefined;
  }
}

/** The `error` event of a failed model call (the turn stops `provider_error`). */
export function llmFailureEvent(error: LlmCallError): Extract<SessionEvent, { type: "error" }> {
  const message = `LLM error: ${error.message}`;
  const raw = error.raw === undefined ? undefined : truncateRaw(error.raw);
  return {
    type: "error",
    message,
    envelope: {
      kind: "llm_provider",
      ...(error.code === undefined ? {} : { code: error.code }),
      terminalReason: error.terminalReason,
      userMessage: message,
      ...(raw === undefined ? {} : { raw }),
    },
  };
}

/** The `error` event of a model call whose terminal reason ends the turn (a refusal, an output limit, ...). */
export function terminalReasonEvent(response: LlmResponse): Extract<SessionEvent, { type: "error" }> {
  const message = response.terminalDiagnostic ?? `Model call ended with terminal reason ${response.terminalReason}.`;
  return {
    type: "error",
    message,
    envelope: { kind: "llm_provider", code: response.terminalReason, terminalReason: response.terminalReason, userMessage: message },
  };
}

export function assistantProseMessage(text: string): Message {
  const id = freshMessageId();
  return { id, role: "assistant", parts: [{ kind: "prose", id: partId(id, 0), content: text }] };
}

/** The system message that records a turn limit (the assembler recognises its prefix). */
export function turnLimitMessage(limit: number): Message {
  const id = freshMessageId();
  return {
    id,
    role: "system",
    parts: [{ kind: "error", id: partId(id, 0), content: `${TURN_LIMIT_PREFIX}${limit}) before a final assistant response.` }],
  };
}

export function skippedToolCall(call: PendingToolCall, limit: number): CompletedToolCall {
  const message = `tool call not run: the turn's tool call budget (maxToolCalls = ${limit}) is exhausted`;
  return {
    call,
    record: {
      callId: call.callId === "" ? undefined : call.callId,
      tool: call.toolName,
      args: recordedToolArguments(call.inputJson),
      output: { outcome: { status: "cancelled", payload: { message, source: "runtime" } } },
      durationMs: 0,
    },
    modelText: `[Tool execution cancelled]\n${message}`,
  };
}

/** The `error` event of a failure the machine itself detects (the turn stops `runtime_error`). */
export function machineError(kind: string, code: string, message: string): Extract<SessionEvent, { type: "error" }> {
  return { type: "error", message, envelope: { kind, code, userMessage: message } };
}

/**
 * What a mode's driver does with a model answer that says nothing: an `empty_response` error, and
 * the turn stops as a provider error. `message` says what was missing (text, tool calls, a cell).
 */
export function emptyResponseStop(message: string): DriverAction[] {
  return [
    { type: "emit", event: machineError("llm_provider", "empty_response", message) },
    { type: "finish", outcome: { type: "stopped", stop: { type: "provider_error" } } },
  ];
}

/**
 * What a mode's driver does with a final answer: its message joins the history first (so a
 * checkpoint that continues the turn shows it to the model on the next call), then the turn
 * finishes with `finish` unless the checkpoint brings something to continue with.
 */
export function finalAnswerActions(message: Message, finish: TurnFinish): DriverAction[] {
  return [
    { type: "append_messages", messages: [message] },
    { type: "start_checkpoint", kind: "before_completion", onEmpty: { type: "finish", outcome: { type: "finished", finish } } },
  ];
}
