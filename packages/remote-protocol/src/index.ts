// The lash server's /v1 wire contract: request and response bodies as zod schemas (and their
// inferred types), the one error shape, and the OpenAPI document generated from them.

export type { ErrorBody, HttpErrorCode, RemoteErrorCode } from "./error-schemas.js";
export { errorBodySchema, HTTP_ERROR_CODES, LASH_ERROR_CODES, remoteErrorCodeSchema } from "./error-schemas.js";
export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionLash,
  ChatCompletionRequest,
  ChatCompletionUsage,
  ChatContentPart,
  ChatFinishReason,
  ChatMessage,
  OpenAiErrorBody,
} from "./openai-chat-schemas.js";
export {
  CHAT_FINISH_REASONS,
  CHAT_MESSAGE_ROLES,
  chatCompletionChunkSchema,
  chatCompletionLashSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  chatCompletionUsageSchema,
  chatContentPartSchema,
  chatMessageSchema,
  LASH_AWAITING_APPROVAL_HEADER,
  LASH_SESSION_ID_HEADER,
  MAX_CHAT_CONTENT_PARTS,
  MAX_CHAT_MESSAGES,
  MAX_CHAT_MODEL_LENGTH,
  openAiErrorBodySchema,
  SESSION_ID_METADATA_KEY,
} from "./openai-chat-schemas.js";
export type { JsonSchemaObject } from "./openapi-components.js";
export type { OpenApiDocument, OpenApiDocumentOptions } from "./openapi-document.js";
export { createOpenApiDocument, REMOTE_PROTOCOL_VERSION } from "./openapi-document.js";
export { renderApiReferencePage } from "./openapi-reference-page.js";
export type { ChildSession, SessionGraphResponse, TurnTraceListResponse, TurnTraceResponse } from "./session-graph-schemas.js";
export {
  childSessionSchema,
  sessionGraphResponseSchema,
  turnTraceListResponseSchema,
  turnTraceResponseSchema,
} from "./session-graph-schemas.js";
export type {
  CreateSessionRequest,
  DeleteSessionResponse,
  ListSessionsQuery,
  SessionListItem,
  SessionListResponse,
  SessionMetadata,
  SessionResource,
  SessionState,
} from "./session-schemas.js";
export {
  ATTACHMENT_RESPONSE_HEADERS,
  attachmentIdSchema,
  createSessionRequestSchema,
  deleteSessionResponseSchema,
  listSessionsQuerySchema,
  MAX_ID_LENGTH,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
  profileNameSchema,
  resourceIdSchema,
  sessionListItemSchema,
  sessionListResponseSchema,
  sessionMetadataSchema,
  sessionResourceSchema,
  sessionStateSchema,
} from "./session-schemas.js";
export type { ListTasksQuery, TaskListResponse, TaskResource } from "./task-schemas.js";
export { listTasksQuerySchema, MAX_TASK_PAGE_SIZE, TASK_LIST_STATES, taskListResponseSchema, taskResourceSchema } from "./task-schemas.js";
export type {
  ApprovalDecisionRequest,
  ApprovalListResponse,
  TurnInputItem,
  TurnRequest,
  TurnResult,
  TurnStartedEvent,
  TurnStreamEvent,
  TurnStreamEventName,
} from "./turn-schemas.js";
export {
  approvalDecisionRequestSchema,
  approvalListResponseSchema,
  MAX_DECISION_REASON_LENGTH,
  MAX_IMAGE_ITEMS,
  MAX_INPUT_ITEMS,
  TURN_STREAM_EVENTS,
  turnInputItemSchema,
  turnRequestSchema,
  turnResultSchema,
  turnStartedEventSchema,
  turnStreamEventSchema,
} from "./turn-schemas.js";
export type { UiChatRequest, UiMessage, UiToolApprovalResponsePart } from "./ui-chat-schemas.js";
export {
  MAX_UI_MESSAGE_PARTS,
  MAX_UI_MESSAGES,
  UI_MESSAGE_STREAM_HEADER,
  uiChatRequestSchema,
  uiMessagePartSchema,
  uiMessageSchema,
  uiTextPartSchema,
  uiToolApprovalResponsePartSchema,
} from "./ui-chat-schemas.js";
export type {
  HealthResponse,
  PriceBasis,
  ReadinessResponse,
  TenantUsageQuery,
  TenantUsageReport,
  UsageReport,
  UsageTotals,
} from "./usage-schemas.js";
export {
  healthResponseSchema,
  PRICE_BASES,
  readinessResponseSchema,
  tenantUsageQuerySchema,
  tenantUsageReportSchema,
  usageReportSchema,
  usageTotalsSchema,
} from "./usage-schemas.js";
