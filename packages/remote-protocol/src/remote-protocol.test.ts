import { describe, expect, it } from "vitest";
import {
  approvalDecisionRequestSchema,
  attachmentIdSchema,
  createOpenApiDocument,
  createSessionRequestSchema,
  errorBodySchema,
  HTTP_ERROR_CODES,
  LASH_ERROR_CODES,
  listSessionsQuerySchema,
  MAX_METADATA_ENTRIES,
  remoteErrorCodeSchema,
  resourceIdSchema,
  turnRequestSchema,
  turnResultSchema,
  turnStreamEventSchema,
} from "./index.js";

describe("request bodies", () => {
  it("refuse unknown fields, at the top and inside items", () => {
    expect(createSessionRequestSchema.safeParse({ profile: "default", extra: 1 }).success).toBe(false);
    expect(turnRequestSchema.safeParse({ input: "hi", stream: true }).success).toBe(false);
    expect(turnRequestSchema.safeParse({ input: [{ type: "text", text: "hi", bold: true }] }).success).toBe(false);
    expect(approvalDecisionRequestSchema.safeParse({ decision: "approve", decidedBy: "mallory" }).success).toBe(false);
  });

  it("take a string or text items as a turn's input, never an empty list", () => {
    expect(turnRequestSchema.parse({ input: "hello" })).toEqual({ input: "hello" });
    expect(turnRequestSchema.parse({ input: [{ type: "text", text: "a" }] }).input).toHaveLength(1);
    expect(turnRequestSchema.safeParse({ input: [] }).success).toBe(false);
    expect(turnRequestSchema.safeParse({}).success).toBe(false);
    expect(turnRequestSchema.safeParse({ input: [{ type: "image_ref", id: "x" }] }).success).toBe(false);
  });

  it("bound session metadata: entry count, key and value length, strings only", () => {
    const many = Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, index) => [`k${index}`, "v"]));
    expect(createSessionRequestSchema.safeParse({ metadata: many }).success).toBe(false);
    expect(createSessionRequestSchema.safeParse({ metadata: { ["k".repeat(65)]: "v" } }).success).toBe(false);
    expect(createSessionRequestSchema.safeParse({ metadata: { k: "v".repeat(513) } }).success).toBe(false);
    expect(createSessionRequestSchema.safeParse({ metadata: { k: 1 } }).success).toBe(false);
    expect(createSessionRequestSchema.parse({ profile: "support-2", metadata: { customer: "42" } })).toEqual({
      profile: "support-2",
      metadata: { customer: "42" },
    });
  });

  it("read the listing's query parameters from strings, within range", () => {
    expect(listSessionsQuerySchema.parse({ limit: "5", cursor: "abc" })).toEqual({ limit: 5, cursor: "abc" });
    for (const limit of ["0", "101", "-1", "1.5", "1e2", " 5", ""])
      expect(listSessionsQuerySchema.safeParse({ limit }).success).toBe(false);
    expect(listSessionsQuerySchema.safeParse({ page: "2" }).success).toBe(false);
  });

  it("accept only bounded, printable ids in paths", () => {
    expect(resourceIdSchema.safeParse("3f2c0e1a-0b1c-4d2e-8f00-123456789abc").success).toBe(true);
    for (const id of ["", "../etc", "a/b", "a b", "x".repeat(201), "\u0000"]) expect(resourceIdSchema.safeParse(id).success).toBe(false);
  });
});

describe("the error shape", () => {
  it("lists every runtime code and every HTTP code once", () => {
    const all = [...LASH_ERROR_CODES, ...HTTP_ERROR_CODES];
    expect(new Set(all).size).toBe(all.length);
    expect(remoteErrorCodeSchema.options).toEqual(all);
  });

  it("has a code, a message and optional JSON details", () => {
    expect(errorBodySchema.safeParse({ error: { code: "turn_in_progress", message: "busy", details: { turnId: "t1" } } }).success).toBe(
      true,
    );
    expect(errorBodySchema.safeParse({ error: { code: "no_such_code", message: "x" } }).success).toBe(false);
  });
});

describe("turn results and stream events", () => {
  const result = {
    turnId: "t1",
    sessionId: "s1",
    turnIndex: 1,
    outcome: { type: "finished", finish: { type: "assistant_message", text: "Hi." } },
    answer: { text: "Hi.", state: "usable" },
    toolCalls: [],
    usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 },
    childrenUsage: [],
    issues: [],
  };

  it("parse a result and each stream event by its name", () => {
    expect(turnResultSchema.parse(result)).toEqual(result);
    expect(turnStreamEventSchema.parse({ event: "result", id: 7, data: result }).event).toBe("result");
    expect(turnStreamEventSchema.parse({ event: "turn", id: 1, data: { turnId: "t1", sessionId: "s1", resumed: false } }).event).toBe(
      "turn",
    );
    const activity = { id: "a1", correlationId: "c1", type: "text_delta", text: "Hi" };
    expect(turnStreamEventSchema.parse({ event: "activity", id: 2, data: activity }).data).toEqual(activity);
    expect(turnStreamEventSchema.safeParse({ event: "activity", id: 0, data: activity }).success).toBe(false);
  });
});

describe("the OpenAPI document", () => {
  const document = createOpenApiDocument({ serverUrl: "http://127.0.0.1:8787", version: "1.2.3" });
  const text = JSON.stringify(document);
  const schemas = (document.components as { schemas: Record<string, Record<string, unknown>> }).schemas;

  it("is OpenAPI 3.1 with every route of the API", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toEqual([{ url: "http://127.0.0.1:8787" }]);
    const paths = document.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths).sort()).toEqual(
      [
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/readyz",
        "/v1/chat/completions",
        "/v1/sessions",
        "/v1/sessions/{sessionId}",
        "/v1/sessions/{sessionId}/approvals",
        "/v1/sessions/{sessionId}/approvals/{approvalId}",
        "/v1/sessions/{sessionId}/chat",
        "/v1/sessions/{sessionId}/chat/{chatId}/stream",
        "/v1/sessions/{sessionId}/turns",
        "/v1/sessions/{sessionId}/turns/{turnId}/cancel",
        "/v1/sessions/{sessionId}/turns/{turnId}/events",
        "/v1/sessions/{sessionId}/usage",
        "/v1/sessions/{sessionId}/graph",
        "/v1/sessions/{sessionId}/attachments/{attachmentId}",
        "/v1/sessions/{sessionId}/traces",
        "/v1/sessions/{sessionId}/turns/{turnId}/trace",
        "/v1/usage",
        "/v1/tasks",
        "/v1/tasks/{taskId}/cancel",
      ].sort(),
    );
    expect(Object.keys(paths["/v1/sessions/{sessionId}"] ?? {}).sort()).toEqual(["delete", "get"]);
  });

  it("describes an attachment's answer as bytes of its media type, with its caching headers", () => {
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, Record<string, object>> }>>;
    const answer = paths["/v1/sessions/{sessionId}/attachments/{attachmentId}"]?.get?.responses["200"];
    expect(Object.keys(answer?.content ?? {})).toContain("image/png");
    expect(answer?.content).not.toHaveProperty("application/json");
    expect(Object.keys(answer?.headers ?? {})).toEqual(["Content-Length", "Cache-Control", "Content-Disposition"]);
    expect(attachmentIdSchema.safeParse("a".repeat(64)).success).toBe(true);
    expect(attachmentIdSchema.safeParse("A".repeat(64)).success).toBe(false);
  });

  it("resolves every $ref to a component and keeps no JSON Schema document headers inside", () => {
    const references = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(references.length).toBeGreaterThan(10);
    for (const reference of references) expect(schemas[reference], reference).toBeDefined();
    expect(text).not.toContain('"$schema"');
    expect(text).not.toContain("__shared");
  });

  it("declares request bodies closed, as the server validates them", () => {
    for (const name of ["CreateSessionRequest", "TurnRequest", "ApprovalDecisionRequest"]) {
      expect(schemas[name]?.additionalProperties, name).toBe(false);
    }
    const codes = (schemas.ErrorBody as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties
      .code.enum;
    expect(codes).toContain("turn_in_progress");
    expect(codes).toContain("payload_too_large");
  });
});
