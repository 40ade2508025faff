import type { LlmOutputPart, ToolCallReplay } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "./provider-failure-classifier.js";

/** A `tool_call` output part. */
export type ToolCallPart = Extract<LlmOutputPart, { type: "tool_call" }>;

/** One streamed piece of a tool call. */
export interface ToolCallDelta {
  /**
   * What ties the pieces of one call together in the provider's stream: the `index` of a Chat
   * Completions `tool_calls` entry or an Anthropic content block, a Responses `item_id`, an AI SDK
   * tool-call id.
   */
  readonly key: string | number;
  /** The provider's call id; the first non-empty one wins (some servers repeat it in every chunk). */
  readonly callId?: string | null;
  /** The tool name; the first non-empty one wins. */
  readonly toolName?: string | null;
  /** A fragment of the JSON arguments, appended as is (it may split a JSON token). */
  readonly argumentsDelta?: string | null;
  /** The complete arguments (a `.done` event, an AI SDK `tool-call`): replaces the fragments. */
  readonly arguments?: string | null;
  /** Provider data to replay the call with (merged over earlier replay data). */
  readonly replay?: ToolCallReplay;
}

/** Options of `createToolCallAccumulator`. */
export interface ToolCallAccumulatorOptions {
  /**
   * The most characters of arguments one call may accumulate (default 10 000 000): past it `add`
   * throws a non-retryable `stream` `ProviderCallError`, so a runaway or hostile stream cannot
   * exhaust memory.
   */
  readonly maxArgumentCharacters?: number;
}

/** Collects streamed tool-call pieces into whole `tool_call` parts. */
export interface ToolCallAccumulator {
  /** Adds one piece. @throws ProviderCallError when a call's arguments grow past the limit. */
  add(delta: ToolCallDelta): void;
  /** True when a piece with this key was added. */
  has(key: string | number): boolean;
  /** The number of calls seen. */
  readonly size: number;
  /**
   * The calls, in the order their first piece arrived. A call that never got a call id gets
   * `call_<key>`; one that never got a name gets `""` (the runtime reports an unknown tool);
   * arguments are exactly what streamed (possibly invalid JSON: the runtime handles that).
   */
  parts(): ToolCallPart[];
}

interface PendingCall {
  callId: string;
  toolName: string;
  argumentsText: string;
  replay: ToolCallReplay | undefined;
}

const DEFAULT_MAX_ARGUMENT_CHARACTERS = 10_000_000;

/**
 * Creates a `ToolCallAccumulator`. Keys are compared as strings, so the number `0` and the string
 * `"0"` name the same call.
 *
 * @example
 * const toolCalls = createToolCallAccumulator();
 * for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
 *   toolCalls.add({ key: call.index, callId: call.id, toolName: call.function?.name, argumentsDelta: call.function?.arguments });
 * }
 * const parts = toolCalls.parts();
 */
export function createToolCallAccumulator(options: ToolCallAccumulatorOptions = {}): ToolCallAccumulator {
  const limit = options.maxArgumentCharacters ?? DEFAULT_MAX_ARGUMENT_CHARACTERS;
  const calls = new Map<string, PendingCall>();

  const tooLong = (key: string, length: number): ProviderCallError =>
    new ProviderCallError(
      classifyProviderFailure({
        kind: "stream",
        code: "tool_arguments_too_large",
        message: `the arguments of streamed tool call ${JSON.stringify(key)} grew to ${length} characters, past the limit of ${limit}`,
        retryable: false,
      }),
    );

  return {
    add(delta: ToolCallDelta): void {
      const key = String(delta.key);
      let call = calls.get(key);
      if (call === undefined) {
        call = { callId: "", toolName: "", argumentsText: "", replay: undefined };
        calls.set(key, call);
      }
      if (call.callId === "" && typeof delta.callId === "string") call.callId = delta.callId;
      if (call.toolName === "" && typeof delta.toolName === "string") call.toolName = delta.toolName;
      if (typeof delta.arguments === "string") {
        if (delta.arguments.length > limit) throw tooLong(key, delta.arguments.length);
        call.argumentsText = delta.arguments;
      } else if (typeof delta.argumentsDelta === "string" && delta.argumentsDelta.length > 0) {
        const length = call.argumentsText.length + delta.argumentsDelta.length;
        if (length > limit) throw tooLong(key, length);
        call.argumentsText += delta.argumentsDelta;
      }
      if (delta.replay !== undefined) call.replay = { ...call.replay, ...delta.replay };
    },
    has(key: string | number): boolean {
      return calls.has(String(key));
    },
    get size(): number {
      return calls.size;
    },
    parts(): ToolCallPart[] {
      return [...calls.entries()].map(([key, call]) => {
        const part: ToolCallPart = {
          type: "tool_call",
          callId: call.callId === "" ? `call_${key}` : call.callId,
          toolName: call.toolName,
          inputJson: call.argumentsText,
        };
        if (call.replay !== undefined) part.replay = call.replay;
        return part;
      });
    },
  };
}
