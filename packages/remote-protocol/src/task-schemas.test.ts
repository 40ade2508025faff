import { describe, expect, it } from "vitest";
import { createOpenApiDocument, HTTP_ERROR_CODES, listTasksQuerySchema, taskListResponseSchema, usageReportSchema } from "./index.js";

const task = {
  id: "task-1",
  kind: "subagent",
  producer: "spawn_agent",
  scope: { sessionId: "s1" },
  childSessionId: "s1-child",
  state: "running",
  cancelPolicy: "cooperative",
  closePolicy: "keep",
  attempt: { attempt: 1 },
  createdAt: 1,
  updatedAt: 2,
};

describe("background tasks on the wire", () => {
  it("read the listing's query from strings, within range, and refuse unknown parameters", () => {
    expect(listTasksQuerySchema.parse({ state: "all", sessionId: "s1", limit: "10", cursor: "abc" })).toEqual({
      state: "all",
      sessionId: "s1",
      limit: 10,
      cursor: "abc",
    });
    expect(listTasksQuerySchema.parse({})).toEqual({});
    for (const query of [
      { state: "running" },
      { limit: "0" },
      { limit: "101" },
      { limit: "1e1" },
      { sessionId: "a/b" },
      { kind: "subagent" },
    ]) {
      expect(listTasksQuerySchema.safeParse(query).success, JSON.stringify(query)).toBe(false);
    }
  });

  it("list the task host's records as they are, with the next page's cursor", () => {
    expect(taskListResponseSchema.parse({ tasks: [task], nextCursor: "c" })).toEqual({ tasks: [task], nextCursor: "c" });
    expect(taskListResponseSchema.safeParse({ tasks: [{ ...task, state: "sleeping" }] }).success).toBe(false);
  });

  it("name a missing task with its own code, and document both routes and /metrics", () => {
    expect(HTTP_ERROR_CODES).toContain("task_not_found");
    const paths = createOpenApiDocument().paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    expect(Object.keys(paths["/v1/tasks"]?.get?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "401", "429"]));
    expect(Object.keys(paths["/v1/tasks/{taskId}/cancel"]?.post?.responses ?? {})).toEqual(expect.arrayContaining(["200", "404"]));
    expect(Object.keys(paths["/metrics"]?.get?.responses?.["200"] ?? {})).toContain("content");
  });
});

describe("the usage report's cost", () => {
  const report = {
    usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0, totalTokens: 2, contextTotalTokens: 2 },
    entryCount: 1,
    rows: [],
    bySource: [],
    byModel: [],
  };
  const cost = { currency: "USD", priceTableDate: "2025-10-01", totalMicroUsd: 0, totalUsd: "0.000000", unpricedModels: [] };

  it("says which prices it used", () => {
    expect(usageReportSchema.safeParse({ ...report, cost: { ...cost, priceBasis: "report_time" } }).success).toBe(true);
    expect(usageReportSchema.safeParse({ ...report, cost: { ...cost, priceBasis: "recorded" } }).success).toBe(true);
    expect(usageReportSchema.safeParse({ ...report, cost }).success).toBe(false);
    expect(usageReportSchema.safeParse({ ...report, cost: { ...cost, priceBasis: "today" } }).success).toBe(false);
  });
});
