export type {
  ApprovalAnswer,
  ApprovalDecision,
  ApprovalDecisionKind,
  ApprovalHandler,
  ApprovalRequest,
  ApprovalResolution,
  ApprovalSource,
  ToolCallApproval,
} from "./approvals.js";
export {
  APPROVAL_EXPIRED_REASON,
  APPROVAL_REJECTED_CODE,
  APPROVAL_REQUIRED_CODE,
  approvalAnswerSchema,
  approvalDecisionKindSchema,
  approvalDecisionSchema,
  approvalRequestSchema,
  approvalResolutionSchema,
  approvalSourceSchema,
  toolCallApprovalSchema,
} from "./approvals.js";
export type { AttachmentGcReport, AttachmentStat } from "./attachment-rules.js";
export {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_REFERENCE_MARKERS,
  ATTACHMENT_TEXT_REFERENCE_PREFIX,
  attachmentByteLimit,
  attachmentGcMinimumAge,
  attachmentGcReportSchema,
  attachmentStatSchema,
  attachmentTextReference,
  checkAttachmentPut,
  collectAttachmentIds,
  DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  detectImageMediaType,
  isAttachmentId,
  MEDIA_TYPE_SIGNATURE_BYTES,
  TEXT_ATTACHMENT_MEDIA_TYPE,
} from "./attachment-rules.js";
export * from "./background/index.js";
export { ApprovalAlreadyDecidedError, ApprovalConflictError, ApprovalNotFoundError } from "./errors/approval-errors.js";
export { AttachmentMediaTypeError, AttachmentNotFoundError, AttachmentTooLargeError } from "./errors/attachment-errors.js";
export type { LashErrorCode, LashErrorOptions } from "./errors/lash-error.js";
export { LashError, markerFor } from "./errors/lash-error.js";
export { ProviderCallError } from "./errors/provider-call-error.js";
export { RuntimeError } from "./errors/runtime-error.js";
export {
  CommitIdConflictError,
  HeadRevisionConflictError,
  InvalidPersistedDataError,
  SessionBindingMismatchError,
  StoreUnavailableError,
  UnsupportedReadScopeError,
} from "./errors/store-errors.js";
export { ToolError } from "./errors/tool-error.js";
export type {
  AcceptedInjectedTurnInput,
  CheckpointKind,
  ErrorEnvelope,
  PluginRuntimeEvent,
  SessionEvent,
  SessionEventType,
  TurnActivity,
  TurnActivityId,
  TurnEvent,
  TurnEventType,
} from "./events.js";
export {
  acceptedInjectedTurnInputSchema,
  checkpointKindSchema,
  errorEnvelopeSchema,
  pluginRuntimeEventSchema,
  sessionEventSchema,
  turnActivityIdSchema,
  turnActivitySchema,
  turnEventSchema,
} from "./events.js";
export type { SessionGraph, SessionNodePayload, SessionNodeRecord } from "./graph.js";
export { sessionGraphSchema, sessionNodePayloadSchema, sessionNodeRecordSchema } from "./graph.js";
export type { JsonObject, JsonValue } from "./json.js";
export { compareCodePoints, jsonTextDepth, jsonValueSchema, stableStringify } from "./json.js";
export type {
  AttachmentRef,
  Message,
  MessageOrigin,
  MessagePart,
  MessagePartKind,
  MessageRole,
  PluginMessage,
  ReasoningReplay,
  ResponseMeta,
  ToolCallReplay,
} from "./messages.js";
export {
  attachmentRefSchema,
  messageOriginSchema,
  messagePartSchema,
  messageRoleSchema,
  messageSchema,
  pluginMessageSchema,
  reasoningReplaySchema,
  responseMetaSchema,
  toolCallReplaySchema,
} from "./messages.js";
export type { AttachmentGcOptions, AttachmentPutOptions, AttachmentStore } from "./ports/attachment-store.js";
export type { EventSink, TurnActivitySink } from "./ports/event-sinks.js";
export type {
  LlmStreamPart,
  ModelProvider,
  ProviderCallOptions,
  ProviderRetryPolicy,
} from "./ports/model-provider.js";
export {
  DEFAULT_PROVIDER_RETRY_POLICY,
  MODEL_PROVIDER_SPECIFICATION_VERSION,
} from "./ports/model-provider.js";
export type { ModeSessionExtension, ModeTurnExtension } from "./ports/modes.js";
export type { SessionStore, SessionStoreFactory } from "./ports/session-store.js";
export type {
  ChildSessionRequest,
  FirstTurnInput,
  JsonSchemaObject,
  SessionAccess,
  StandardSchemaV1,
  StandardSchemaV1Result,
  ToolApprovalDescriber,
  ToolApprovalPredicate,
  ToolContext,
  ToolDefinition,
  ToolExecuteResult,
  ToolInputSchema,
  ToolProvider,
  ToolResultEnvelope,
} from "./ports/tool-provider.js";
export { toolResult } from "./ports/tool-provider.js";
export type { TraceSink } from "./ports/trace-sink.js";
export type {
  LlmAttachment,
  LlmBlock,
  LlmMessage,
  LlmOutputPart,
  LlmOutputSpec,
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
  LlmTerminalReason,
  LlmToolChoice,
  LlmToolSpec,
  LlmUsage,
  ProviderFailure,
  ProviderFailureKind,
} from "./provider-schemas.js";
export {
  llmAttachmentSchema,
  llmBlockSchema,
  llmMessageSchema,
  llmOutputPartSchema,
  llmOutputSpecSchema,
  llmRequestSchema,
  llmResponseSchema,
  llmStreamEventSchema,
  llmTerminalReasonSchema,
  llmToolChoiceSchema,
  llmToolSpecSchema,
  llmUsageSchema,
  providerFailureKindSchema,
  providerFailureSchema,
} from "./provider-schemas.js";
export type {
  ModeTurnOptions,
  PersistedSessionConfig,
  PersistedSessionState,
  PersistedTurnState,
  PromptContribution,
  PromptLayer,
  PromptSlot,
  SessionPolicy,
  SessionRelation,
  SessionStateEnvelope,
} from "./session.js";
export {
  modeTurnOptionsSchema,
  PERSISTED_SESSION_SCHEMA_VERSION,
  persistedSessionConfigSchema,
  persistedSessionStateSchema,
  persistedTurnStateSchema,
  promptContributionSchema,
  promptLayerSchema,
  promptSlotSchema,
  sessionPolicySchema,
  sessionRelationSchema,
  sessionStateEnvelopeSchema,
} from "./session.js";
export type { StoredGraphLookups } from "./store-commit-rules.js";
export { checkExpectedHeadRevision, checkGraphCommitDelta, commitLeafCandidate, defaultSessionMeta } from "./store-commit-rules.js";
export type {
  GcReport,
  GraphCommitDelta,
  PersistedSessionRead,
  SessionCheckpoint,
  SessionCommit,
  SessionCommitDurability,
  SessionCommitResult,
  SessionListPage,
  SessionListQuery,
  SessionMeta,
  SessionReadScope,
  SessionStoreCreateRequest,
  SessionSummary,
  VacuumReport,
} from "./store-schemas.js";
export {
  gcReportSchema,
  graphCommitDeltaSchema,
  persistedSessionReadSchema,
  sessionCheckpointSchema,
  sessionCommitDurabilitySchema,
  sessionCommitResultSchema,
  sessionCommitSchema,
  sessionListPageSchema,
  sessionListQuerySchema,
  sessionMetaSchema,
  sessionReadScopeSchema,
  sessionStoreCreateRequestSchema,
  sessionSummarySchema,
  vacuumReportSchema,
} from "./store-schemas.js";
export type { SuspendedApproval, SuspendedToolCall, SuspendedToolResult, SuspendedTurn } from "./suspended-turn.js";
export { suspendedApprovalSchema, suspendedToolCallSchema, suspendedToolResultSchema, suspendedTurnSchema } from "./suspended-turn.js";
export type { StopCondition, TerminationPolicy, TurnProgressSnapshot } from "./termination.js";
export { defaultTerminationPolicy, terminationPolicySchema } from "./termination.js";
export type {
  ToolCallOutcome,
  ToolCallOutput,
  ToolCallRecord,
  ToolCancellation,
  ToolControl,
  ToolExecutionMode,
  ToolFailure,
  ToolFailureClass,
  ToolFailureSource,
  ToolRetryHint,
  ToolRetryPolicy,
} from "./tools.js";
export {
  toolCallOutcomeSchema,
  toolCallOutputSchema,
  toolCallRecordSchema,
  toolCancellationSchema,
  toolControlSchema,
  toolExecutionModeSchema,
  toolFailureClassSchema,
  toolFailureSchema,
  toolFailureSourceSchema,
  toolRetryHintSchema,
  toolRetryPolicySchema,
} from "./tools.js";
export type { TraceError, TraceLevel, TraceRecord, TraceRecordType, TraceStreamSummary } from "./trace-schemas.js";
export {
  traceErrorSchema,
  traceLevelSchema,
  traceRecordSchema,
  traceStreamSummarySchema,
} from "./trace-schemas.js";
export type {
  AssembledTurn,
  AssistantOutput,
  CodeOutputRecord,
  ExecutionSummary,
  FollowedTurn,
  InputItem,
  OutputState,
  TurnBudget,
  TurnFinish,
  TurnIssue,
  TurnOutcome,
  TurnStop,
} from "./turn.js";
export {
  assembledTurnSchema,
  assistantOutputSchema,
  codeOutputRecordSchema,
  executionSummarySchema,
  finalTurn,
  followedTurnSchema,
  handoffCount,
  inputItemSchema,
  outputStateSchema,
  turnBudgetSchema,
  turnFinishSchema,
  turnInputSchema,
  turnIssueSchema,
  turnOutcomeSchema,
  turnStopSchema,
} from "./turn.js";
export type { TurnContext, TurnInput } from "./turn-input.js";
export type { PromptUsage, TokenLedgerEntry, TokenUsage } from "./usage.js";
export {
  addTokenUsage,
  emptyTokenUsage,
  isEmptyTokenUsage,
  mergeTokenLedger,
  normalizePromptUsage,
  promptUsageSchema,
  sameLedgerKey,
  subtractTokenUsage,
  tokenLedgerEntrySchema,
  tokenUsageSchema,
  totalTokens,
} from "./usage.js";
