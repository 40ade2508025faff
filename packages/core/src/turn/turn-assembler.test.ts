import type {
  Message,
  MessagePart,
  MessageRole,
  SessionEvent,
  SessionNodeRecord,
  SessionStateEnvelope,
  TokenUsage,
  ToolCallOutput,
  TurnActivity,
  TurnIssue,
} from "@lash/protocol";
import { emptyTokenUsage } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import type { AssemblerFinishInput } from "./turn-assembler.js";
import { issueFromErrorEvent, TurnAssembler } from "./turn-assembler.js";

let nextId = 0;
function freshId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

function prose(content: string): MessagePart {
  return { kind: "prose", id: freshId("part"), content };
}

function text(content: string): MessagePart {
  return { kind: "text", id: freshId("part"), content };
}

function message(role: MessageRole, ...parts: (MessagePart | string)[]): Message {
  return { id: freshId("message"), role, parts: parts.map((part) => (typeof part === "string" ? prose(part) : part)) };
}

/** A session state whose active path is `messages`, in order. */
function stateWith(messages: readonly Message[] = [], executionMode = "standard"): SessionStateEnvelope {
  const nodes: SessionNodeRecord[] = [];
  for (const entry of messages) {
    const parentNodeId = nodes.at(-1)?.nodeId;
    const node: SessionNodeRecord = {
      nodeId: entry.id,
      timestamp: "2026-01-01T00:00:00.000Z",
      payload: { kind: "message", message: entry },
    };
    if (parentNodeId !== undefined) node.parentNodeId = parentNodeId;
    nodes.push(node);
  }
  const leafNodeId = nodes.at(-1)?.nodeId;
  return {
    sessionId: "root",
    policy: { sessionId: "root", providerId: "mock", model: "mock-model", maxContextTokens: 200_000, executionMode },
    sessionGraph: leafNodeId === undefined ? { nodes } : { nodes, leafNodeId },
    turnIndex: 1,
    tokenUsage: emptyTokenUsage(),
  };
}

function proseDelta(correlationId: string, content: string): TurnActivity {
  return { id: freshId("activity"), correlationId, type: "text_delta", text: content };
}

function finishInput(state: SessionStateEnvelope, overrides: Partial<AssemblerFinishInput> = {}): AssemblerFinishInput {
  return { state, interrupted: false, treatMissingDoneAsFailure: true, ...overrides };
}

function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

const SUCCESS: ToolCallOutput = { outcome: { status: "success", payload: "ok" } };
const FAILURE: ToolCallOutput = {
  outcome: {
    status: "failure",
    payload: { class: "internal", code: "boom", message: "tool exploded", source: "tool", retry: { type: "never" } },
  },
};
const CANCELLED: ToolCallOutput = { outcome: { status: "cancelled", payload: { message: "cancelled", source: "runtime" } } };

function toolCallEvent(output: ToolCallOutput, callId?: string): SessionEvent {
  const event: Extract<SessionEvent, { type: "tool_call_completed" }> = {
    type: "tool_call_completed",
    name: "echo_tool",
    args: { value: "x" },
    output,
    durationMs: 3,
  };
  if (callId !== undefined) event.callId = callId;
  return event;
}

const DONE: SessionEvent = { type: "done" };

function assembler(
  events: readonly SessionEvent[] = [],
  activities: readonly TurnActivity[] = [],
  captureTextDeltas = true,
): TurnAssembler {
  const result = new TurnAssembler({ captureTextDeltas });
  for (const activity of activities) result.pushTurnActivity(activity);
  for (const event of events) result.push(event);
  return result;
}

describe("TurnAssembler", () => {
  it("assembler_uses_last_semantic_assistant_prose_group: a new correlation id replaces the earlier prose", () => {
    const turn = assembler([DONE], [proseDelta("A", "first"), proseDelta("B", "second")]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "second" } });
    expect(turn.assistantOutput.safeText).toBe("second");
  });

  it("assembler_coalesces_semantic_assistant_prose_with_same_correlation_id: deltas of one group are joined", () => {
    const turn = assembler([DONE], [proseDelta("A", "hel"), proseDelta("A", "lo")]).finish(finishInput(stateWith()));
    expect(turn.assistantOutput.safeText).toBe("hello");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "hello" } });
  });

  it("assembler_rewrites_assistant_message_outcome_to_last_semantic_prose_group: the outcome text becomes the last group", () => {
    const outcome: SessionEvent = {
      type: "turn_outcome",
      outcome: { type: "finished", finish: { type: "assistant_message", text: "first\n\nsecond" } },
    };
    const turn = assembler([outcome, DONE], [proseDelta("A", "first"), proseDelta("B", "second")]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "second" } });
    expect(turn.assistantOutput.safeText).toBe("second");
  });

  it("assembler_uses_submitted_value_for_assistant_output_when_semantic_prose_streamed: the value is the answer", () => {
    const finished = { type: "finished", finish: { type: "submitted_value", value: { ok: true } } } as const;
    const turn = assembler([{ type: "turn_outcome", outcome: finished }, DONE], [proseDelta("A", "ignored prose")]).finish(
      finishInput(stateWith()),
    );
    expect(turn.outcome).toEqual(finished);
    expect(turn.assistantOutput.safeText).toBe('{\n  "ok": true\n}');
    expect(turn.assistantOutput.rawText).toBe('{\n  "ok": true\n}');
  });

  it("assembler_keeps_tool_value_when_semantic_prose_streamed: a tool value outcome is not rewritten", () => {
    const finished = { type: "finished", finish: { type: "tool_value", toolName: "finish", value: "done" } } as const;
    const turn = assembler([{ type: "turn_outcome", outcome: finished }, DONE], [proseDelta("A", "prose")]).finish(
      finishInput(stateWith()),
    );
    expect(turn.outcome).toEqual(finished);
    expect(turn.assistantOutput.safeText).toBe("prose");
  });

  it("interrupted_assembler_does_not_finish_with_semantic_assistant_prose: the turn is cancelled and keeps the partial text", () => {
    const turn = assembler([], [proseDelta("A", "partial answer")]).finish(finishInput(stateWith(), { interrupted: true }));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.safeText).toBe("partial answer");
  });

  it("assembler_falls_back_to_last_assistant_message_when_stream_output_is_empty: the stored answer is used", () => {
    const state = stateWith([message("user", text("question")), message("assistant", "stored")]);
    const turn = assembler([DONE]).finish(finishInput(state));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "stored" } });
    expect(turn.assistantOutput).toEqual({ safeText: "stored", rawText: "stored", state: "usable" });
  });

  it("interrupted_assembler_does_not_reuse_assistant_before_latest_user_message: an older answer is never the answer", () => {
    const state = stateWith([message("assistant", "previous answer"), message("user", text("new prompt"))]);
    const turn = assembler().finish(finishInput(state, { interrupted: true }));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.safeText).toBe("");
    expect(turn.assistantOutput.rawText).toBe("");
  });

  it("assembler_prefers_state_output_when_streamed_text_is_a_truncated_prefix: the complete stored text wins", () => {
    const full = "She holds a Master of Science in Business Administration.";
    const state = stateWith([message("user", text("degree?")), message("assistant", full)]);
    const turn = assembler([{ type: "text_delta", text: "She holds a Master of Science in Business" }, DONE]).finish(finishInput(state));
    expect(turn.assistantOutput).toEqual({ safeText: full, rawText: full, state: "usable" });
  });

  it("assembler_state_output_excludes_tool_call_payload: only the prose of the stored message counts", () => {
    const toolCall: MessagePart = {
      kind: "tool_call",
      id: freshId("part"),
      callId: "call_1",
      toolName: "grep",
      inputJson: '{"tool_calls":[{"name":"grep","pattern":"fn main"}]}',
    };
    const state = stateWith([message("user", text("find it")), message("assistant", "Searching for the relevant code.", toolCall)]);
    const turn = assembler().finish(finishInput(state, { interrupted: true }));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.assistantOutput.safeText).toBe("Searching for the relevant code.");
    expect(turn.assistantOutput.rawText).not.toContain("tool_calls");
  });

  it("assembler_marks_tool_failure: a failed call plus an error without an outcome is a tool failure", () => {
    const turn = assembler([toolCallEvent(FAILURE, "call_1"), { type: "error", message: "tool problem" }, DONE]).finish(
      finishInput(stateWith()),
    );
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "tool_failure" } });
    expect(turn.toolCalls).toHaveLength(1);
    expect(turn.errors).toEqual([{ kind: "runtime", message: "tool problem" }]);
  });

  it("assembler_marks_missing_done_as_failure: a stream without done is a runtime error", () => {
    const turn = assembler([{ type: "text_delta", text: "partial" }]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
  });

  it("assembler_detects_max_turn_message: a turn-limit note in the history stops with max_turns", () => {
    const state = stateWith([message("user", text("go")), message("system", text("Turn limit reached (5)."))]);
    const turn = assembler([DONE]).finish(finishInput(state));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
  });
});

describe("TurnAssembler prose blocks", () => {
  it("keeps the earlier prose when the last model call produced none", () => {
    const turn = assembler([toolCallEvent(SUCCESS, "call_1"), DONE], [proseDelta("A", "Here is the answer.")]).finish(
      finishInput(stateWith()),
    );
    expect(turn.assistantOutput.safeText).toBe("Here is the answer.");
  });

  it("restarts a block when an earlier correlation id comes back after another one", () => {
    const turn = assembler([DONE], [proseDelta("A", "one"), proseDelta("B", "two"), proseDelta("A", "three")]).finish(
      finishInput(stateWith()),
    );
    expect(turn.assistantOutput.safeText).toBe("three");
  });

  it("ignores activities other than assistant prose", () => {
    const reasoning: TurnActivity = { id: freshId("activity"), correlationId: "A", type: "reasoning_delta", text: " (thinking)" };
    const turn = assembler([DONE], [proseDelta("A", "answer"), reasoning]).finish(finishInput(stateWith()));
    expect(turn.assistantOutput.safeText).toBe("answer");
  });

  it("sanitises the answer in the rewritten outcome but keeps the raw text", () => {
    const outcome: SessionEvent = {
      type: "turn_outcome",
      outcome: { type: "finished", finish: { type: "assistant_message", text: "ignored" } },
    };
    const turn = assembler([outcome, DONE], [proseDelta("A", "\n  Line one.  \r\nLine two.\t\r\n")]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Line one.\nLine two." } });
    expect(turn.assistantOutput.rawText).toBe("\n  Line one.  \r\nLine two.\t\r\n");
  });

  it("classifies whitespace-only prose as usable with an empty answer", () => {
    const turn = assembler([DONE], [proseDelta("A", "  \n ")]).finish(finishInput(stateWith()));
    expect(turn.assistantOutput).toEqual({ safeText: "", rawText: "  \n ", state: "usable" });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "" } });
  });
});

describe("TurnAssembler fallback text", () => {
  it("uses the streamed text when the stored answer does not start with it", () => {
    const state = stateWith([message("user", text("q")), message("assistant", "a different stored answer")]);
    const turn = assembler([{ type: "text_delta", text: "  streamed answer " }, DONE]).finish(finishInput(state));
    expect(turn.assistantOutput.rawText).toBe("streamed answer");
  });

  it("uses the streamed text when nothing is stored", () => {
    const turn = assembler([{ type: "text_delta", text: "only streamed" }, DONE]).finish(finishInput(stateWith()));
    expect(turn.assistantOutput.safeText).toBe("only streamed");
  });

  it("ignores text deltas when they are not captured", () => {
    const state = stateWith([message("user", text("q")), message("assistant", "stored answer")]);
    const turn = assembler([{ type: "text_delta", text: "streamed answer" }, DONE], [], false).finish(finishInput(state));
    expect(turn.assistantOutput.safeText).toBe("stored answer");
  });

  it("stops at a tool-result message, which is a user message", () => {
    const toolResult: MessagePart = { kind: "tool_result", id: freshId("part"), callId: "call_1", content: "42" };
    const state = stateWith([message("user", text("q")), message("assistant", "Let me check."), message("user", toolResult)]);
    const turn = assembler([DONE]).finish(finishInput(state));
    expect(turn.assistantOutput).toEqual({ safeText: "", rawText: "", state: "empty_output" });
  });

  it("takes the last assistant message after the latest user message, joining text and prose without separators", () => {
    const image: MessagePart = { kind: "image", id: freshId("part"), attachment: { id: "abc", mediaType: "image/png", byteLength: 4 } };
    const state = stateWith([
      message("user", text("q")),
      message("assistant", "earlier reply"),
      message("assistant", prose("Look"), image, text(" here"), { kind: "reasoning", id: freshId("part"), content: " (hidden)" }),
    ]);
    const turn = assembler([DONE]).finish(finishInput(state));
    expect(turn.assistantOutput.rawText).toBe("Look here");
  });

  it("searches the whole history when there is no user message", () => {
    const state = stateWith([message("system", text("setup")), message("assistant", "greeting")]);
    expect(assembler([DONE]).finish(finishInput(state)).assistantOutput.safeText).toBe("greeting");
  });
});

describe("TurnAssembler outcome rules", () => {
  it("stops with the interruption's own stop, such as a wall-time budget", () => {
    const turn = assembler([DONE]).finish(
      finishInput(stateWith(), { interrupted: true, interruptionStop: { type: "budget_exhausted", budget: "wall_time" } }),
    );
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "wall_time" } });
  });

  it("lets an interruption win over an outcome event, keeping the event's issue", () => {
    const error: SessionEvent = {
      type: "error",
      message: "LLM error: cancelled",
      envelope: { kind: "llm_provider", code: "cancelled", terminalReason: "cancelled", userMessage: "LLM error: cancelled" },
    };
    const providerError: SessionEvent = { type: "turn_outcome", outcome: { type: "stopped", stop: { type: "provider_error" } } };
    const turn = assembler([error, providerError, DONE]).finish(finishInput(stateWith(), { interrupted: true }));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(turn.errors).toEqual([
      { kind: "llm_provider", code: "cancelled", terminalReason: "cancelled", message: "LLM error: cancelled" },
    ]);
  });

  it("keeps handoff and stopped outcomes from the event stream", () => {
    const handoff = assembler([{ type: "turn_outcome", outcome: { type: "handoff", sessionId: "successor" } }, DONE]).finish(
      finishInput(stateWith()),
    );
    expect(handoff.outcome).toEqual({ type: "handoff", sessionId: "successor" });
    const incomplete = assembler([{ type: "turn_outcome", outcome: { type: "stopped", stop: { type: "incomplete" } } }, DONE]).finish(
      finishInput(stateWith()),
    );
    expect(incomplete.outcome).toEqual({ type: "stopped", stop: { type: "incomplete" } });
  });

  it("finishes normally without done when missing done is not a failure", () => {
    const turn = assembler([], [proseDelta("A", "answer")]).finish(finishInput(stateWith(), { treatMissingDoneAsFailure: false }));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "answer" } });
  });

  it("stops with a runtime error when issues were recorded and no tool failed", () => {
    const turn = assembler([toolCallEvent(SUCCESS), { type: "error", message: "broken" }, DONE]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
  });

  it("counts a cancelled tool call as a tool failure", () => {
    const turn = assembler([toolCallEvent(CANCELLED), { type: "error", message: "broken" }, DONE]).finish(finishInput(stateWith()));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "tool_failure" } });
  });

  it("lets recorded issues win over a turn-limit note", () => {
    const state = stateWith([message("system", text("Turn limit reached (3)."))]);
    const turn = assembler([{ type: "error", message: "broken" }, DONE]).finish(finishInput(state));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
  });

  it("finds a turn-limit note in any part with content, among the last 8 messages only", () => {
    const note = message("system", { kind: "output", id: freshId("part"), content: "Turn limit reached (8)." });
    const recent = stateWith([message("user", text("go")), note]);
    expect(assembler([DONE]).finish(finishInput(recent)).outcome).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    const later = Array.from({ length: 8 }, (_, index) => message(index % 2 === 0 ? "assistant" : "user", text(`message ${index}`)));
    const old = stateWith([note, ...later]);
    expect(assembler([DONE]).finish(finishInput(old)).outcome.type).toBe("finished");
  });

  it("ignores a turn-limit text outside system messages", () => {
    const state = stateWith([message("user", text("What does 'Turn limit reached (5).' mean?"))]);
    expect(assembler([DONE]).finish(finishInput(state)).outcome.type).toBe("finished");
  });
});

describe("TurnAssembler issues", () => {
  it("records an error event without an envelope as a runtime issue", () => {
    expect(issueFromErrorEvent({ type: "error", message: "plain" })).toEqual({ kind: "runtime", message: "plain" });
  });

  it("takes kind, code, terminal reason and raw body from the envelope", () => {
    const issue = issueFromErrorEvent({
      type: "error",
      message: "LLM error: overloaded",
      envelope: {
        kind: "llm_provider",
        code: "http_529",
        terminalReason: "provider_error",
        userMessage: "LLM error: overloaded",
        raw: "{}",
      },
    });
    expect(issue).toEqual({
      kind: "llm_provider",
      code: "http_529",
      terminalReason: "provider_error",
      message: "LLM error: overloaded",
      raw: "{}",
    });
  });

  it("adds a forced issue once when an error event already recorded it", () => {
    const error: SessionEvent = {
      type: "error",
      message: "blocked by policy",
      envelope: { kind: "plugin", code: "blocked", userMessage: "blocked by policy" },
    };
    const abort: SessionEvent = { type: "turn_outcome", outcome: { type: "stopped", stop: { type: "plugin_abort" } } };
    const turn = assembler([error, abort, DONE]).finish(
      finishInput(stateWith(), { forcedIssue: { kind: "plugin", code: "blocked", message: "blocked by policy" } }),
    );
    expect(turn.errors).toEqual([{ kind: "plugin", code: "blocked", message: "blocked by policy" }]);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "plugin_abort" } });
  });

  it("adds a forced issue that differs from the recorded ones, and then recovers the text", () => {
    const forced: TurnIssue = { kind: "runtime", code: "driver_failed", message: "driver failed" };
    const result = assembler([{ type: "error", message: "other" }, DONE], [proseDelta("A", "answer")]);
    const turn = result.finish(finishInput(stateWith(), { forcedIssue: forced }));
    expect(turn.errors).toEqual([{ kind: "runtime", message: "other" }, forced]);
    expect(turn.assistantOutput.state).toBe("recovered_from_error");
    // The forced issue belongs to the assembled turn only.
    expect(result.issues).toEqual([{ kind: "runtime", message: "other" }]);
  });

  it("renders a null submitted value as an empty answer", () => {
    const turn = assembler([
      { type: "turn_outcome", outcome: { type: "finished", finish: { type: "submitted_value", value: null } } },
      DONE,
    ]).finish(finishInput(stateWith()));
    expect(turn.assistantOutput).toEqual({ safeText: "", rawText: "", state: "empty_output" });
  });
});

describe("TurnAssembler usage, tool calls and execution", () => {
  it("reports the last cumulative and the last call's usage", () => {
    const result = assembler();
    expect(result.tokenUsage).toEqual(emptyTokenUsage());
    expect(result.lastLlmUsage).toBeUndefined();
    result.push({ type: "usage", modeIteration: 0, usage: usage(10, 2), cumulative: usage(10, 2) });
    result.push({ type: "usage", modeIteration: 1, usage: usage(0, 0), cumulative: usage(10, 2) });
    // The cumulative is taken as reported, never recomputed from the per-call usage.
    result.push({ type: "usage", modeIteration: 2, usage: usage(5, 1, 3), cumulative: usage(40, 9, 3) });
    result.push(DONE);
    expect(result.tokenUsage).toEqual(usage(40, 9, 3));
    expect(result.lastLlmUsage).toEqual(usage(5, 1, 3));
    expect(result.finish(finishInput(stateWith())).tokenUsage).toEqual(usage(40, 9, 3));
  });

  it("sums child usage per source and model across child sessions, sorted by source then model", () => {
    const child = (sessionId: string, source: string, model: string, delta: TokenUsage, cumulative: TokenUsage): SessionEvent => ({
      type: "child_usage",
      sessionId,
      source,
      model,
      modeIteration: 0,
      usage: delta,
      cumulative,
    });
    const turn = assembler([
      child("child-b", "subagent", "model-z", usage(1, 1), usage(1, 1)),
      child("child-a", "subagent", "model-a", usage(7, 2, 4, 1), usage(7, 2, 4, 1)),
      child("child-c", "compaction", "model-z", usage(0, 0, 9), usage(0, 0, 9)),
      child("child-d", "subagent", "model-a", usage(3, 1), usage(3, 1)),
      child("child-a", "subagent", "model-a", usage(2, 0), usage(9, 2, 4, 1)),
      DONE,
    ]).finish(finishInput(stateWith()));
    expect(turn.childrenUsage).toEqual([
      { source: "compaction", model: "model-z", usage: usage(0, 0, 9) },
      { source: "subagent", model: "model-a", usage: usage(12, 3, 4, 1) },
      { source: "subagent", model: "model-z", usage: usage(1, 1) },
    ]);
  });

  it("counts every turn of a child that ran twice during the parent turn", () => {
    const firstTurn: SessionEvent = {
      type: "child_usage",
      sessionId: "child",
      source: "subagent",
      model: "m",
      modeIteration: 0,
      usage: usage(7, 2),
      cumulative: usage(7, 2),
    };
    const secondTurn: SessionEvent = { ...firstTurn, usage: usage(5, 1), cumulative: usage(5, 1) };
    const turn = assembler([firstTurn, secondTurn, DONE]).finish(finishInput(stateWith()));
    expect(turn.childrenUsage).toEqual([{ source: "subagent", model: "m", usage: usage(12, 3) }]);
  });

  it("records tool calls in order, without a call id when the event has none", () => {
    const result = assembler([toolCallEvent(SUCCESS, "call_1"), toolCallEvent(SUCCESS), DONE]);
    expect(result.toolCalls).toEqual([
      { callId: "call_1", tool: "echo_tool", args: { value: "x" }, output: SUCCESS, durationMs: 3 },
      { tool: "echo_tool", args: { value: "x" }, output: SUCCESS, durationMs: 3 },
    ]);
    expect(result.toolCalls[1]).not.toHaveProperty("callId");
    const turn = result.finish(finishInput(stateWith()));
    expect(turn.toolCalls).toEqual(result.toolCalls);
    expect(turn.outcome.type).toBe("finished");
  });

  it("summarises the execution: the state's mode, tool calls, and code execution once marked", () => {
    const plain = assembler([DONE]).finish(finishInput(stateWith([], "rlm")));
    expect(plain.execution).toEqual({ mode: "rlm", hadToolCalls: false, hadCodeExecution: false });
    const busy = assembler([toolCallEvent(SUCCESS, "call_1"), DONE]);
    busy.markCodeExecution();
    expect(busy.finish(finishInput(stateWith())).execution).toEqual({ mode: "standard", hadToolCalls: true, hadCodeExecution: true });
  });

  it("exposes done, the outcome event and the recorded issues while the turn runs", () => {
    const result = assembler();
    expect(result.sawDone).toBe(false);
    expect(result.outcome).toBeUndefined();
    result.push({ type: "error", message: "oops" });
    result.push({ type: "turn_outcome", outcome: { type: "stopped", stop: { type: "runtime_error" } } });
    result.push(DONE);
    expect(result.sawDone).toBe(true);
    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
    expect(result.issues).toEqual([{ kind: "runtime", message: "oops" }]);
  });

  it("returns the state it was given", () => {
    const state = stateWith([message("user", text("q"))]);
    expect(assembler([DONE]).finish(finishInput(state)).state).toBe(state);
  });
});
