import {
  approvalRequestSchema,
  jsonValueSchema,
  messageSchema,
  sessionNodeRecordSchema,
  sessionPolicySchema,
  tokenLedgerEntrySchema,
  tokenUsageSchema,
  toolCallRecordSchema,
  traceRecordSchema,
  turnActivitySchema,
  turnIssueSchema,
  turnOutcomeSchema,
} from "@lash/protocol";
import { z } from "zod";
import { errorBodySchema } from "./error-schemas.js";
import {
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  openAiErrorBodySchema,
} from "./openai-chat-schemas.js";
import { sessionGraphResponseSchema, turnTraceListResponseSchema, turnTraceResponseSchema } from "./session-graph-schemas.js";
import {
  createSessionRequestSchema,
  deleteSessionResponseSchema,
  sessionListResponseSchema,
  sessionResourceSchema,
  sessionStateSchema,
} from "./session-schemas.js";
import { taskListResponseSchema, taskResourceSchema } from "./task-schemas.js";
import {
  approvalDecisionRequestSchema,
  approvalListResponseSchema,
  turnRequestSchema,
  turnResultSchema,
  turnStartedEventSchema,
} from "./turn-schemas.js";
import { uiChatRequestSchema } from "./ui-chat-schemas.js";
import { healthResponseSchema, readinessResponseSchema, tenantUsageReportSchema, usageReportSchema } from "./usage-schemas.js";

/** A JSON Schema object, as `z.toJSONSchema` produces it. */
export type JsonSchemaObject = { [key: string]: unknown };

/**
 * The named schemas of the document. Requests are converted as zod *inputs* (what a client may
 * send: optional fields with defaults are optional), responses as *outputs* (what the server
 * sends). `JsonValue` is registered in both so that the recursive type becomes one named component
 * instead of an inline copy in every schema that holds JSON.
 */
const REQUEST_SCHEMAS = {
  CreateSessionRequest: createSessionRequestSchema,
  TurnRequest: turnRequestSchema,
  ApprovalDecisionRequest: approvalDecisionRequestSchema,
  ChatCompletionRequest: chatCompletionRequestSchema,
  UiChatRequest: uiChatRequestSchema,
} as const;

const RESPONSE_SCHEMAS = {
  ErrorBody: errorBodySchema,
  SessionResource: sessionResourceSchema,
  SessionState: sessionStateSchema,
  SessionListResponse: sessionListResponseSchema,
  DeleteSessionResponse: deleteSessionResponseSchema,
  TurnResult: turnResultSchema,
  TurnStartedEvent: turnStartedEventSchema,
  TurnActivity: turnActivitySchema,
  ApprovalRequest: approvalRequestSchema,
  // The protocol's types that several responses hold, named once.
  Message: messageSchema,
  SessionPolicy: sessionPolicySchema,
  TokenUsage: tokenUsageSchema,
  TokenLedgerEntry: tokenLedgerEntrySchema,
  ToolCallRecord: toolCallRecordSchema,
  TurnIssue: turnIssueSchema,
  TurnOutcome: turnOutcomeSchema,
  ApprovalListResponse: approvalListResponseSchema,
  UsageReport: usageReportSchema,
  TenantUsageReport: tenantUsageReportSchema,
  SessionGraphResponse: sessionGraphResponseSchema,
  SessionNodeRecord: sessionNodeRecordSchema,
  TurnTraceResponse: turnTraceResponseSchema,
  TurnTraceListResponse: turnTraceListResponseSchema,
  TraceRecord: traceRecordSchema,
  Task: taskResourceSchema,
  TaskListResponse: taskListResponseSchema,
  HealthResponse: healthResponseSchema,
  ReadinessResponse: readinessResponseSchema,
  ChatCompletion: chatCompletionSchema,
  ChatCompletionChunk: chatCompletionChunkSchema,
  OpenAiErrorBody: openAiErrorBodySchema,
} as const;

export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

const COMPONENT_PREFIX = "#/components/schemas/";
/** Where zod puts unnamed schemas used more than once; they become components of their own. */
const SHARED_ID = "__shared";

function convert(schemas: Readonly<Record<string, z.ZodType>>, io: "input" | "output"): Record<string, JsonSchemaObject> {
  const registry = z.registry<{ id: string }>();
  registry.add(jsonValueSchema, { id: "JsonValue" });
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io,
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
    // Nothing on the wire is unrepresentable (no bytes, no functions); fail loudly if that changes.
    unrepresentable: "throw",
  }).schemas as Record<string, JsonSchemaObject>;
  const components: Record<string, JsonSchemaObject> = {};
  for (const [id, schema] of Object.entries(converted)) {
    if (id === SHARED_ID) {
      const definitions = (schema.$defs ?? {}) as Record<string, JsonSchemaObject>;
      for (const [name, definition] of Object.entries(definitions)) components[`Shared_${io}_${name}`] = definition;
      continue;
    }
    // Each component is a schema inside the document, not a document of its own.
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    components[id] = rest;
  }
  // `#/components/schemas/__shared#/$defs/schema0` is not a valid pointer into the document.
  const text = JSON.stringify(components).replaceAll(
    new RegExp(`${COMPONENT_PREFIX}${SHARED_ID}#/\\$defs/([A-Za-z0-9_]+)`, "g"),
    `${COMPONENT_PREFIX}Shared_${io}_$1`,
  );
  return JSON.parse(text) as Record<string, JsonSchemaObject>;
}

/** Every named schema of the document, requests as inputs and responses as outputs. */
export function openApiComponents(): Record<string, JsonSchemaObject> {
  const requests = convert(REQUEST_SCHEMAS, "input");
  const responses = convert(RESPONSE_SCHEMAS, "output");
  // JsonValue reads the same either way; the response side's copy wins.
  return { ...requests, ...responses };
}

/** A `$ref` to a named schema. */
export function schemaRef(name: RequestSchemaName | ResponseSchemaName): JsonSchemaObject {
  return { $ref: `${COMPONENT_PREFIX}${name}` };
}
