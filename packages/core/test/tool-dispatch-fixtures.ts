// What the tool-dispatch tests share: runs of one call through a real runtime, batches run
// directly with recorded sleeps, and tools that count or fail on purpose.
import type { JsonValue, LlmRequest, SessionAccess, ToolCallOutput, ToolDefinition, ToolRetryPolicy } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { type ScriptedStep, textStep } from "@lash/testkit";
import { createBatchTool } from "../src/modes/batch-tool.js";
import type { PendingToolCall } from "../src/modes/execution-mode.js";
import type { LashPlugin } from "../src/plugins/plugin.js";
import { PluginHost } from "../src/plugins/plugin-host.js";
import { runToolBatch } from "../src/tools/tool-batch.js";
import { createToolProvider, ToolSurface } from "../src/tools/tool-surface.js";
import { TurnEventPipe } from "../src/turn/event-pipe.js";
import { TurnAssembler } from "../src/turn/turn-assembler.js";
import { textInput } from "../src/turn/turn-input-builders.js";
import { createRuntime, RecordingActivities, RecordingSink, toolCallPart } from "./fixtures.js";

/** A model step that calls one tool. */
export function callStep(callId: string, toolName: string, args: JsonValue | string): ScriptedStep {
  return { response: { parts: [toolCallPart(callId, toolName, args)], terminalReason: "tool_use" } };
}

/** Runs one turn: the model calls `toolName` with `args`, then answers "done". */
export async function runOneCall(options: {
  toolName: string;
  args: JsonValue | string;
  tools: readonly ToolDefinition<unknown>[];
  plugins?: readonly LashPlugin[];
}) {
  const { runtime, provider } = await createRuntime({
    steps: [callStep("call-1", options.toolName, options.args), textStep("done")],
    tools: options.tools,
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
  const events = new RecordingSink();
  const activities = new RecordingActivities();
  const turn = await runtime.streamTurn(textInput("go"), { events, activities });
  return { turn, runtime, provider, events, activities };
}

/** The tool-result text the model saw on its second call for `callId`. */
export function toolResultText(request: LlmRequest | undefined, callId: string): string | undefined {
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result" && block.callId === callId) return block.content;
  }
  return undefined;
}

export function payloadOf(output: ToolCallOutput | undefined): JsonValue | undefined {
  return output?.outcome.status === "success" ? output.outcome.payload : undefined;
}

export interface BatchResult {
  readonly index: number;
  readonly tool: string;
  readonly success: boolean;
  readonly duration_ms: number;
  readonly result?: JsonValue;
  readonly error?: string;
}

export function batchResults(output: ToolCallOutput | undefined): BatchResult[] {
  const payload = payloadOf(output) as { results?: BatchResult[] } | undefined;
  if (!payload?.results) throw new Error(`expected batch results, got ${JSON.stringify(output)}`);
  return payload.results;
}

export function counting<T>(definition: ToolDefinition<T>): ToolDefinition<T> & { calls: T[] } {
  const calls: T[] = [];
  return {
    ...definition,
    calls,
    execute: (input: T, context) => {
      calls.push(input);
      return definition.execute(input, context);
    },
  };
}

/** A tool that fails `failures` times with the given error, then returns "recovered". */
export function flakyTool(options: {
  failures: number;
  error: () => Error;
  retryPolicy?: ToolRetryPolicy;
  name?: string;
}): ToolDefinition<JsonValue> & { attempts: number } {
  const tool = {
    name: options.name ?? "flaky",
    description: "Fails a few times.",
    inputSchema: { type: "object" },
    attempts: 0,
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    execute: () => {
      tool.attempts += 1;
      if (tool.attempts <= options.failures) throw options.error();
      return "recovered";
    },
  };
  return tool;
}

export const safeError = (afterMs?: number) => () =>
  new ToolError({
    class: "rate_limited",
    code: "try_again",
    message: "busy, try again",
    retry: afterMs === undefined ? { type: "safe" } : { type: "safe", afterMs },
  });

export const noSessions: SessionAccess = {
  currentSessionId: "s",
  createSession: async () => "child",
  runTurn: async () => {
    throw new Error("not available in this test");
  },
  closeSession: async () => {},
};

/** Runs a batch directly, with a sleep that records its delays instead of waiting. */
export async function runDirect(
  calls: readonly PendingToolCall[],
  tools: readonly ToolDefinition<unknown>[],
  plugins: readonly LashPlugin[] = [],
) {
  const sleeps: number[] = [];
  const events = new RecordingSink();
  const activities = new RecordingActivities();
  const surface = await ToolSurface.build({ nativeTools: [createBatchTool()], providers: [createToolProvider(tools)] });
  const pipe = new TurnEventPipe(new TurnAssembler({ captureTextDeltas: false }), events, activities);
  const { completed: results } = await runToolBatch(calls, {
    surface,
    plugins: new PluginHost(plugins),
    sessionId: "s",
    turnIndex: 1,
    sessions: noSessions,
    signal: new AbortController().signal,
    emit: (event) => pipe.session(event),
    enqueueMessages: () => {},
    sleep: async (milliseconds) => {
      sleeps.push(milliseconds);
    },
    now: () => 0,
    pipe,
    turnId: "t",
    approve: undefined,
    expiresInMs: undefined,
  });
  return { results, sleeps, events, activities };
}

export function pending(callId: string, toolName: string, args: JsonValue): PendingToolCall {
  return { callId, toolName, inputJson: JSON.stringify(args) };
}

// ---------------------------------------------------------------------------------------------
