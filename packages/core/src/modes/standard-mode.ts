import type { LlmResponse, Message, MessagePart, ToolControl, TurnOutcome } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";
import { freshMessageId, partId } from "../session/ids.js";
import { isToolResultMessage } from "../session/message-text.js";
import { emptyResponseStop, finalAnswerActions, turnLimitMessage } from "../turn/turn-machine-messages.js";
import { assistantTextSeparator } from "./assistant-text.js";
import { createBatchTool } from "./batch-tool.js";
import type {
  CompletedToolCall,
  DriverAction,
  DriverContext,
  ExecutionMode,
  ModePreamble,
  PendingToolCall,
  ProtocolDriver,
} from "./execution-mode.js";

const EXECUTION_PROMPT = [
  "Use direct tool calls to act: call a tool when it helps, read its result, then continue.",
  "When two or more calls are independent of each other, make them in one `batch` call so they run together.",
  "When the task is done, answer in plain prose without calling a tool.",
].join("\n");

function hasReasoningContent(part: Extract<MessagePart, { kind: "reasoning" }>): boolean {
  const replay = part.replay;
  const replayed =
    replay !== undefined && Boolean(replay.itemId || replay.encryptedContent || replay.signature || replay.summary.length > 0);
  return part.content.trim() !== "" || replayed;
}

/** The assistant message of one response, its text (with part boundaries) and its tool calls. */
function readResponse(response: LlmResponse): {
  message: Message;
  text: string;
  textSlices: string[];
  calls: PendingToolCall[];
  hasReasoning: boolean;
} {
  const id = freshMessageId();
  const parts: MessagePart[] = [];
  const textSlices: string[] = [];
  const calls: PendingToolCall[] = [];
  let text = "";
  let hasReasoning = false;
  for (const part of response.parts) {
    if (part.type === "text") {
      if (part.text === "") continue;
      // The separator is stored in the part so the message renders exactly as the answer reads.
      const slice = assistantTextSeparator(text, part.text) + part.text;
      text += slice;
      textSlices.push(slice);
      parts.push(
        part.responseMeta
          ? { kind: "prose", id: partId(id, parts.length), content: slice, responseMeta: part.responseMeta }
          : { kind: "prose", id: partId(id, parts.length), content: slice },
      );
    } else if (part.type === "reasoning") {
      const reasoning: Extract<MessagePart, { kind: "reasoning" }> = part.replay
        ? { kind: "reasoning", id: partId(id, parts.length), content: part.text, replay: part.replay }
        : { kind: "reasoning", id: partId(id, parts.length), content: part.text };
      if (!hasReasoningContent(reasoning)) continue;
      hasReasoning = true;
      parts.push(reasoning);
    } else {
      calls.push(
        part.replay
          ? { callId: part.callId, toolName: part.toolName, inputJson: part.inputJson, replay: part.replay }
          : { callId: part.callId, toolName: part.toolName, inputJson: part.inputJson },
      );
      parts.push(
        part.replay
          ? {
              kind: "tool_call",
              id: partId(id, parts.length),
              callId: part.callId,
              toolName: part.toolName,
              inputJson: part.inputJson,
              replay: part.replay,
            }
          : { kind: "tool_call", id: partId(id, parts.length), callId: part.callId, toolName: part.toolName, inputJson: part.inputJson },
      );
    }
  }
  if (text === "" && response.fullText !== "" && !response.parts.some((part) => part.type === "text")) {
    // A provider that only filled `fullText`.
    text = response.fullText;
    textSlices.push(text);
    parts.unshift({ kind: "prose", id: partId(id, parts.length), content: text });
  }
  return { message: { id, role: "assistant", parts }, text, textSlices, calls, hasReasoning };
}

function controlOutcome(result: CompletedToolCall): TurnOutcome | undefined {
  const { output } = result.record;
  if (output.outcome.status !== "success" || !output.control) return undefined;
  const control: ToolControl = output.control;
  switch (control.type) {
    case "handoff":
      return control.sessionId.trim() === "" ? undefined : { type: "handoff", sessionId: control.sessionId };
    case "finish":
      return { type: "finished", finish: { type: "tool_value", toolName: result.record.tool, value: control.value } };
    case "fail":
      return {
        type: "stopped",
        stop: { type: "tool_error", toolName: result.record.tool, value: JSON.parse(stableStringify(control.failure)) },
      };
  }
}

/** The standard mode's protocol: native tool calls, one model call per iteration. */
export function createStandardProtocolDriver(): ProtocolDriver {
  return {
    prepareIteration(): readonly DriverAction[] {
      return [{ type: "start_llm" }];
    },

    handleLlmSuccess(response, context): readonly DriverAction[] {
      const { message, text, textSlices, calls, hasReasoning } = readResponse(response);
      const actions: DriverAction[] = [];
      if (!context.textStreamed) {
        for (const slice of textSlices) actions.push({ type: "emit", event: { type: "text_delta", text: slice } });
      }
      actions.push({
        type: "emit",
        event: { type: "model_response_completed", modeIteration: context.modeIteration, text: text, durationMs: 0 },
      });
      if (calls.length > 0) {
        actions.push({ type: "append_messages", messages: [message] }, { type: "start_tools", calls });
        return actions;
      }
      if (text.trim() === "" && !hasReasoning) {
        const last = context.messages.at(-1);
        if (last && isToolResultMessage(last)) {
          // A tool-only request may legitimately end with an empty final answer.
          actions.push({
            type: "start_checkpoint",
            kind: "before_completion",
            onEmpty: { type: "finish", outcome: { type: "finished", finish: { type: "assistant_message", text: "" } } },
          });
          return actions;
        }
        actions.push(...emptyResponseStop("Model returned no assistant text or tool calls."));
        return actions;
      }
      actions.push(...finalAnswerActions(message, { type: "assistant_message", text }));
      return actions;
    },

    handleToolResults(results, context: DriverContext): readonly DriverAction[] {
      const id = freshMessageId();
      const resultMessage: Message = {
        id,
        role: "user",
        parts: results.map((result, index) => ({
          kind: "tool_result" as const,
          id: partId(id, index),
          callId: result.call.callId,
          toolName: result.call.toolName,
          content: result.modelText,
        })),
      };
      const actions: DriverAction[] = [{ type: "append_messages", messages: [resultMessage] }];
      for (const result of results) {
        const outcome = controlOutcome(result);
        if (outcome) {
          actions.push({ type: "finish", outcome });
          return actions;
        }
      }
      actions.push({ type: "advance_mode_iteration" });
      const limit = context.maxModelCalls;
      if (limit !== undefined && context.modeIteration + 1 >= context.modeRunOffset + limit) {
        actions.push(
          { type: "append_messages", messages: [turnLimitMessage(limit)] },
          { type: "finish", outcome: { type: "stopped", stop: { type: "max_turns" } } },
        );
        return actions;
      }
      actions.push({ type: "start_checkpoint", kind: "after_work", onEmpty: { type: "continue" } });
      return actions;
    },
  };
}

/**
 * The `batch` tool holds no state, so every standard mode shares one (frozen): its schema is checked
 * once per process, not once per runtime built.
 */
const batchTool = Object.freeze(createBatchTool());

/** The standard execution mode: native function calling plus the `batch` tool. */
export function createStandardMode(): ExecutionMode {
  return {
    id: "standard",
    buildPreamble(): ModePreamble {
      return { executionPrompt: EXECUTION_PROMPT, promptContributions: [], useTools: true, syncExecutionSurface: false };
    },
    createDriver: createStandardProtocolDriver,
    nativeTools: () => [batchTool],
  };
}
