import { describe, expect, it } from "vitest";
import {
  type ApprovalRequest,
  approvalAnswerSchema,
  approvalRequestSchema,
  sessionEventSchema,
  type ToolDefinition,
  toolCallRecordSchema,
  turnActivitySchema,
} from "./index.js";

const request: ApprovalRequest = {
  id: "ap-1",
  sessionId: "s",
  turnId: "t",
  turnIndex: 1,
  callId: "call-1",
  tool: "write_file",
  args: { path: "src/a.ts", content: "x" },
  summary: "overwrite src/a.ts (1 byte)",
  messageId: "m-2",
  modeIteration: 0,
  requestedAt: "2026-01-01T00:00:00.000Z",
};

const resolution = {
  decision: "rejected",
  reason: "not now",
  decidedBy: "cli:alice",
  decidedAt: "2026-01-01T00:00:01.000Z",
  source: "handler",
};

describe("approval shapes", () => {
  it("parses a request, with and without the optional call id, summary and expiry", () => {
    expect(approvalRequestSchema.parse(request)).toEqual(request);
    const { callId: _callId, summary: _summary, ...nested } = request;
    expect(approvalRequestSchema.parse({ ...nested, expiresAt: "2026-01-02T00:00:00.000Z" })).toEqual({
      ...nested,
      expiresAt: "2026-01-02T00:00:00.000Z",
    });
    expect(approvalRequestSchema.safeParse({ ...request, turnIndex: 0 }).success).toBe(false);
  });

  it("parses the three answers and refuses anything else", () => {
    expect(approvalAnswerSchema.parse({ type: "approve", decidedBy: "alice" })).toEqual({ type: "approve", decidedBy: "alice" });
    expect(approvalAnswerSchema.parse({ type: "reject", reason: "no" })).toEqual({ type: "reject", reason: "no" });
    expect(approvalAnswerSchema.parse({ type: "defer", expiresInMs: 1000 })).toEqual({ type: "defer", expiresInMs: 1000 });
    expect(approvalAnswerSchema.safeParse({ type: "maybe" }).success).toBe(false);
    expect(approvalAnswerSchema.safeParse({ type: "defer", expiresInMs: 0 }).success).toBe(false);
  });

  it("carries approval_requested and approval_resolved in both streams", () => {
    const requested = { type: "approval_requested", request };
    const resolved = { type: "approval_resolved", id: "ap-1", sessionId: "s", callId: "call-1", tool: "write_file", resolution };
    for (const event of [requested, resolved]) {
      expect(sessionEventSchema.parse(event)).toEqual(event);
      const activity = { id: "a", correlationId: "tool:call-1", ...event };
      expect(turnActivitySchema.parse(activity)).toEqual(activity);
    }
    expect(sessionEventSchema.safeParse({ ...resolved, resolution: { ...resolution, decision: "maybe" } }).success).toBe(false);
  });

  it("keeps a tool call record's approval (a store must not strip it)", () => {
    const record = {
      callId: "call-1",
      tool: "write_file",
      args: { path: "src/a.ts" },
      output: {
        outcome: {
          status: "failure",
          payload: {
            class: "permission_denied",
            code: "approval_rejected",
            message: "The user rejected this call: not now",
            source: "runtime",
            retry: { type: "never" },
          },
        },
      },
      durationMs: 0,
      approval: { id: "ap-1", ...resolution },
    };
    expect(toolCallRecordSchema.parse(record)).toEqual(record);
    const completed = { type: "tool_call_completed", callId: "call-1", name: "write_file", args: record.args, output: record.output };
    expect(sessionEventSchema.parse({ ...completed, durationMs: 0, approval: record.approval })).toMatchObject({
      approval: record.approval,
    });
  });

  it("lets a typed tool's approval callbacks stand where any tool is expected", () => {
    const typed: ToolDefinition<{ path: string }> = {
      name: "write",
      description: "Write.",
      inputSchema: { type: "object" },
      needsApproval: (input) => input.path.startsWith("src/"),
      describeApproval: (input) => `write ${input.path}`,
      execute: (input) => input.path,
    };
    // Compiles only because the callbacks are bivariant in their input (see ToolApprovalPredicate).
    const erased: ToolDefinition<unknown> = typed;
    expect(erased.needsApproval).toBeTypeOf("function");
  });
});
