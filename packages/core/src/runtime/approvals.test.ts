// Tools that need approval, answered in process (ADR 0029, first slice): the gate, the three
// answers, the per-turn and runtime approvers, the events, and calls nested in `batch`.
import type {
  ApprovalAnswer,
  ApprovalHandler,
  ApprovalRequest,
  JsonValue,
  LlmRequest,
  ToolCallRecord,
  ToolDefinition,
  TurnActivity,
} from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep, textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { IMMEDIATE_RETRY, MODEL, RecordingActivities, RecordingSink } from "../../test/fixtures.js";
import { defineTool, LashRuntime, type RuntimeApprovals, textInput } from "../index.js";

/** A `write` tool that needs approval for every call, and records what it wrote. */
function writeTool(needsApproval: ToolDefinition<{ path: string }>["needsApproval"] = true) {
  const written: string[] = [];
  const tool = defineTool({
    name: "write",
    description: "Write a file.",
    inputSchema: z.object({ path: z.string() }),
    needsApproval,
    describeApproval: ({ path }) => `overwrite ${path}`,
    execute: ({ path }) => {
      written.push(path);
      return `wrote ${path}`;
    },
  });
  return { tool, written };
}

/** A tool that needs no approval. */
const readTool = defineTool({
  name: "read",
  description: "Read a file.",
  inputSchema: z.object({ path: z.string() }),
  execute: ({ path }) => `contents of ${path}`,
});

async function createRuntime(steps: readonly ScriptedStep[], tools: readonly ToolDefinition<unknown>[], approvals?: RuntimeApprovals) {
  const provider = new ScriptedProvider(steps, { defaultModel: MODEL, providerId: "mock" });
  const builder = LashRuntime.builder()
    .withSessionId("root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withProvider(provider)
    .withProviderRetryPolicy(IMMEDIATE_RETRY)
    .withTools(tools);
  const runtime = await (approvals ? builder.withApprovals(approvals) : builder).build();
  return { runtime, provider };
}

/** An approver that records every request and gives `answer`. */
function recordingApprover(answer: ApprovalAnswer | ((request: ApprovalRequest) => ApprovalAnswer)): {
  approve: ApprovalHandler;
  asked: ApprovalRequest[];
} {
  const asked: ApprovalRequest[] = [];
  return {
    asked,
    approve: (request) => {
      asked.push(request);
      return typeof answer === "function" ? answer(request) : answer;
    },
  };
}

/** The tool results the model saw in a request, by call id. */
function toolResults(request: LlmRequest | undefined): Map<string, string> {
  const results = new Map<string, string>();
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result") results.set(block.callId, block.content);
  }
  return results;
}

function failureCode(record: ToolCallRecord | undefined): string | undefined {
  const outcome = record?.output.outcome;
  return outcome?.status === "failure" ? outcome.payload.code : undefined;
}

const writeStep = (path = "a.ts", callId = "call-1") => toolCallStep([{ callId, name: "write", args: { path } }]);

describe("tools that need approval", () => {
  it("runs an approved call, with the request naming the model call, and records the decision", async () => {
    const { tool, written } = writeTool();
    const approver = recordingApprover({ type: "approve", decidedBy: "alice", reason: "looks fine" });
    const { runtime } = await createRuntime([writeStep(), textStep("Done.")], [tool], { approve: approver.approve });
    const turn = await runtime.runTurn(textInput("write a.ts"));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Done." } });
    expect(written).toEqual(["a.ts"]);
    const assistant = runtime.activeMessages().find((message) => message.role === "assistant");
    expect(approver.asked).toEqual([
      {
        id: expect.any(String),
        sessionId: "root",
        turnId: expect.any(String),
        turnIndex: 1,
        callId: "call-1",
        tool: "write",
        args: { path: "a.ts" },
        summary: "overwrite a.ts",
        messageId: assistant?.id,
        modeIteration: 0,
        requestedAt: expect.any(String),
      },
    ]);
    expect(turn.toolCalls[0]?.output.outcome).toEqual({ status: "success", payload: "wrote a.ts" });
    expect(turn.toolCalls[0]?.approval).toEqual({
      id: approver.asked[0]?.id,
      decision: "approved",
      reason: "looks fine",
      decidedBy: "alice",
      decidedAt: expect.any(String),
      source: "handler",
    });
    // The decision is stored with the call in the session, too.
    expect(runtime.activeToolCalls()[0]?.approval?.decision).toBe("approved");
  });

  it("gives the model the rejection with its reason, never runs the tool, and the turn goes on", async () => {
    const { tool, written } = writeTool();
    const { runtime, provider } = await createRuntime([writeStep(), textStep("Understood, I will not write it.")], [tool], {
      approve: () => ({ type: "reject", reason: "not on a Friday", decidedBy: "bob" }),
    });
    const turn = await runtime.runTurn(textInput("write a.ts"));
    expect(written).toEqual([]);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Understood, I will not write it." } });
    expect(turn.toolCalls[0]?.output.outcome).toEqual({
      status: "failure",
      payload: {
        class: "permission_denied",
        code: "approval_rejected",
        message: "The user rejected this call: not on a Friday",
        source: "runtime",
        retry: { type: "never" },
      },
    });
    expect(turn.toolCalls[0]?.approval).toMatchObject({ decision: "rejected", reason: "not on a Friday", decidedBy: "bob" });
    expect(toolResults(provider.requests[1]).get("call-1")).toBe("[Tool execution failed]\nThe user rejected this call: not on a Friday");
    // A rejection is a decision, not an issue of the turn.
    expect(turn.errors).toEqual([]);
  });

  it("asks the turn's own approver instead of the runtime's", async () => {
    const { tool, written } = writeTool();
    const runtimeApprover = recordingApprover({ type: "reject" });
    const turnApprover = recordingApprover({ type: "approve", decidedBy: "turn" });
    const { runtime } = await createRuntime([writeStep(), textStep("Done.")], [tool], { approve: runtimeApprover.approve });
    const turn = await runtime.runTurn(textInput("write a.ts"), { approve: turnApprover.approve });
    expect(runtimeApprover.asked).toEqual([]);
    expect(turnApprover.asked).toHaveLength(1);
    expect(written).toEqual(["a.ts"]);
    expect(turn.toolCalls[0]?.approval?.decidedBy).toBe("turn");
  });

  it("asks only for the calls `needsApproval` picks from their validated input", async () => {
    const seen: JsonValue[] = [];
    const { tool, written } = writeTool((input) => {
      seen.push(input);
      return input.path.startsWith("src/");
    });
    const approver = recordingApprover({ type: "approve" });
    const { runtime } = await createRuntime(
      [
        toolCallStep([
          { callId: "c-src", name: "write", args: { path: "src/a.ts" } },
          { callId: "c-tmp", name: "write", args: { path: "tmp/b.ts" } },
        ]),
        textStep("Done."),
      ],
      [tool],
      { approve: approver.approve },
    );
    const turn = await runtime.runTurn(textInput("write both"));
    expect(approver.asked.map((request) => request.callId)).toEqual(["c-src"]);
    expect(seen).toEqual([{ path: "src/a.ts" }, { path: "tmp/b.ts" }]);
    expect(written.sort()).toEqual(["src/a.ts", "tmp/b.ts"]);
    expect(turn.toolCalls.map((record) => record.approval?.decision)).toEqual(["approved", undefined]);
  });

  it("fails a call whose `needsApproval` throws, without asking anyone (a ToolError keeps its failure)", async () => {
    const typed = writeTool(() => {
      throw new ToolError({ class: "not_found", code: "no_such_dir", message: "src/ does not exist" });
    });
    const approver = recordingApprover({ type: "approve" });
    const { runtime, provider } = await createRuntime([writeStep(), textStep("Sorry.")], [typed.tool], { approve: approver.approve });
    const turn = await runtime.runTurn(textInput("write a.ts"));
    expect(approver.asked).toEqual([]);
    expect(typed.written).toEqual([]);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { class: "not_found", code: "no_such_dir", message: "src/ does not exist", source: "tool" },
    });
    expect(turn.toolCalls[0]?.approval).toBeUndefined();
    expect(toolResults(provider.requests[1]).get("call-1")).toBe("[Tool execution failed]\nsrc/ does not exist");

    const plain = writeTool(() => {
      throw new Error("disk on fire");
    });
    const second = await createRuntime([writeStep(), textStep("Sorry.")], [plain.tool], { approve: approver.approve });
    const failed = await second.runtime.runTurn(textInput("write a.ts"));
    expect(approver.asked).toEqual([]);
    expect(failed.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { class: "internal", code: "approval_check_failed", message: "needsApproval failed: disk on fire" },
    });
  });

  it("suspends the turn when no approver is configured: the request is announced and waits", async () => {
    const { tool, written } = writeTool();
    const { runtime, provider } = await createRuntime([writeStep(), textStep("never asked")], [tool]);
    const events = new RecordingSink();
    const turn = await runtime.runTurn(textInput("write a.ts"), { events });
    expect(written).toEqual([]);
    expect(turn.outcome).toMatchObject({
      type: "stopped",
      stop: { type: "awaiting_approval", approvals: [{ callId: "call-1", tool: "write" }] },
    });
    expect(turn.toolCalls).toEqual([]);
    expect(provider.requests).toHaveLength(1);
    expect(events.ofType("approval_requested")).toHaveLength(1);
  });

  it("suspends the turn on a deferred answer, with the answer's expiry", async () => {
    const { tool, written } = writeTool();
    const approver = recordingApprover({ type: "defer", expiresInMs: 5_000 });
    const { runtime } = await createRuntime([writeStep(), textStep("Waiting.")], [tool], { approve: approver.approve });
    const events = new RecordingSink();
    const turn = await runtime.runTurn(textInput("write a.ts"), { events });
    expect(approver.asked).toHaveLength(1);
    expect(written).toEqual([]);
    const stop = turn.outcome.type === "stopped" ? turn.outcome.stop : undefined;
    const request = stop?.type === "awaiting_approval" ? stop.approvals[0] : undefined;
    expect(request?.id).toBe(approver.asked[0]?.id);
    expect(Date.parse(request?.expiresAt ?? "") - Date.parse(request?.requestedAt ?? "")).toBe(5_000);
    expect(events.ofType("approval_resolved")).toEqual([]);
  });

  it("fails the call, not the turn, when the approver throws or answers nonsense", async () => {
    const { tool, written } = writeTool();
    const { runtime } = await createRuntime([writeStep(), textStep("Hm.")], [tool], {
      approve: () => {
        throw new Error("approver offline");
      },
    });
    const turn = await runtime.runTurn(textInput("write a.ts"));
    expect(turn.outcome.type).toBe("finished");
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "approval_handler_failed", message: "The approver failed: approver offline" },
    });

    const nonsense = await createRuntime([writeStep(), textStep("Hm.")], [tool], {
      approve: () => ({ type: "maybe" }) as unknown as ApprovalAnswer,
    });
    const second = await nonsense.runtime.runTurn(textInput("write a.ts"));
    expect(failureCode(second.toolCalls[0])).toBe("invalid_approval_answer");
    expect(written).toEqual([]);
  });

  it("cancels a call whose approver is still waiting when the turn is cancelled", async () => {
    const { tool, written } = writeTool();
    const controller = new AbortController();
    let sawAbort = false;
    const { runtime } = await createRuntime([writeStep()], [tool], {
      approve: (_request, { signal }) =>
        new Promise<ApprovalAnswer>((resolve) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve({ type: "approve" });
          });
          setTimeout(() => controller.abort(), 10);
        }),
    });
    const turn = await runtime.runTurn(textInput("write a.ts"), { signal: controller.signal });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.toolCalls[0]?.output.outcome.status).toBe("cancelled");
    expect(sawAbort).toBe(true);
    expect(written).toEqual([]);
  });

  it("emits approval_requested before asking and approval_resolved after, in both streams", async () => {
    const { tool } = writeTool();
    const order: string[] = [];
    const { runtime } = await createRuntime([writeStep(), textStep("Done.")], [tool], {
      approve: () => {
        order.push("asked");
        return { type: "approve", decidedBy: "alice" };
      },
    });
    const events = new RecordingSink();
    const turn = runtime.streamTurn(textInput("write a.ts"), {
      events: {
        emit: (event) => {
          events.emit(event);
          if (event.type.startsWith("approval_")) order.push(event.type);
        },
      },
    });
    const activities: TurnActivity[] = [];
    for await (const activity of turn) activities.push(activity);
    await turn.result;

    const toolEvents = (types: readonly string[]) => types.filter((type) => type.startsWith("tool_call_") || type.startsWith("approval_"));
    const expected = ["tool_call_started", "approval_requested", "approval_resolved", "tool_call_completed"];
    expect(toolEvents(events.events.map((event) => event.type))).toEqual(expected);
    expect(toolEvents(activities.map((activity) => activity.type))).toEqual(expected);
    expect(order).toEqual(["approval_requested", "asked", "approval_resolved"]);
    const correlated = activities.filter((activity) => toolEvents([activity.type]).length > 0);
    expect(new Set(correlated.map((activity) => activity.correlationId))).toEqual(new Set(["tool:call-1"]));

    const [requested] = events.ofType("approval_requested");
    const [resolved] = events.ofType("approval_resolved");
    expect(requested?.request).toMatchObject({ callId: "call-1", tool: "write", summary: "overwrite a.ts" });
    expect(resolved).toEqual({
      type: "approval_resolved",
      id: requested?.request.id,
      sessionId: "root",
      callId: "call-1",
      tool: "write",
      resolution: { decision: "approved", decidedBy: "alice", decidedAt: expect.any(String), source: "handler" },
    });
    const activity = activities.find((item) => item.type === "approval_resolved");
    expect(activity).toMatchObject({ resolution: { decision: "approved" } });
  });

  it("puts calls nested in the `batch` tool through the same gate", async () => {
    const { tool, written } = writeTool();
    const approver = recordingApprover((request) =>
      (request.args as { path: string }).path === "ok.ts" ? { type: "approve" } : { type: "reject", reason: "no" },
    );
    const { runtime } = await createRuntime(
      [
        toolCallStep([
          {
            callId: "batch-1",
            name: "batch",
            args: {
              tool_calls: [
                { tool: "write", parameters: { path: "ok.ts" } },
                { tool: "write", parameters: { path: "bad.ts" } },
                { tool: "read", parameters: { path: "c.ts" } },
              ],
            },
          },
        ]),
        textStep("Done."),
      ],
      [tool, readTool],
      { approve: approver.approve },
    );
    const activities = new RecordingActivities();
    const turn = await runtime.runTurn(textInput("batch"), { activities });
    expect(approver.asked.map((request) => [request.callId, request.args])).toEqual([
      [undefined, { path: "ok.ts" }],
      [undefined, { path: "bad.ts" }],
    ]);
    expect(written).toEqual(["ok.ts"]);
    const outcome = turn.toolCalls[0]?.output.outcome;
    expect(outcome?.status === "success" ? outcome.payload : undefined).toMatchObject({
      results: [
        { index: 0, tool: "write", success: true, result: "wrote ok.ts" },
        { index: 1, tool: "write", success: false, error: "The user rejected this call: no" },
        { index: 2, tool: "read", success: true, result: "contents of c.ts" },
      ],
    });
    // Nested calls have no events of their own: their approval events join the `batch` call's.
    expect(activities.ofType("approval_requested").map((activity) => activity.correlationId)).toEqual(["tool:batch-1", "tool:batch-1"]);
    expect(activities.ofType("approval_resolved").map((activity) => activity.resolution.decision)).toEqual(["approved", "rejected"]);
  });

  it("fails a nested call that nobody approves with advice to call the tool directly", async () => {
    const { tool, written } = writeTool();
    const { runtime } = await createRuntime(
      [
        toolCallStep([{ callId: "batch-1", name: "batch", args: { tool_calls: [{ tool: "write", parameters: { path: "a.ts" } }] } }]),
        textStep("Ok."),
      ],
      [tool],
    );
    const turn = await runtime.runTurn(textInput("batch"));
    expect(written).toEqual([]);
    const outcome = turn.toolCalls[0]?.output.outcome;
    expect(outcome?.status === "success" ? outcome.payload : undefined).toMatchObject({
      results: [{ success: false, error: expect.stringMatching(/call this tool directly so it can be approved/) }],
    });
  });

  it("runs the calls of the batch that need no approval as usual, beside a rejected one", async () => {
    const { tool, written } = writeTool();
    const approver = recordingApprover({ type: "reject", reason: "read first" });
    const { runtime, provider } = await createRuntime(
      [
        toolCallStep([
          { callId: "c-read", name: "read", args: { path: "a.ts" } },
          { callId: "c-write", name: "write", args: { path: "a.ts" } },
          { callId: "c-read-2", name: "read", args: { path: "b.ts" } },
        ]),
        textStep("Ok."),
      ],
      [tool, readTool],
      { approve: approver.approve },
    );
    const turn = await runtime.runTurn(textInput("go"));
    expect(approver.asked.map((request) => request.callId)).toEqual(["c-write"]);
    expect(written).toEqual([]);
    expect(turn.toolCalls.map((record) => [record.callId, record.output.outcome.status, record.approval?.decision])).toEqual([
      ["c-read", "success", undefined],
      ["c-write", "failure", "rejected"],
      ["c-read-2", "success", undefined],
    ]);
    const results = toolResults(provider.requests[1]);
    expect(results.get("c-read")).toContain("contents of a.ts");
    expect(results.get("c-write")).toBe("[Tool execution failed]\nThe user rejected this call: read first");
  });

  it("never asks about invalid arguments or unknown tools (dispatch refuses them as usual)", async () => {
    const { tool } = writeTool();
    const approver = recordingApprover({ type: "approve" });
    const { runtime } = await createRuntime(
      [
        toolCallStep([
          { callId: "c-bad", name: "write", args: { path: 42 } },
          { callId: "c-ghost", name: "ghost", args: {} },
        ]),
        textStep("Ok."),
      ],
      [tool],
      { approve: approver.approve },
    );
    const turn = await runtime.runTurn(textInput("go"));
    expect(approver.asked).toEqual([]);
    expect(turn.toolCalls.map(failureCode)).toEqual(["invalid_tool_args", "tool_unavailable"]);
  });

  it("rejects a runtime approver that is not a function", async () => {
    const provider = new ScriptedProvider([textStep("never")], { defaultModel: MODEL, providerId: "mock" });
    const builder = LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
      .withProvider(provider)
      .withApprovals({ approve: "yes" as unknown as ApprovalHandler });
    await expect(builder.build()).rejects.toMatchObject({ code: "invalid_configuration" });
  });
});
