import type { DriverAction, DriverContext, ExecResult, ProtocolDriver } from "@lash/core";
import { emptyResponseStop, finalAnswerActions, toolCallCompletedEvent, turnLimitMessage, validateJsonSchema } from "@lash/core";
import type { JsonObject, JsonValue, LlmResponse, Message, MessagePart, ToolCallRecord, TurnOutcome } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";
import { findCodeCell } from "./cell-scan.js";
import type { RlmTermination } from "./rlm-options.js";
import { lastStepMessage, messageId, observationMessage, schemaMismatchMessage, submitReminder } from "./rlm-prompt.js";

/** What an RLM driver is made from (per turn). */
export interface RlmDriverOptions {
  readonly termination: RlmTermination;
  /** The turn's structured output schema (wins over the termination's own schema). */
  readonly outputSchema?: JsonObject | undefined;
  /** Fence tags that mark a code cell; the first is the one the prompts name. */
  readonly languageTags: readonly string[];
  /** True when the mode's stream mask turned streamed prose into reasoning. */
  readonly maskStream: boolean;
}

/** The text and reasoning of a response, and its assistant message. */
function readResponse(response: LlmResponse): { text: string; reasoning: string; message: Message } {
  const id = messageId();
  const parts: MessagePart[] = [];
  let text = "";
  let reasoning = "";
  for (const part of response.parts) {
    if (part.type === "text" && part.text !== "") {
      const slice = text === "" || text.endsWith("\n\n") ? part.text : `\n\n${part.text}`;
      text += slice;
      parts.push({ kind: "prose", id: `${id}.p${parts.length}`, content: slice });
    } else if (part.type === "reasoning" && part.text.trim() !== "") {
      reasoning += part.text;
      parts.push(
        part.replay
          ? { kind: "reasoning", id: `${id}.p${parts.length}`, content: part.text, replay: part.replay }
          : { kind: "reasoning", id: `${id}.p${parts.length}`, content: part.text },
      );
    }
  }
  if (text === "" && response.fullText !== "") {
    text = response.fullText;
    parts.unshift({ kind: "prose", id: `${id}.p${parts.length}`, content: text });
  }
  return { text, reasoning, message: { id, role: "assistant", parts } };
}

function proseMessage(text: string): Message {
  const id = messageId();
  return { id, role: "assistant", parts: [{ kind: "prose", id: `${id}.p0`, content: text }] };
}

/** How a submitted value reads as the turn's answer (a string as it is, anything else as JSON). */
function renderValue(value: JsonValue): string {
  if (typeof value === "string") return value;
  return JSON.stringify(JSON.parse(stableStringify(value)), null, 2);
}

/** The outcome a tool's terminal control asks for (the first successful call that has one). */
function controlOutcome(records: readonly ToolCallRecord[]): TurnOutcome | undefined {
  for (const record of records) {
    const { output } = record;
    if (output.outcome.status !== "success" || output.control === undefined) continue;
    const control = output.control;
    if (control.type === "handoff") {
      if (control.sessionId.trim() !== "") return { type: "handoff", sessionId: control.sessionId };
      continue;
    }
    if (control.type === "finish") return { type: "finished", finish: { type: "tool_value", toolName: record.tool, value: control.value } };
    return { type: "stopped", stop: { type: "tool_error", toolName: record.tool, value: JSON.parse(stableStringify(control.failure)) } };
  }
  return undefined;
}

/**
 * The RLM protocol: each model reply is prose plus (usually) one JavaScript cell; the cell runs,
 * the model reads its output, and the turn ends when a cell submits a value (or, under
 * `prose_or_submit`, when a reply has no cell). Pure: no I/O, no clock.
 */
export function createRlmProtocolDriver(options: RlmDriverOptions): ProtocolDriver {
  const { termination, languageTags, maskStream } = options;
  const tag = languageTags[0] ?? "js";
  const schema = options.outputSchema ?? (termination.kind === "submit_required" ? termination.schema : undefined);
  let ignoredCells = 0;
  let step = 0;

  /** After work that did not end the turn: the limit, the last-step prompt, then the next iteration. */
  function continueOrStop(context: DriverContext, actions: DriverAction[], extra: readonly Message[]): readonly DriverAction[] {
    actions.push({ type: "advance_mode_iteration" });
    const limit = context.maxModelCalls;
    const next = context.modeIteration + 1;
    if (limit !== undefined && next >= context.modeRunOffset + limit) {
      actions.push(
        { type: "append_messages", messages: [turnLimitMessage(limit)] },
        { type: "finish", outcome: { type: "stopped", stop: { type: "max_turns" } } },
      );
      return actions;
    }
    const messages = [...extra];
    // The last call the turn allows is told so: a summary in prose, or a submit now.
    if (limit !== undefined && next + 1 === context.modeRunOffset + limit) messages.push(lastStepMessage(limit, termination, tag));
    if (messages.length > 0) actions.push({ type: "append_messages", messages });
    actions.push({ type: "start_checkpoint", kind: "after_work", onEmpty: { type: "continue" } });
    return actions;
  }

  return {
    prepareIteration(): readonly DriverAction[] {
      return [{ type: "start_llm" }];
    },

    handleLlmSuccess(response, context): readonly DriverAction[] {
      const { text, reasoning, message } = readResponse(response);
      const actions: DriverAction[] = [
        { type: "emit", event: { type: "model_response_completed", modeIteration: context.modeIteration, text, durationMs: 0 } },
      ];
      if (text.trim() === "" && reasoning.trim() === "") {
        actions.push(...emptyResponseStop("Model returned no assistant text."));
        return actions;
      }
      const cell = findCodeCell(text, languageTags);
      if (cell === undefined) {
        if (termination.kind === "prose_or_submit") {
          // A masked stream showed the prose as reasoning: the answer reaches the turn's text here.
          if (!context.textStreamed || maskStream) actions.push({ type: "emit", event: { type: "text_delta", text } });
          actions.push(...finalAnswerActions(message, { type: "assistant_message", text }));
          return actions;
        }
        actions.push({ type: "append_messages", messages: [message] });
        return continueOrStop(context, actions, [submitReminder(tag, schema !== undefined)]);
      }
      ignoredCells = cell.ignoredCells;
      actions.push({ type: "append_messages", messages: [message] }, { type: "start_exec", code: cell.code });
      return actions;
    },

    handleToolResults(_results, context): readonly DriverAction[] {
      // The model never calls tools natively in this mode; anything that arrives goes round again.
      return continueOrStop(context, [], []);
    },

    handleExecResult(result: ExecResult, context): readonly DriverAction[] {
      step += 1;
      const actions: DriverAction[] = result.toolCalls.map((record) => ({ type: "emit", event: toolCallCompletedEvent(record) }));
      actions.push(
        {
          type: "record_mode_event",
          event: {
            id: `rlm_step_${context.modeIteration}_${step}`,
            output: result.output,
            ...(result.error === undefined ? {} : { error: result.error }),
            toolCallIds: result.toolCalls.flatMap((record) => (record.callId === undefined ? [] : [record.callId])),
            ...(result.submitted === undefined ? {} : { submitted: result.submitted.value }),
          },
        },
        { type: "append_messages", messages: [observationMessage(result.output, result.error, ignoredCells)] },
      );
      const control = controlOutcome(result.toolCalls);
      if (control !== undefined) {
        actions.push({ type: "start_checkpoint", kind: "before_completion", onEmpty: { type: "finish", outcome: control } });
        return actions;
      }
      const submitted = result.submitted;
      if (submitted !== undefined) {
        const check = schema === undefined ? { valid: true as const } : validateJsonSchema(schema, submitted.value);
        if (!check.valid) return continueOrStop(context, actions, [schemaMismatchMessage(tag, check.message)]);
        actions.push(
          ...finalAnswerActions(proseMessage(renderValue(submitted.value)), { type: "submitted_value", value: submitted.value }),
        );
        return actions;
      }
      return continueOrStop(context, actions, []);
    },
  };
}
