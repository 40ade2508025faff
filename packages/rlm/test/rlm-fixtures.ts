// Shared fixtures of the RLM tests: a runtime in RLM mode on a scripted model, tools and sinks.
import { LashRuntime, type TerminationPolicy } from "@lash/core";
import type { JsonValue, LlmRequest, SessionEvent, SessionStore, ToolDefinition, TurnActivity } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep, textStep } from "@lash/testkit";
import { createRlmMode, type RlmMode, type RlmModeOptions } from "../src/index.js";

export const MODEL = "scripted-model";

/** A model reply that runs `code` in a cell, after a line of prose. */
export function cellStep(code: string, prose = "Let me compute that."): ScriptedStep {
  return textStep(`${prose}\n\n\`\`\`js\n${code}\n\`\`\``);
}

/** `read_file{path}` answers from a fixed table; an unknown path is a tool failure. */
export function readFileTool(files: Record<string, string>): ToolDefinition<{ path: string }> & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: "read_file",
    description: "Read a file.",
    inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"], additionalProperties: false },
    calls,
    execute: ({ path }) => {
      calls.push(path);
      const content = files[path];
      if (content === undefined) throw new Error(`no such file: ${path}`);
      return { content };
    },
  };
}

/** `echo{value}` → `{ echoed: value }`, counting its calls. */
export function echoTool(): ToolDefinition<{ value?: JsonValue }> & { count: number } {
  const tool = {
    name: "echo",
    description: "Echo a value.",
    inputSchema: { type: "object", properties: { value: {} } },
    count: 0,
    execute: (input: { value?: JsonValue }) => {
      tool.count += 1;
      return { echoed: input.value ?? null };
    },
  };
  return tool;
}

export interface RlmRuntimeOptions {
  readonly steps: readonly ScriptedStep[];
  /** Tool definitions of any input type (each validates its own input). */
  readonly tools?: readonly object[];
  readonly mode?: RlmMode;
  readonly modeOptions?: RlmModeOptions;
  readonly termination?: Partial<TerminationPolicy>;
  readonly store?: SessionStore;
  readonly sessionId?: string;
}

export async function rlmRuntime(options: RlmRuntimeOptions): Promise<{ runtime: LashRuntime; provider: ScriptedProvider; mode: RlmMode }> {
  const provider = new ScriptedProvider(options.steps);
  const mode = options.mode ?? createRlmMode(options.modeOptions);
  let builder = LashRuntime.builder()
    .withProvider(provider)
    .withMode(mode)
    .withPolicy({ executionMode: "rlm", maxContextTokens: 200_000 })
    .withTools((options.tools ?? []) as readonly ToolDefinition<unknown>[])
    .withTermination({ treatMissingDoneAsFailure: true, maxModelCalls: 8, ...options.termination });
  if (options.store) builder = builder.withStore(options.store);
  if (options.sessionId) builder = builder.withSessionId(options.sessionId);
  return { runtime: await builder.build(), provider, mode };
}

/** Collects a turn's activities and session events. */
export function recorders(): {
  activities: TurnActivity[];
  events: SessionEvent[];
  sinks: { activities: { emit(activity: TurnActivity): void }; events: { emit(event: SessionEvent): void } };
} {
  const activities: TurnActivity[] = [];
  const events: SessionEvent[] = [];
  return {
    activities,
    events,
    sinks: { activities: { emit: (activity) => void activities.push(activity) }, events: { emit: (event) => void events.push(event) } },
  };
}

/** The text of every message of a request, one string per message. */
export function requestTexts(request: LlmRequest): string[] {
  return request.messages.map((message) => message.blocks.map((block) => (block.type === "text" ? block.text : "")).join(""));
}
