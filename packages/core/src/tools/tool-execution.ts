import type {
  ChildSessionRequest,
  JsonValue,
  PluginMessage,
  SessionAccess,
  SessionEvent,
  ToolCallOutput,
  ToolContext,
  ToolFailure,
  ToolRetryPolicy,
} from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import type { PluginDirective } from "../plugins/plugin.js";
import type { CollectedDirectives, PluginHost } from "../plugins/plugin-host.js";
import { type NestedToolDispatcher, withNestedDispatch } from "./nested-dispatch.js";
import { validateToolInput } from "./tool-input-schema.js";
import { outputFromReturn, runtimeFailure } from "./tool-output.js";
import type { ResolvedTool, ToolSurface } from "./tool-surface.js";

/** What dispatching a tool call needs from the turn. */
export interface ToolDispatchEnvironment {
  readonly surface: ToolSurface;
  readonly plugins: PluginHost;
  readonly sessionId: string;
  readonly turnIndex: number;
  readonly sessions: SessionAccess;
  /** Aborted when the turn is cancelled. */
  readonly signal: AbortSignal;
  /** Emits a plugin's runtime event (a `plugin_event` activity). */
  readonly emit: (event: SessionEvent) => void | Promise<void>;
  /** Queues messages an `afterToolCall` hook enqueued; they are committed at the next checkpoint. */
  readonly enqueueMessages: (messages: readonly PluginMessage[]) => void;
  readonly sleep: (milliseconds: number, signal: AbortSignal) => Promise<void>;
  readonly now: () => number;
  /** Runs nested calls (given to the mode's own tools, such as `batch`). */
  readonly nestedDispatcher: NestedToolDispatcher;
}

export interface DispatchedToolCall {
  readonly args: JsonValue;
  readonly output: ToolCallOutput;
  readonly durationMs: number;
}

function pluginError(code: string, message: string): ToolCallOutput {
  return { outcome: { status: "failure", payload: { class: "internal", code, message, source: "plugin", retry: { type: "never" } } } };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function applySideDirectives(directives: CollectedDirectives, environment: ToolDispatchEnvironment): Promise<void> {
  for (const { pluginId, event } of directives.events) {
    await environment.emit({ type: "plugin_event", pluginId, event });
  }
  for (const directive of directives.sessions) {
    if (directive.type === "create_session") await environment.sessions.createSession(directive.request as ChildSessionRequest);
  }
}

function failureFromError(error: unknown): ToolFailure {
  if (ToolError.isInstance(error)) return error.toFailure();
  return { class: "internal", code: "tool_execution_failed", message: errorMessage(error), source: "tool", retry: { type: "never" } };
}

function retryDelay(policy: Exclude<ToolRetryPolicy, { type: "never" }>, attempt: number, afterMs: number | undefined): number {
  if (afterMs !== undefined) return afterMs;
  const delay = policy.baseDelayMs * 2 ** attempt;
  return policy.maxDelayMs > 0 ? Math.min(delay, policy.maxDelayMs) : delay;
}

/** Runs the tool with its retry policy; only failures whose hint is `safe` are retried. */
async function executeWithRetry(
  tool: ResolvedTool,
  value: unknown,
  context: ToolContext,
  environment: ToolDispatchEnvironment,
): Promise<ToolCallOutput> {
  const policy = tool.definition.retryPolicy ?? { type: "never" };
  const retryable = policy.type === "safe" || (policy.type === "idempotent" && context.callId !== undefined);
  const attempts = retryable ? Math.max(1, policy.maxAttempts) : 1;
  for (let attempt = 0; ; attempt += 1) {
    let output: ToolCallOutput;
    try {
      output = outputFromReturn(await tool.definition.execute(value as never, context));
    } catch (error) {
      if (environment.signal.aborted) throw error;
      output = { outcome: { status: "failure", payload: failureFromError(error) } };
    }
    const { outcome } = output;
    if (outcome.status !== "failure" || outcome.payload.retry.type !== "safe" || policy.type === "never") return output;
    if (attempt + 1 >= attempts) {
      if (attempts === 1) return output;
      return { ...output, outcome: { status: "failure", payload: { ...outcome.payload, retry: { type: "exhausted", attempts } } } };
    }
    await environment.sleep(retryDelay(policy, attempt, outcome.payload.retry.afterMs), environment.signal);
  }
}

/**
 * Dispatches one tool call, in this order: resolve the tool (unknown → `tool_unavailable`, never
 * executed), `beforeToolCall` hooks, argument validation (→ `invalid_tool_args`; after the hooks, so
 * arguments a hook replaced are validated too), execution with the retry policy, `afterToolCall`
 * hooks. Tool failures are outputs, never exceptions; only an abort of the turn propagates.
 */
export async function dispatchToolCall(
  call: { readonly callId: string | undefined; readonly toolName: string; readonly args: JsonValue; readonly argumentsError?: string },
  environment: ToolDispatchEnvironment,
): Promise<DispatchedToolCall> {
  let { args } = call;
  const tool = environment.surface.get(call.toolName);
  if (!tool) {
    return { args, output: runtimeFailure("unavailable", "tool_unavailable", "Tool is unavailable in this session"), durationMs: 0 };
  }
  const hookRequest = { sessionId: environment.sessionId, callId: call.callId, toolName: call.toolName, sessions: environment.sessions };
  if (!environment.plugins.isEmpty) {
    let before: CollectedDirectives;
    try {
      before = await environment.plugins.beforeToolCall({ ...hookRequest, args });
    } catch (error) {
      return { args, output: pluginError("before_tool_call_failed", errorMessage(error)), durationMs: 0 };
    }
    const shortCircuit = directiveOf(before, "short_circuit_tool");
    const replace = directiveOf(before, "replace_tool_args");
    if (replace) args = replace.args;
    if (before.abort) return { args, output: pluginError(before.abort.code, before.abort.message), durationMs: 0 };
    const misplaced = before.messages.length > 0 || before.rejected.length > 0 || directiveOf(before, "handoff_session");
    if (misplaced)
      return { args, output: pluginError("invalid_plugin_directive", "directive is not valid in beforeToolCall"), durationMs: 0 };
    await applySideDirectives(before, environment);
    if (shortCircuit) return { args, output: shortCircuit.output, durationMs: 0 };
  }
  if (call.argumentsError !== undefined && args === call.args) {
    return { args, output: runtimeFailure("invalid_request", "invalid_tool_args", call.argumentsError), durationMs: 0 };
  }
  const validation = await validateToolInput(tool.definition, args);
  if (!validation.ok) {
    return { args, output: runtimeFailure("invalid_request", "invalid_tool_args", validation.message), durationMs: 0 };
  }
  const baseContext: ToolContext = {
    callId: call.callId,
    toolName: call.toolName,
    sessionId: environment.sessionId,
    turnIndex: environment.turnIndex,
    signal: environment.signal,
    sessions: environment.sessions,
  };
  const context = tool.native ? withNestedDispatch(baseContext, environment.nestedDispatcher) : baseContext;
  const started = environment.now();
  let output = await executeWithRetry(tool, validation.value, context, environment);
  const durationMs = Math.max(0, Math.round(environment.now() - started));
  if (!environment.plugins.isEmpty) {
    let after: CollectedDirectives;
    try {
      after = await environment.plugins.afterToolCall({ ...hookRequest, args, output });
    } catch (error) {
      return { args, output: pluginError("after_tool_call_failed", errorMessage(error)), durationMs };
    }
    const shortCircuit = directiveOf(after, "short_circuit_tool");
    if (after.abort) return { args, output: pluginError(after.abort.code, after.abort.message), durationMs };
    if (after.rejected.length > 0 || directiveOf(after, "replace_tool_args") || directiveOf(after, "handoff_session")) {
      return { args, output: pluginError("invalid_plugin_directive", "directive is not valid in afterToolCall"), durationMs };
    }
    if (after.messages.length > 0) environment.enqueueMessages(after.messages);
    await applySideDirectives(after, environment);
    if (shortCircuit) output = shortCircuit.output;
  }
  return { args, output, durationMs };
}

function directiveOf<T extends PluginDirective["type"]>(
  collected: CollectedDirectives,
  type: T,
): Extract<PluginDirective, { type: T }> | undefined {
  const found = collected.toolDirectives.find(({ directive }) => directive.type === type);
  return found?.directive as Extract<PluginDirective, { type: T }> | undefined;
}
