import type {
  AssembledTurn,
  CheckpointKind,
  ChildSessionRequest,
  JsonValue,
  LlmResponse,
  Message,
  PluginMessage,
  PluginRuntimeEvent,
  PromptContribution,
  PromptUsage,
  SessionAccess,
  SessionPolicy,
  SessionStateEnvelope,
  ToolCallOutput,
  ToolCallRecord,
  ToolProvider,
  TurnContext,
} from "@lash/protocol";

/**
 * What a plugin hook asks the runtime to do. Which directives a hook may return is fixed per hook;
 * a directive a hook may not return is a plugin contract error.
 *
 * | directive | beforeTurn | atCheckpoint | beforeToolCall | afterToolCall | afterTurn |
 * | --- | --- | --- | --- | --- | --- |
 * | `enqueue_messages` | prepended to the turn | committed | error result | committed at next checkpoint | appended to the returned state |
 * | `abort_turn` | aborts (`plugin_abort`) | aborts (`plugin_abort`) | error result | error result | contract error |
 * | `emit_runtime_events` | yes | yes | yes | yes | yes |
 * | `create_session` | yes | yes | yes | yes | yes |
 * | `replace_tool_args` | contract error | contract error | swaps the args | error result | contract error |
 * | `short_circuit_tool` | contract error | contract error | skips the tool | replaces the result | contract error |
 * | `handoff_session` | contract error | contract error | error result | error result | contract error |
 */
export type PluginDirective =
  | { readonly type: "enqueue_messages"; readonly messages: readonly PluginMessage[] }
  | { readonly type: "abort_turn"; readonly code: string; readonly message: string }
  | { readonly type: "emit_runtime_events"; readonly events: readonly PluginRuntimeEvent[] }
  | { readonly type: "create_session"; readonly request: ChildSessionRequest }
  | { readonly type: "replace_tool_args"; readonly args: JsonValue }
  | { readonly type: "short_circuit_tool"; readonly output: ToolCallOutput }
  | { readonly type: "handoff_session"; readonly sessionId: string };

/** What a directive-returning hook returns. */
export type PluginHookResult = readonly PluginDirective[] | undefined | void | Promise<readonly PluginDirective[] | undefined | void>;

/** The turn's context as a context transform sees it. */
export interface PreparedContext {
  /** History plus the new user message; transforms may rewrite it (compaction, rolling windows). */
  readonly messages: readonly Message[];
  readonly promptContributions: readonly PromptContribution[];
  /** Extra tool providers for this turn. */
  readonly toolProviders: readonly ToolProvider[];
  /** False hides the runtime's configured tools for this turn. */
  readonly includeBaseTools: boolean;
}

export interface TurnTransformContext {
  readonly sessionId: string;
  readonly state: SessionStateEnvelope;
  /** Prompt usage of the previous turn's last model call. */
  readonly promptUsage: PromptUsage | undefined;
  readonly maxContextTokens: number;
  readonly turnContext: TurnContext | undefined;
}

export interface BeforeTurnRequest {
  readonly sessionId: string;
  readonly state: SessionStateEnvelope;
  readonly messages: readonly Message[];
  readonly turnContext: TurnContext | undefined;
  readonly sessions: SessionAccess;
}

export interface CheckpointRequest {
  readonly sessionId: string;
  readonly kind: CheckpointKind;
  readonly modeIteration: number;
  readonly messages: readonly Message[];
  readonly sessions: SessionAccess;
}

export interface ToolHookRequest {
  readonly sessionId: string;
  readonly callId: string | undefined;
  readonly toolName: string;
  readonly args: JsonValue;
  readonly sessions: SessionAccess;
}

export interface AfterToolHookRequest extends ToolHookRequest {
  readonly output: ToolCallOutput;
}

/** A streamed chunk of assistant text, as stream hooks see it. */
export interface AssistantStreamChunk {
  readonly sessionId: string;
  readonly modeIteration: number;
  readonly text: string;
}

/** What a stream hook makes of a chunk. */
export interface AssistantStreamTransform {
  /** The chunk to pass on (may be empty to swallow it). */
  readonly text: string;
  /** Reasoning deltas to surface instead of (or beside) prose. */
  readonly reasoningDeltas?: readonly string[];
  /** Stop the model call now (the runtime keeps what streamed and ends the call as `stop`). */
  readonly abortStream?: boolean;
  readonly events?: readonly PluginRuntimeEvent[];
}

export interface AssistantResponseContext {
  readonly sessionId: string;
  readonly modeIteration: number;
}

export interface PromptContributionContext {
  readonly sessionId: string;
  readonly policy: SessionPolicy;
  readonly toolNames: readonly string[];
}

/** What `afterTurn` hooks see. */
export interface TurnResultSummary {
  readonly sessionId: string;
  readonly turnIndex: number;
  readonly turn: AssembledTurn;
}

/** Session lifecycle notifications. */
export type PluginLifecycleEvent =
  | { readonly type: "session_config_changed"; readonly previous: SessionPolicy; readonly current: SessionPolicy }
  | { readonly type: "turn_committed"; readonly turn: AssembledTurn }
  | { readonly type: "turn_persisted"; readonly turn: AssembledTurn }
  | { readonly type: "session_restored"; readonly sessionId: string };

/**
 * A plugin: an id and any subset of hooks. Hooks run in registration order (context transforms in
 * `priority` order, lower first). A hook that throws fails the turn with the hook's error code
 * (`context_prepare_turn`, `plugin_prepare_turn`, `plugin_finalize_turn`) or, inside a tool call,
 * fails that call only.
 */
export interface LashPlugin {
  readonly id: string;
  /** Order of `transformTurnContext` among plugins (default 0, lower first). */
  readonly priority?: number;
  transformTurnContext?(context: TurnTransformContext, prepared: PreparedContext): PreparedContext | Promise<PreparedContext>;
  beforeTurn?(request: BeforeTurnRequest): PluginHookResult;
  atCheckpoint?(request: CheckpointRequest): PluginHookResult;
  beforeToolCall?(request: ToolHookRequest): PluginHookResult;
  afterToolCall?(request: AfterToolHookRequest): PluginHookResult;
  /** What the model sees of a tool result (the recorded output is unchanged); `undefined` keeps the default. */
  projectToolResult?(record: ToolCallRecord): string | undefined | Promise<string | undefined>;
  transformAssistantStream?(chunk: AssistantStreamChunk): AssistantStreamTransform | undefined;
  transformAssistantResponse?(response: LlmResponse, context: AssistantResponseContext): LlmResponse | Promise<LlmResponse>;
  promptContributions?(context: PromptContributionContext): readonly PromptContribution[] | Promise<readonly PromptContribution[]>;
  afterTurn?(summary: TurnResultSummary): PluginHookResult;
  onLifecycleEvent?(event: PluginLifecycleEvent): void | Promise<void>;
}
