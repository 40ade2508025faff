import { compatibilityPaths } from "./openapi-compatibility-paths.js";
import { type JsonSchemaObject, openApiComponents, type ResponseSchemaName, schemaRef } from "./openapi-components.js";
import { TURN_STREAM_EVENTS } from "./turn-schemas.js";

/** The version of the wire contract: every route but the probes and the document lives under `/v1`. */
export const REMOTE_PROTOCOL_VERSION = "v1";

/** Options of `createOpenApiDocument`. */
export interface OpenApiDocumentOptions {
  /** The server's base URL, listed under `servers`; absent = relative to the document. */
  readonly serverUrl?: string;
  /** `info.version`: the server's version (default `0.0.0`). */
  readonly version?: string;
}

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = JsonSchemaObject & { readonly openapi: "3.1.0" };

type Method = "get" | "post" | "delete";

interface Route {
  readonly method: Method;
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly request?: "CreateSessionRequest" | "TurnRequest" | "ApprovalDecisionRequest";
  readonly success: {
    readonly status: number;
    readonly schema?: ResponseSchemaName;
    readonly stream?: boolean;
    /** The answer is bytes of these media types, not JSON. */
    readonly binary?: readonly string[];
    /** Headers the success answer carries, by name. */
    readonly headers?: Readonly<Record<string, JsonSchemaObject>>;
  };
  /** The error statuses this route answers with, besides 500 and 503, which every route may. */
  readonly errors: readonly number[];
  readonly query?: readonly JsonSchemaObject[];
  readonly headers?: readonly JsonSchemaObject[];
}

const sessionId = { name: "sessionId", in: "path", required: true, schema: { type: "string" } };
const turnId = { name: "turnId", in: "path", required: true, schema: { type: "string" } };
const approvalId = { name: "approvalId", in: "path", required: true, schema: { type: "string" } };
const taskId = { name: "taskId", in: "path", required: true, schema: { type: "string" } };
const attachmentId = {
  name: "attachmentId",
  in: "path",
  required: true,
  description: "The attachment's id: the hex SHA-256 of its bytes, as an image part's `attachment.id` names it.",
  schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
};
const accept = {
  name: "Accept",
  in: "header",
  required: false,
  description: "`text/event-stream` for the turn's events as server-sent events; anything else gets the JSON result when the turn ends.",
  schema: { type: "string" },
};

const STREAM_DESCRIPTION = [
  "With `Accept: text/event-stream`: the turn's events as server-sent events, each with an `id:` (whole numbers, increasing by one).",
  `Events: ${TURN_STREAM_EVENTS.map((name) => `\`${name}\``).join(", ")}; the stream ends after \`result\` or \`error\`.`,
  "A client that disconnects detaches: the turn goes on, and `GET .../turns/{turnId}/events` with `Last-Event-ID` reattaches.",
].join(" ");

const ROUTES: readonly Route[] = [
  {
    method: "get",
    path: "/healthz",
    operationId: "health",
    summary: "The process answers.",
    success: { status: 200, schema: "HealthResponse" },
    errors: [],
  },
  {
    method: "get",
    path: "/readyz",
    operationId: "readiness",
    summary: "The process and its store answer.",
    success: { status: 200, schema: "ReadinessResponse" },
    errors: [],
  },
  {
    method: "post",
    path: "/v1/sessions",
    operationId: "createSession",
    summary: "Create a session with an agent profile and metadata.",
    request: "CreateSessionRequest",
    success: { status: 201, schema: "SessionResource" },
    errors: [400, 413, 415],
  },
  {
    method: "get",
    path: "/v1/sessions",
    operationId: "listSessions",
    summary: "List sessions, a page at a time, in ascending order of id.",
    query: [
      { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
      { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "The previous page's `nextCursor`." },
      {
        name: "q",
        in: "query",
        required: false,
        schema: { type: "string", minLength: 1, maxLength: 200 },
        description:
          "Only sessions whose title or id contains this text (case-insensitive); a page may then hold fewer than `limit` while more follow.",
      },
    ],
    success: { status: 200, schema: "SessionListResponse" },
    errors: [400],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}",
    operationId: "getSession",
    summary: "A session's state: policy, turn index, usage and the messages of its active path.",
    success: { status: 200, schema: "SessionState" },
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/v1/sessions/{sessionId}",
    operationId: "deleteSession",
    summary: "Delete a session (refused while one of its turns runs).",
    success: { status: 200, schema: "DeleteSessionResponse" },
    errors: [400, 404, 409],
  },
  {
    method: "post",
    path: "/v1/sessions/{sessionId}/turns",
    operationId: "runTurn",
    summary: "Run a turn: the JSON result when it ends, or its events as they happen.",
    description: STREAM_DESCRIPTION,
    request: "TurnRequest",
    headers: [accept],
    success: { status: 200, schema: "TurnResult", stream: true },
    errors: [400, 404, 409, 413, 415],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/turns/{turnId}/events",
    operationId: "turnEvents",
    summary: "Reattach to a turn's events after `Last-Event-ID` (all of them without it).",
    description: "While the turn runs, the stream follows it; after it ended, the events still kept and its result are served.",
    headers: [{ name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" } }],
    success: { status: 200, stream: true },
    errors: [400, 404, 410],
  },
  {
    method: "post",
    path: "/v1/sessions/{sessionId}/turns/{turnId}/cancel",
    operationId: "cancelTurn",
    summary: "Cancel a running turn; answers with its result once it ended (`stopped: cancelled`, partial output committed).",
    success: { status: 200, schema: "TurnResult" },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/approvals",
    operationId: "listApprovals",
    summary: "The approval requests a suspended turn waits for.",
    success: { status: 200, schema: "ApprovalListResponse" },
    errors: [400, 404],
  },
  {
    method: "post",
    path: "/v1/sessions/{sessionId}/approvals/{approvalId}",
    operationId: "decideApproval",
    summary: "Approve or reject one request; the same turn goes on, answered like a turn (JSON or events).",
    description: STREAM_DESCRIPTION,
    request: "ApprovalDecisionRequest",
    headers: [accept],
    success: { status: 200, schema: "TurnResult", stream: true },
    errors: [400, 404, 409, 413, 415],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/usage",
    operationId: "sessionUsage",
    summary: "The session's usage per (source, model), with its cost at list prices.",
    description:
      "`cost.priceBasis` says which prices: `report_time` (the price table in force when the report is made, `cost.priceTableDate`) until the session ledger records the table's date with each usage.",
    success: { status: 200, schema: "UsageReport" },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/graph",
    operationId: "sessionGraph",
    summary: "The session graph: every node of every branch, the active branch's leaf, and the subagents' child sessions.",
    description: "Read-only: a client shows another branch by walking from its leaf to the root; turns always continue the active branch.",
    success: { status: 200, schema: "SessionGraphResponse" },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/attachments/{attachmentId}",
    operationId: "sessionAttachment",
    summary: "The bytes of an attachment (an image) that the session's messages reference, with its stored media type.",
    description: [
      "Served only when a node of the session's graph references the attachment: an id the session does not name is `404 attachment_not_found`, whatever the store holds.",
      "Attachments are content-addressed, so the answer never changes: `Cache-Control: private, max-age=31536000, immutable`.",
      "Images are `Content-Disposition: inline`, anything else `attachment`; `X-Content-Type-Options: nosniff` always.",
    ].join(" "),
    success: {
      status: 200,
      binary: ["image/png", "image/jpeg", "image/gif", "image/webp", "text/plain; charset=utf-8"],
      headers: {
        "Content-Length": { description: "The attachment's length in bytes.", schema: { type: "integer", minimum: 0 } },
        "Cache-Control": { description: "`private, max-age=31536000, immutable`.", schema: { type: "string" } },
        "Content-Disposition": { description: "`inline` for images, `attachment` otherwise.", schema: { type: "string" } },
      },
    },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/traces",
    operationId: "sessionTraces",
    summary: "The session's turns whose trace records this server keeps, newest first.",
    success: { status: 200, schema: "TurnTraceListResponse" },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/sessions/{sessionId}/turns/{turnId}/trace",
    operationId: "turnTrace",
    summary: "A turn's trace records: model calls with time to first token and duration, retries, tool calls, commits.",
    description:
      "Kept in memory by the server that ran the turn (the most recent turns, a bounded number of records each): a turn another instance ran, or one run before a restart, is `404 turn_not_found`.",
    success: { status: 200, schema: "TurnTraceResponse" },
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/v1/usage",
    operationId: "tenantUsage",
    summary: "The caller's usage over its sessions per (source, model), with cost, and tokens per day.",
    query: [
      {
        name: "days",
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 366, default: 30 },
        description: "How many days the daily series covers, ending today (UTC).",
      },
    ],
    success: { status: 200, schema: "TenantUsageReport" },
    errors: [400],
  },
  {
    method: "get",
    path: "/v1/tasks",
    operationId: "listTasks",
    summary: "The background tasks (subagents, monitors) of the caller's sessions, oldest first, a page at a time.",
    query: [
      {
        name: "state",
        in: "query",
        required: false,
        schema: { type: "string", enum: ["live", "all"], default: "live" },
        description: "`live`: pending, running, waiting or cancel requested; `all`: ended tasks too.",
      },
      { name: "sessionId", in: "query", required: false, schema: { type: "string" }, description: "Only this session's tasks." },
      { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 50 } },
      { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "The previous page's `nextCursor`." },
    ],
    success: { status: 200, schema: "TaskListResponse" },
    errors: [400, 404],
  },
  {
    method: "post",
    path: "/v1/tasks/{taskId}/cancel",
    operationId: "cancelTask",
    summary: "Ask a background task to stop, as its cancel policy says; answers with the task after the request (an ended task as it is).",
    success: { status: 200, schema: "Task" },
    errors: [400, 404],
  },
];

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid request (bad JSON, unknown fields, a bad parameter).",
  404: "No such session, turn, approval request, task, or attachment of the session.",
  409: "Conflicts with the session's state (a turn runs, a turn waits for approval, the request was decided).",
  410: "The events after that Last-Event-ID are no longer kept.",
  401: "No valid API key (servers with API keys): send `Authorization: Bearer <key>`.",
  413: "The body is too large (1 MiB by default; a turn with images may be larger, 20 MiB by default).",
  415: "The body is not application/json.",
  429: "The API key's rate limit: `Retry-After` says in how many seconds to try again.",
  500: "An unexpected failure.",
  503: "The store is unavailable, or the server is shutting down.",
};

/** The name of the API-key security scheme in `components.securitySchemes`. */
const SECURITY_SCHEME = "apiKey";
/** What every authenticated route may answer besides its own errors: no valid key, and the key's rate limit. */
const AUTHENTICATED_ERRORS = [401, 429] as const;

/** Everything under `/v1` needs an API key on a server with keys; the probes and the document never do. */
function isAuthenticated(path: string): boolean {
  return path.startsWith(`/${REMOTE_PROTOCOL_VERSION}/`);
}

function pathParameters(path: string): JsonSchemaObject[] {
  const parameters: JsonSchemaObject[] = [];
  if (path.includes("{sessionId}")) parameters.push(sessionId);
  if (path.includes("{turnId}")) parameters.push(turnId);
  if (path.includes("{approvalId}")) parameters.push(approvalId);
  if (path.includes("{taskId}")) parameters.push(taskId);
  if (path.includes("{attachmentId}")) parameters.push(attachmentId);
  return parameters;
}

function operation(route: Route): JsonSchemaObject {
  const errorContent = { "application/json": { schema: schemaRef("ErrorBody") } };
  const responses: Record<string, JsonSchemaObject> = {};
  const content: Record<string, JsonSchemaObject> = {};
  if (route.success.schema !== undefined) content["application/json"] = { schema: schemaRef(route.success.schema) };
  if (route.success.stream === true) {
    content["text/event-stream"] = {
      schema: { type: "string" },
      // Not an OpenAPI 3.1 keyword: the schema of each event's data, by event name, for generators that read it.
      "x-lash-events": {
        turn: schemaRef("TurnStartedEvent"),
        activity: schemaRef("TurnActivity"),
        result: schemaRef("TurnResult"),
        error: schemaRef("ErrorBody"),
      },
    };
  }
  // Bytes: OpenAPI 3.1 describes a binary body by its media type alone, with no schema.
  for (const mediaType of route.success.binary ?? []) content[mediaType] = {};
  responses[String(route.success.status)] = {
    description: route.summary,
    content,
    ...(route.success.headers === undefined ? {} : { headers: route.success.headers }),
  };
  const authenticated = isAuthenticated(route.path);
  for (const status of [...route.errors, ...(authenticated ? AUTHENTICATED_ERRORS : []), 500, 503]) {
    responses[String(status)] = { description: STATUS_TEXT[status] ?? "Error.", content: errorContent };
  }
  const parameters = [...pathParameters(route.path), ...(route.query ?? []), ...(route.headers ?? [])];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    ...(parameters.length === 0 ? {} : { parameters }),
    // The document requires the key everywhere (`security` at its top); the probes opt out.
    ...(authenticated ? {} : { security: [] }),
    ...(route.request === undefined
      ? {}
      : { requestBody: { required: true, content: { "application/json": { schema: schemaRef(route.request) } } } }),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the `/v1` API, generated from the zod schemas of this package
 * (`z.toJSONSchema`), so the document and the validation the server runs cannot disagree. The
 * server serves it at `/openapi.json`.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions = {}): OpenApiDocument {
  const paths: Record<string, Record<string, JsonSchemaObject>> = {};
  for (const route of ROUTES) {
    const item = paths[route.path] ?? {};
    item[route.method] = operation(route);
    paths[route.path] = item;
  }
  Object.assign(paths, compatibilityPaths());
  paths["/metrics"] = {
    get: {
      operationId: "metrics",
      summary: "The server's metrics in the Prometheus text format: turns, tokens, errors, HTTP requests, latencies, runtimes.",
      description:
        "No API key: the labels name routes, statuses, codes and outcomes, never a tenant, a session or a key. A host may require a bearer token of its own for this route, or turn it off.",
      security: [],
      responses: {
        "200": { description: "The exposition, version 0.0.4.", content: { "text/plain; version=0.0.4": { schema: { type: "string" } } } },
        "401": { description: "The host requires its metrics token.", content: { "application/json": { schema: schemaRef("ErrorBody") } } },
      },
    },
  };
  paths["/openapi.json"] = {
    get: {
      operationId: "openApiDocument",
      summary: "This document.",
      security: [],
      responses: { "200": { description: "The OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } } },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "lash server",
      version: options.version ?? "0.0.0",
      description:
        "Durable LLM agent sessions over HTTP. Every error is `{ error: { code, message, details? } }`, except on `/v1/chat/completions`, which answers in OpenAI's shape (`{ error: { message, type, param, code } }`).",
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      schemas: openApiComponents(),
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: "http",
          scheme: "bearer",
          description:
            "An API key (`lash-server keys create --tenant <tenant>`), on servers that have keys. A server without keys serves loopback clients only, without credentials.",
        },
      },
    },
  };
}
