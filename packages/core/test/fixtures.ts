// Shared fixtures of the core tests: tools, sinks and a runtime factory.
import type {
  EventSink,
  JsonValue,
  LlmOutputPart,
  LlmUsage,
  ProviderRetryPolicy,
  SessionEvent,
  SessionStore,
  SessionStoreFactory,
  TerminationPolicy,
  ToolControl,
  ToolDefinition,
  TurnActivity,
  TurnActivitySink,
} from "@lash/protocol";
import { toolResult } from "@lash/protocol";
import { ScriptedProvider, type ScriptedProviderOptions, type ScriptedStep, toolCallStep, usage } from "@lash/testkit";
import { type LashPlugin, LashRuntime, type SessionPolicyInput } from "../src/index.js";

export const MODEL = "mock-model";

/** `echo_tool{value}` → `{payload: "raw:<value>"}` (strict schema). */
export const echoTool: ToolDefinition<{ value: string }> = {
  name: "echo_tool",
  description: "Echo a value.",
  inputSchema: {
    type: "object",
    properties: { value: { type: "string" } },
    required: ["value"],
    additionalProperties: false,
  },
  execute: (input) => ({ payload: `raw:${input.value}` }),
};

/** `terminal_tool_{index}` returns a success carrying `control`. */
export function terminalTool(index: number, control: ToolControl, payload: JsonValue = null): ToolDefinition<JsonValue> {
  return {
    name: `terminal_tool_${index}`,
    description: "Ends the turn.",
    inputSchema: { type: "object" },
    execute: () => toolResult.success(payload, control),
  };
}

/** A tool that runs for `ms` unless its signal aborts; records whether it saw the abort. */
export function slowTool(ms = 10_000): ToolDefinition<JsonValue> & { sawCancellation: boolean; started: Promise<void> } {
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const tool = {
    name: "slow_tool",
    description: "Takes a long time.",
    inputSchema: { type: "object" },
    sawCancellation: false,
    started,
    execute: (_input: JsonValue, context: { signal: AbortSignal }) =>
      new Promise<JsonValue>((resolve, reject) => {
        markStarted();
        const timer = setTimeout(() => resolve("finished"), ms);
        context.signal.addEventListener("abort", () => {
          tool.sawCancellation = true;
          clearTimeout(timer);
          reject(new Error("cancelled"));
        });
      }),
  };
  return tool as ToolDefinition<JsonValue> & { sawCancellation: boolean; started: Promise<void> };
}

/** A tool that records the input of every execution and answers `ran <count>`. */
export function countingTool(name = "count_tool"): { tool: ToolDefinition<JsonValue>; executions: JsonValue[] } {
  const executions: JsonValue[] = [];
  const tool: ToolDefinition<JsonValue> = {
    name,
    description: "Counts its executions.",
    inputSchema: { type: "object" },
    execute: (input) => {
      executions.push(input);
      return `ran ${executions.length}`;
    },
  };
  return { tool, executions };
}

export class RecordingSink implements EventSink {
  readonly events: SessionEvent[] = [];
  emit(event: SessionEvent): void {
    this.events.push(event);
  }
  ofType<T extends SessionEvent["type"]>(type: T): Extract<SessionEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<SessionEvent, { type: T }> => event.type === type);
  }
}

export class RecordingActivities implements TurnActivitySink {
  readonly activities: TurnActivity[] = [];
  emit(activity: TurnActivity): void {
    this.activities.push(activity);
  }
  ofType<T extends TurnActivity["type"]>(type: T): Extract<TurnActivity, { type: T }>[] {
    return this.activities.filter((activity): activity is Extract<TurnActivity, { type: T }> => activity.type === type);
  }
  types(): string[] {
    return this.activities.map((activity) => activity.type);
  }
}

export function llmUsage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): LlmUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

export function toolCallPart(callId: string, toolName: string, args: JsonValue | string): LlmOutputPart {
  return { type: "tool_call", callId, toolName, inputJson: typeof args === "string" ? args : JSON.stringify(args) };
}

/** Retries without waiting, so retry tests need no timers (tests of the waits use fake timers). */
export const IMMEDIATE_RETRY: ProviderRetryPolicy = {
  enabled: true,
  maxAttempts: 4,
  baseDelayMs: 0,
  maxDelayMs: 0,
  jitterMs: 0,
  retryAfterCapMs: 0,
};

export interface RuntimeFixtureOptions {
  readonly steps: readonly ScriptedStep[];
  readonly tools?: readonly ToolDefinition<unknown>[];
  readonly plugins?: readonly LashPlugin[];
  readonly store?: SessionStore;
  readonly storeFactory?: SessionStoreFactory;
  readonly sessionId?: string;
  readonly policy?: SessionPolicyInput;
  readonly termination?: TerminationPolicy;
  readonly retryPolicy?: ProviderRetryPolicy;
  readonly providerOptions?: ScriptedProviderOptions;
}

/** A runtime on a scripted provider: model "mock-model", 200,000-token context, session "root". */
export async function createRuntime(options: RuntimeFixtureOptions): Promise<{ runtime: LashRuntime; provider: ScriptedProvider }> {
  const provider = new ScriptedProvider(options.steps, { defaultModel: MODEL, providerId: "mock", ...options.providerOptions });
  let builder = LashRuntime.builder()
    .withSessionId(options.sessionId ?? "root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000, ...options.policy })
    .withProvider(provider)
    .withProviderRetryPolicy(options.retryPolicy ?? IMMEDIATE_RETRY);
  if (options.tools) builder = builder.withTools(options.tools);
  if (options.plugins) builder = builder.withPlugins(options.plugins);
  if (options.termination) builder = builder.withTermination(options.termination);
  if (options.storeFactory) builder = builder.withSessionStoreFactory(options.storeFactory);
  const runtime = await (options.store ? builder.withStore(options.store) : builder).build();
  return { runtime, provider };
}

/** The text parts of the active messages of a role, one string per message. */
export function messageTexts(runtime: LashRuntime, role: "user" | "assistant" | "system"): string[] {
  return runtime
    .activeMessages()
    .filter((message) => message.role === role)
    .map((message) => message.parts.map((part) => ("content" in part ? part.content : "")).join(""));
}

/** A step whose response calls `count_tool` once per id. */
export function countStep(callIds: readonly string[], stepUsage = usage(0, 0)): ScriptedStep {
  return toolCallStep(
    callIds.map((callId) => ({ callId, name: "count_tool", args: { id: callId } })),
    { usage: stepUsage },
  );
}

/** A termination policy with `limits` that treats a missing done as a failure. */
export function terminationPolicy(limits: Partial<TerminationPolicy>): TerminationPolicy {
  return { treatMissingDoneAsFailure: true, ...limits };
}
