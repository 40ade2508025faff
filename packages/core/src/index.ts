// Runtime

export type {
  AssembledTurn,
  AssistantOutput,
  CodeOutputRecord,
  EventSink,
  ExecutionSummary,
  FollowedTurn,
  InputItem,
  ModeSessionExtension,
  ModeTurnExtension,
  OutputState,
  PersistedSessionState,
  PromptUsage,
  SessionEvent,
  SessionStateEnvelope,
  StopCondition,
  TerminationPolicy,
  TokenLedgerEntry,
  TokenUsage,
  TurnActivity,
  TurnActivityId,
  TurnActivitySink,
  TurnContext,
  TurnEvent,
  TurnFinish,
  TurnInput,
  TurnIssue,
  TurnOutcome,
  TurnStop,
} from "@lash/protocol";
// The turn engine's public items, re-exported from the protocol so hosts need one import.
export {
  CommitIdConflictError,
  defaultTerminationPolicy,
  finalTurn,
  HeadRevisionConflictError,
  handoffCount,
  LashError,
  ProviderCallError,
  RuntimeError,
  SessionBindingMismatchError,
  ToolError,
  toolResult,
} from "@lash/protocol";
// Context management: rolling history, compaction, tool-output budget
export { COMPACTION_PROMPT } from "./context/compaction-prompt.js";
export type { CompactionPlan, ContextFit, ContextFitRequest, ContextManager } from "./context/context-manager.js";
export { CONTEXT_ORIGIN_ID, isSummaryMessage } from "./context/context-messages.js";
export type { CompactOptions, CompactResult } from "./context/manual-compaction.js";
export type { RollingHistoryCompactionOptions, RollingHistoryOptions } from "./context/rolling-history.js";
export { rollingHistory } from "./context/rolling-history.js";
export {
  CHARACTERS_PER_TOKEN,
  estimateMessageTokens,
  estimateTextTokens,
  IMAGE_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
} from "./context/token-estimate.js";
export { READ_TOOL_OUTPUT_NAME } from "./context/tool-output-budget.js";
export type { ToolOutputBudgetOptions, ToolOutputLimit } from "./context/tool-output-limits.js";
export { BATCH_TOOL_NAME } from "./modes/batch-tool.js";
export type {
  CheckpointOnEmpty,
  CodeExecutionContext,
  CodeToolCallResult,
  CompletedToolCall,
  DriverAction,
  DriverContext,
  ExecResult,
  ExecutionMode,
  ModeLlmCallAction,
  ModePreamble,
  ModePreambleInput,
  ModeTurnSetup,
  PendingToolCall,
  ProtocolDriver,
} from "./modes/execution-mode.js";
export { ModeSessionExtensionHandle, ModeTurnExtensionHandle } from "./modes/execution-mode.js";
// Modes
export { createStandardMode, createStandardProtocolDriver } from "./modes/standard-mode.js";
export type {
  AfterToolHookRequest,
  AssistantResponseContext,
  AssistantStreamChunk,
  AssistantStreamTransform,
  BeforeTurnRequest,
  CheckpointRequest,
  LashPlugin,
  PluginDirective,
  PluginHookResult,
  PluginLifecycleEvent,
  PreparedContext,
  PromptContributionContext,
  ToolHookRequest,
  TurnResultSummary,
  TurnTransformContext,
} from "./plugins/plugin.js";
// Plugins
export { PluginHost } from "./plugins/plugin-host.js";
// Prompt
export { buildSystemPrompt, DEFAULT_PROMPT_INTRO } from "./prompt/prompt-builder.js";
export { projectRequest } from "./prompt/request-projection.js";
export type { ResumeTurnRequest } from "./runtime/approval-decisions.js";
export type { SessionBackgroundTaskQuery } from "./runtime/background-session-tasks.js";
export { SessionBackgroundTasks } from "./runtime/background-session-tasks.js";
export type { BackgroundRuntimeHost } from "./runtime/background-task-access.js";
export { createBackgroundRuntimeHost } from "./runtime/background-task-access.js";
export type { EffectInvocation, EffectKind, RuntimeEffectHost } from "./runtime/effect-host.js";
export { localEffectHost } from "./runtime/effect-host.js";
export type { SessionConfigUpdate } from "./runtime/lash-runtime.js";
export { LashRuntime, MAX_FOLLOWED_HANDOFFS } from "./runtime/lash-runtime.js";
export { DEFAULT_MAX_CONTEXT_TOKENS, defaultContextWindow, knownContextWindow } from "./runtime/model-context-windows.js";
export type { ParkedSession } from "./runtime/park-resume.js";
export type { Residency } from "./runtime/residency.js";
export { EmbeddedRuntimeBuilder } from "./runtime/runtime-builder.js";
export type { EmbeddedRuntimeHost, RuntimeApprovals, RuntimeCoreConfig } from "./runtime/runtime-core-config.js";
export { createEmbeddedRuntimeHost, createRuntimeCoreConfig } from "./runtime/runtime-core-config.js";
export { RuntimeEnvironment, RuntimeEnvironmentBuilder } from "./runtime/runtime-environment.js";
export type { RuntimeObservation } from "./runtime/runtime-handle.js";
export { RuntimeHandle } from "./runtime/runtime-handle.js";
export type { SessionPolicyInput } from "./runtime/session-assembly.js";
export { unconfiguredProvider } from "./runtime/session-assembly.js";
export type { ManagedSessionOptions, ManagedTurnHandle, ManagedTurnOptions } from "./runtime/session-manager.js";
export { SessionManager } from "./runtime/session-manager.js";
export { NoopEventSink, NoopTurnActivitySink, RecordingEventSink, RecordingTurnActivitySink } from "./runtime/sinks.js";
export type { TurnResult, TurnStreamSource } from "./runtime/turn-stream.js";
export { TurnStream } from "./runtime/turn-stream.js";
export type { InMemoryAttachmentStoreOptions } from "./session/in-memory-attachment-store.js";
export { InMemoryAttachmentStore } from "./session/in-memory-attachment-store.js";
export { InMemorySessionDatabase } from "./session/in-memory-session-database.js";
export type { InMemorySessionStoreOptions } from "./session/in-memory-session-store.js";
// Sessions
export { InMemorySessionStore } from "./session/in-memory-session-store.js";
export { TurnInjectionBridge, TurnInputInjectionBridge } from "./session/injection-bridges.js";
export type { GraphEditorOptions } from "./session/session-graph.js";
export { activeMessagesOf, activeToolCallsOf, SessionGraphEditor } from "./session/session-graph.js";
// Tools
export { defineTool } from "./tools/define-tool.js";
export { MAX_MODEL_JSON_DEPTH } from "./tools/json-depth.js";
export { validateJsonSchema } from "./tools/json-schema-validator.js";
export { createToolProvider } from "./tools/tool-surface.js";
export { projectSessionEvent } from "./turn/event-projection.js";
export { DEFAULT_MAX_OUTPUT_CHARACTERS } from "./turn/llm-call.js";
export { detectImageMediaType } from "./turn/normalize-input.js";
export { classifyOutputState, containsTracebackOnly, sanitizeAssistantText } from "./turn/output-classification.js";
export type { TurnRunOptions } from "./turn/run-turn.js";
export { StandardStreamAccumulator } from "./turn/stream-accumulator.js";
export { toolCallCompletedEvent } from "./turn/suspended-batch.js";
export { TurnAssembler } from "./turn/turn-assembler.js";
export { itemsInput, textInput, withImage } from "./turn/turn-input-builders.js";
export type { TurnMachineConfig, TurnMachineSnapshot } from "./turn/turn-machine.js";
// Turn engine pieces (for hosts that build their own loop, durable effect hosts and tests)
export { TurnMachine } from "./turn/turn-machine.js";
export { emptyResponseStop, finalAnswerActions, turnLimitMessage } from "./turn/turn-machine-messages.js";
export type { CheckpointResult, LlmCallError, LlmCallResult, SurfaceSyncResult, TurnEffect } from "./turn/turn-machine-types.js";
export type { OutputSchema, TurnOutputOption } from "./turn/turn-output.js";
