import type { JsonValue, LlmResponse, LlmUsage, Message, SessionEvent, ToolCallOutput, TurnOutcome } from "@lash/protocol";
import type { CompletedToolCall, DriverAction, PendingToolCall, ProtocolDriver } from "../src/modes/execution-mode.js";
import { createStandardProtocolDriver } from "../src/modes/standard-mode.js";
import { TurnMachine, type TurnMachineConfig, type TurnMachineSnapshot } from "../src/turn/turn-machine.js";
import type { LlmCallResult, TurnEffect } from "../src/turn/turn-machine-types.js";

/** Builders and readers for driving a `TurnMachine` by hand in tests. */

export const CONFIG: TurnMachineConfig = {
  sessionId: "test",
  model: "test-model",
  modelVariant: undefined,
  useTools: true,
  syncExecutionSurface: false,
  maxModelCalls: undefined,
  maxToolCalls: undefined,
  maxTotalTokens: undefined,
};

export const ECHO_SPEC = { name: "echo_tool", description: "Echo.", inputSchema: { type: "object" } };

export function userMessage(content: string, id = "m0"): Message {
  return { id, role: "user", parts: [{ kind: "text", id: `${id}.p0`, content }] };
}

export function newMachine(
  options: { config?: Partial<TurnMachineConfig>; driver?: ProtocolDriver; messages?: readonly Message[]; systemPrompt?: string } = {},
): TurnMachine {
  return new TurnMachine({ ...CONFIG, ...options.config }, options.driver ?? createStandardProtocolDriver(), {
    messages: options.messages ?? [userMessage("hello")],
    systemPrompt: options.systemPrompt ?? "You are a test.",
    toolSpecs: [ECHO_SPEC],
  });
}

export function restore(
  snapshot: TurnMachineSnapshot,
  options: { config?: Partial<TurnMachineConfig>; driver?: ProtocolDriver } = {},
): TurnMachine {
  return new TurnMachine({ ...CONFIG, ...options.config }, options.driver ?? createStandardProtocolDriver(), { snapshot });
}

/** A snapshot as a durable host would store it: through JSON. */
export function throughJson(snapshot: TurnMachineSnapshot): TurnMachineSnapshot {
  return JSON.parse(JSON.stringify(snapshot)) as TurnMachineSnapshot;
}

export function drain(machine: TurnMachine): TurnEffect[] {
  const effects: TurnEffect[] = [];
  for (let guard = 0; guard < 1000; guard += 1) {
    const effect = machine.pollEffect();
    if (!effect) return effects;
    effects.push(effect);
  }
  throw new Error("the machine kept producing effects");
}

export function find<T extends TurnEffect["type"]>(effects: readonly TurnEffect[], type: T): Extract<TurnEffect, { type: T }> {
  const found = effects.find((effect): effect is Extract<TurnEffect, { type: T }> => effect.type === type);
  if (!found) throw new Error(`expected a ${type} effect, got: ${effects.map((effect) => effect.type).join(", ")}`);
  return found;
}

export function all<T extends TurnEffect["type"]>(effects: readonly TurnEffect[], type: T): Extract<TurnEffect, { type: T }>[] {
  return effects.filter((effect): effect is Extract<TurnEffect, { type: T }> => effect.type === type);
}

export function events(effects: readonly TurnEffect[]): SessionEvent[] {
  return all(effects, "emit").map((effect) => effect.event);
}

export function eventsOf<T extends SessionEvent["type"]>(effects: readonly TurnEffect[], type: T): Extract<SessionEvent, { type: T }>[] {
  return events(effects).filter((event): event is Extract<SessionEvent, { type: T }> => event.type === type);
}

export function outcomeOf(effects: readonly TurnEffect[]): TurnOutcome | undefined {
  return eventsOf(effects, "turn_outcome")[0]?.outcome;
}

export function usage(inputTokens = 0, outputTokens = 0, cachedInputTokens = 0, reasoningTokens = 0): LlmUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

export function response(partial: Partial<LlmResponse> = {}): LlmResponse {
  return { fullText: "", parts: [], usage: usage(), terminalReason: "stop", ...partial };
}

export function textResponse(text: string, extra: Partial<LlmResponse> = {}): LlmResponse {
  return response({ fullText: text, parts: [{ type: "text", text }], ...extra });
}

export function toolResponse(
  calls: readonly { callId: string; toolName: string; args?: JsonValue; replay?: { itemId?: string; opaque?: JsonValue } }[],
  extra: Partial<LlmResponse> = {},
): LlmResponse {
  return response({
    terminalReason: "tool_use",
    parts: calls.map((call) => ({
      type: "tool_call" as const,
      callId: call.callId,
      toolName: call.toolName,
      inputJson: JSON.stringify(call.args ?? {}),
      ...(call.replay ? { replay: call.replay } : {}),
    })),
    ...extra,
  });
}

export function ok(llmResponse: LlmResponse, textStreamed = false): LlmCallResult {
  return { ok: true, response: llmResponse, textStreamed };
}

export const SUCCESS = (payload: JsonValue): ToolCallOutput => ({ outcome: { status: "success", payload } });

export function completed(call: PendingToolCall, output: ToolCallOutput, modelText: string): CompletedToolCall {
  return {
    call,
    record: { callId: call.callId, tool: call.toolName, args: JSON.parse(call.inputJson) as JsonValue, output, durationMs: 1 },
    modelText,
  };
}

/** Runs the machine to its first model call and answers it. */
export function answerFirstCall(machine: TurnMachine, llmResponse: LlmResponse, textStreamed = false): TurnEffect[] {
  const call = find(drain(machine), "llm_call");
  machine.handleLlmComplete(call.id, ok(llmResponse, textStreamed));
  return drain(machine);
}

export function emptyCheckpoint(): { ok: true; committed: Message[]; transient: Message[] } {
  return { ok: true, committed: [], transient: [] };
}

export function messageText(message: Message): string {
  return message.parts.map((part) => ("content" in part ? part.content : "")).join("");
}

/** A standard driver that also records one mode event per model response. */
export function recordingDriver(): ProtocolDriver {
  const standard = createStandardProtocolDriver();
  return {
    prepareIteration: (context) => standard.prepareIteration(context),
    handleLlmSuccess: (llmResponse, context): readonly DriverAction[] => [
      { type: "record_mode_event", event: { response: context.modeIteration } },
      ...standard.handleLlmSuccess(llmResponse, context),
    ],
    handleToolResults: (results, context) => standard.handleToolResults(results, context),
  };
}
