import type { Message } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import {
  all,
  answerFirstCall,
  completed,
  drain,
  emptyCheckpoint,
  events,
  eventsOf,
  find,
  messageText,
  newMachine,
  ok,
  outcomeOf,
  response,
  SUCCESS,
  textResponse,
  toolResponse,
  usage,
  userMessage,
} from "../../test/turn-machine-harness.js";
import type { TurnMachine } from "./turn-machine.js";
import type { TurnEffect } from "./turn-machine-types.js";

describe("TurnMachine: terminal reasons", () => {
  it("output_limit stops as incomplete with no assistant message, a text delta and an error", () => {
    const machine = newMachine();
    const effects = answerFirstCall(
      machine,
      textResponse("partial", { terminalReason: "output_limit", terminalDiagnostic: "hit output limit" }),
    );
    expect(machine.finished).toBe(true);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "incomplete" } });
    expect(eventsOf(effects, "text_delta").map((event) => event.text)).toEqual(["partial"]);
    const [error] = eventsOf(effects, "error");
    expect(error?.message).toBe("hit output limit");
    expect(error?.envelope).toMatchObject({ kind: "llm_provider", terminalReason: "output_limit" });
    expect(find(effects, "done").messages.filter((entry) => entry.role === "assistant")).toEqual([]);
    expect(all(effects, "checkpoint")).toEqual([]);
  });

  it("a streamed output_limit response emits no second text delta", () => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, textResponse("partial", { terminalReason: "output_limit" }), true);
    expect(eventsOf(effects, "text_delta")).toEqual([]);
    expect(eventsOf(effects, "error")).toHaveLength(1);
  });

  it("context_overflow stops as a provider error", () => {
    const machine = newMachine();
    const effects = answerFirstCall(
      machine,
      response({ terminalReason: "context_overflow", terminalDiagnostic: "context window exceeded" }),
    );
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(eventsOf(effects, "error")[0]?.envelope).toMatchObject({ kind: "llm_provider", terminalReason: "context_overflow" });
    expect(find(effects, "done")).toBeDefined();
  });

  it.each([
    ["content_filter", { type: "provider_error" }],
    ["provider_error", { type: "provider_error" }],
    ["cancelled", { type: "cancelled" }],
  ] as const)("%s ends the turn without the driver", (terminalReason, stop) => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, textResponse("text", { terminalReason }));
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop });
    expect(find(effects, "done").messages.some((entry) => entry.role === "assistant")).toBe(false);
  });

  it("a failed model call emits an llm_provider error with the truncated raw body and stops as a provider error", () => {
    const machine = newMachine();
    const call = find(drain(machine), "llm_call");
    const raw = `${"a".repeat(3000)}${"b".repeat(3000)}`;
    machine.handleLlmComplete(call.id, {
      ok: false,
      error: { message: "provider unavailable", code: "http_500", terminalReason: "provider_error", retryable: true, raw },
      partialUsage: { inputTokens: 4, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 },
    });
    const effects = drain(machine);
    const [error] = eventsOf(effects, "error");
    expect(error?.message).toBe("LLM error: provider unavailable");
    expect(error?.envelope).toMatchObject({
      kind: "llm_provider",
      code: "http_500",
      terminalReason: "provider_error",
      userMessage: "LLM error: provider unavailable",
    });
    expect(error?.envelope?.raw).toBe(`${"a".repeat(2000)}\n\n... (2000 chars omitted) ...\n\n${"b".repeat(2000)}`);
    expect(eventsOf(effects, "usage")[0]?.cumulative).toEqual(usage(4, 1));
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "provider_error" } });
  });

  it("a model response with no text, reasoning or tool call is an empty_response provider error", () => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, response());
    expect(eventsOf(effects, "error")[0]?.envelope).toMatchObject({ kind: "llm_provider", code: "empty_response" });
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "provider_error" } });
  });

  it("an empty response right after tool results finishes with an empty answer", () => {
    const machine = newMachine();
    const batch = find(answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }])), "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    machine.handleCheckpoint(find(drain(machine), "checkpoint").id, emptyCheckpoint());
    machine.handleLlmComplete(find(drain(machine), "llm_call").id, ok(response()));
    const effects = drain(machine);
    expect(eventsOf(effects, "error")).toEqual([]);
    const checkpoint = find(effects, "checkpoint");
    machine.handleCheckpoint(checkpoint.id, emptyCheckpoint());
    expect(outcomeOf(drain(machine))).toEqual({ type: "finished", finish: { type: "assistant_message", text: "" } });
  });
});

describe("TurnMachine: checkpoints", () => {
  it("checkpoint messages cause progress (mode iteration 1) before the next model call", () => {
    const machine = newMachine();
    const checkpoint = find(answerFirstCall(machine, textResponse("Hello")), "checkpoint");
    expect(checkpoint.kind).toBe("before_completion");
    machine.handleCheckpoint(checkpoint.id, { ok: true, committed: [userMessage("one more thing", "injected")], transient: [] });
    const effects = drain(machine);
    const progressIndex = effects.findIndex((effect) => effect.type === "progress");
    const llmIndex = effects.findIndex((effect) => effect.type === "llm_call");
    expect(progressIndex).toBeGreaterThanOrEqual(0);
    expect(progressIndex).toBeLessThan(llmIndex);
    const progress = find(effects, "progress");
    expect(progress.modeIteration).toBe(1);
    expect(progress.messages.some((entry) => entry.role === "user" && messageText(entry) === "one more thing")).toBe(true);
    expect(machine.messages.some((entry) => messageText(entry) === "one more thing")).toBe(true);
    expect(outcomeOf(effects)).toBeUndefined();
    // The next call sees the previous answer and then the injected message.
    const request = find(effects, "llm_call").request;
    expect(
      request.messages
        .slice(1)
        .map((entry) => [entry.role, entry.blocks.map((block) => (block.type === "text" ? block.text : block.type)).join("")]),
    ).toEqual([
      ["user", "hello"],
      ["assistant", "Hello"],
      ["user", "one more thing"],
    ]);
    expect(eventsOf(effects, "model_request_started")[0]?.modeIteration).toBe(1);
  });

  it("transient checkpoint messages are sent to the model too", () => {
    const machine = newMachine();
    const checkpoint = find(answerFirstCall(machine, textResponse("Hello")), "checkpoint");
    const transient: Message = {
      ...userMessage("typed meanwhile", "typed"),
      origin: { type: "plugin", pluginId: "plugin", transient: true },
    };
    machine.handleCheckpoint(checkpoint.id, { ok: true, committed: [], transient: [transient] });
    const request = find(drain(machine), "llm_call").request;
    expect(request.messages.at(-1)).toEqual({ role: "user", blocks: [{ type: "text", text: "typed meanwhile" }] });
  });

  it("drops assistant-role checkpoint messages", () => {
    const machine = newMachine();
    const checkpoint = find(answerFirstCall(machine, textResponse("Hello")), "checkpoint");
    const assistant: Message = { id: "a1", role: "assistant", parts: [{ kind: "prose", id: "a1.p0", content: "pretend answer" }] };
    machine.handleCheckpoint(checkpoint.id, { ok: true, committed: [assistant], transient: [] });
    const effects = drain(machine);
    // Nothing usable was injected: the checkpoint behaves as empty and the turn finishes.
    expect(outcomeOf(effects)).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello" } });
    expect(machine.messages.some((entry) => messageText(entry) === "pretend answer")).toBe(false);
  });

  it("a failed checkpoint ends the turn: an abort as plugin_abort, another failure as runtime_error", () => {
    const aborted = newMachine();
    aborted.handleCheckpoint(find(answerFirstCall(aborted, textResponse("Hello")), "checkpoint").id, {
      ok: false,
      code: "blocked",
      message: "blocked by policy",
      abort: true,
    });
    const abortEffects = drain(aborted);
    expect(outcomeOf(abortEffects)).toEqual({ type: "stopped", stop: { type: "plugin_abort" } });
    expect(eventsOf(abortEffects, "error")).toHaveLength(1);
    expect(eventsOf(abortEffects, "error")[0]?.envelope).toMatchObject({ kind: "plugin", code: "blocked" });

    const failed = newMachine();
    failed.handleCheckpoint(find(answerFirstCall(failed, textResponse("Hello")), "checkpoint").id, {
      ok: false,
      code: "plugin_checkpoint",
      message: "hook failed",
      abort: false,
    });
    expect(outcomeOf(drain(failed))).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
  });

  it("an empty after_work checkpoint goes round to the next model call", () => {
    const machine = newMachine();
    const batch = find(answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }])), "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    const effects = drain(machine);
    expect(find(effects, "progress").modeIteration).toBe(1);
    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    expect(find(drain(machine), "llm_call")).toBeDefined();
  });
});

describe("TurnMachine: redelivery", () => {
  it("ignores a response with a stale or unknown effect id", () => {
    const machine = newMachine();
    const call = find(drain(machine), "llm_call");
    machine.handleLlmComplete(call.id + 1, ok(textResponse("wrong")));
    machine.handleLlmComplete(0, ok(textResponse("wrong")));
    expect(drain(machine)).toEqual([]);
    expect(machine.finished).toBe(false);

    machine.handleLlmComplete(call.id, ok(textResponse("right")));
    const effects = drain(machine);
    expect(eventsOf(effects, "text_delta").map((event) => event.text)).toEqual(["right"]);

    // Delivering the same result again does nothing.
    machine.handleLlmComplete(call.id, ok(textResponse("again")));
    expect(drain(machine)).toEqual([]);
  });

  it("ignores a response of the wrong kind for the outstanding effect", () => {
    const machine = newMachine();
    const call = find(drain(machine), "llm_call");
    machine.handleToolResults(call.id, []);
    machine.handleCheckpoint(call.id, emptyCheckpoint());
    expect(drain(machine)).toEqual([]);
    machine.handleLlmComplete(call.id, ok(textResponse("fine")));
    expect(find(drain(machine), "checkpoint")).toBeDefined();
  });
});

describe("TurnMachine: execution surface sync", () => {
  it("the initial sync is host-only (no machine update), then the model is called", () => {
    const machine = newMachine({ config: { syncExecutionSurface: true } });
    const effects = drain(machine);
    expect(effects.map((effect) => effect.type)).toEqual(["sync_execution_surface"]);
    const sync = find(effects, "sync_execution_surface");
    expect(sync.updateMachineConfig).toBe(false);
    machine.handleSurfaceSynced(sync.id, { ok: true });
    expect(find(drain(machine), "llm_call").request.messages[0]).toEqual({
      role: "system",
      blocks: [{ type: "text", text: "You are a test." }],
    });
  });

  it("a sync at a new iteration can refresh the prompt and the tools", () => {
    const machine = newMachine({ config: { syncExecutionSurface: true } });
    machine.handleSurfaceSynced(find(drain(machine), "sync_execution_surface").id, { ok: true });
    const batch = find(answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }])), "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    machine.handleCheckpoint(find(drain(machine), "checkpoint").id, emptyCheckpoint());
    const sync = find(drain(machine), "sync_execution_surface");
    expect(sync.updateMachineConfig).toBe(true);
    machine.handleSurfaceSynced(sync.id, {
      ok: true,
      systemPrompt: "updated prompt",
      toolSpecs: [{ name: "new_tool", description: "desc", inputSchema: { type: "object" } }],
    });
    const request = find(drain(machine), "llm_call").request;
    expect(request.tools.map((tool) => tool.name)).toEqual(["new_tool"]);
    expect(request.messages[0]).toEqual({ role: "system", blocks: [{ type: "text", text: "updated prompt" }] });
  });

  it("a failed sync ends the turn with an execution_surface error", () => {
    const machine = newMachine({ config: { syncExecutionSurface: true } });
    machine.handleSurfaceSynced(find(drain(machine), "sync_execution_surface").id, { ok: false, message: "tool provider down" });
    const effects = drain(machine);
    expect(eventsOf(effects, "error")[0]).toMatchObject({
      message: "Failed to refresh execution surface: tool provider down",
      envelope: { kind: "execution_surface", code: "reconfigure_failed" },
    });
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "runtime_error" } });
  });
});

describe("TurnMachine: limits", () => {
  function runToolRound(machine: TurnMachine, effects: readonly TurnEffect[]): TurnEffect[] {
    const batch = find(effects, "tool_calls");
    machine.handleToolResults(
      batch.id,
      batch.calls.map((call) => completed(call, SUCCESS("ok"), "ok")),
    );
    return drain(machine);
  }

  it("maxModelCalls 1: tools requested by the only call still run, then the turn stops with max_turns", () => {
    const machine = newMachine({ config: { maxModelCalls: 1 } });
    const first = answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }]));
    const effects = runToolRound(machine, first);
    expect(all(effects, "llm_call")).toEqual([]);
    expect(all(effects, "checkpoint")).toEqual([]);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    const last = find(effects, "done").messages.at(-1);
    expect(last?.role).toBe("system");
    expect(last?.parts).toEqual([
      { kind: "error", id: `${last?.id}.p0`, content: "Turn limit reached (1) before a final assistant response." },
    ]);
  });

  it("maxModelCalls 2 allows exactly two model calls", () => {
    const machine = newMachine({ config: { maxModelCalls: 2 } });
    let effects = runToolRound(machine, answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }])));
    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    const second = find(drain(machine), "llm_call");
    machine.handleLlmComplete(second.id, ok(toolResponse([{ callId: "c2", toolName: "echo_tool" }])));
    effects = runToolRound(machine, drain(machine));
    expect(all(effects, "llm_call")).toEqual([]);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(machine.modelCalls).toBe(2);
  });

  it("maxModelCalls: a checkpoint that continues the turn past the limit stops it with max_turns", () => {
    const machine = newMachine({ config: { maxModelCalls: 1 } });
    const checkpoint = find(answerFirstCall(machine, textResponse("Hello")), "checkpoint");
    machine.handleCheckpoint(checkpoint.id, { ok: true, committed: [userMessage("one more thing", "more")], transient: [] });
    const effects = drain(machine);
    expect(all(effects, "llm_call")).toEqual([]);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "max_turns" } });
    expect(messageText(find(effects, "done").messages.at(-1)!)).toContain("Turn limit reached (1)");
  });

  it("maxTotalTokens stops before the next model call once the turn's usage reached it", () => {
    const machine = newMachine({ config: { maxTotalTokens: 100 } });
    const effects = runToolRound(
      machine,
      answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }], { usage: usage(80, 20) })),
    );
    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    const after = drain(machine);
    expect(all(after, "llm_call")).toEqual([]);
    expect(outcomeOf(after)).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tokens" } });
  });

  it("maxTotalTokens counts input, output and reasoning but not cached tokens", () => {
    const machine = newMachine({ config: { maxTotalTokens: 100 } });
    const effects = runToolRound(
      machine,
      answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }], { usage: usage(50, 10, 5000, 39) })),
    );
    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    expect(find(drain(machine), "llm_call")).toBeDefined();
  });

  it("maxTotalTokens never blocks the first model call", () => {
    const machine = newMachine({ config: { maxTotalTokens: 1 } });
    expect(find(drain(machine), "llm_call")).toBeDefined();
  });

  it("maxToolCalls runs only the calls within the budget, records the rest as cancelled and stops", () => {
    const machine = newMachine({ config: { maxToolCalls: 1 } });
    const first = answerFirstCall(
      machine,
      toolResponse([
        { callId: "c1", toolName: "echo_tool", args: { value: "a" } },
        { callId: "c2", toolName: "echo_tool", args: { value: "b" } },
      ]),
    );
    const batch = find(first, "tool_calls");
    expect(batch.calls.map((call) => call.callId)).toEqual(["c1"]);
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    const effects = drain(machine);
    expect(eventsOf(effects, "tool_call_completed").map((event) => [event.callId, event.output.outcome.status])).toEqual([
      ["c1", "success"],
      ["c2", "cancelled"],
    ]);
    const skipped = eventsOf(effects, "tool_call_completed")[1];
    expect(skipped?.args).toEqual({ value: "b" });
    expect(skipped?.durationMs).toBe(0);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
    expect(all(effects, "checkpoint")).toEqual([]);
    expect(all(effects, "llm_call")).toEqual([]);
    // Every tool call of the history still has its result.
    const results = find(effects, "done").messages.at(-1);
    expect(results?.parts.map((part) => (part.kind === "tool_result" ? part.callId : part.kind))).toEqual(["c1", "c2"]);
    expect(results?.parts[1]).toMatchObject({ content: expect.stringMatching(/^\[Tool execution cancelled\]\n/) });
    expect(machine.toolCallsExecuted).toBe(1);
  });

  it("maxToolCalls counts over the whole turn; a batch with no budget left runs nothing", () => {
    const machine = newMachine({ config: { maxToolCalls: 1 } });
    let effects = runToolRound(machine, answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }])));
    expect(outcomeOf(effects)).toBeUndefined();
    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    machine.handleLlmComplete(find(drain(machine), "llm_call").id, ok(toolResponse([{ callId: "c2", toolName: "echo_tool" }])));
    effects = drain(machine);
    expect(all(effects, "tool_calls")).toEqual([]);
    expect(eventsOf(effects, "tool_call_completed").map((event) => [event.callId, event.output.outcome.status])).toEqual([
      ["c2", "cancelled"],
    ]);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
  });
});

describe("TurnMachine: host stops", () => {
  it("interrupt() ends the turn with only a done event (no outcome)", () => {
    const machine = newMachine();
    drain(machine);
    machine.interrupt();
    const effects = drain(machine);
    expect(events(effects)).toEqual([{ type: "done" }]);
    expect(find(effects, "done")).toBeDefined();
    expect(machine.finished).toBe(true);
  });

  it("stop() drops pending work and emits the outcome; a finished machine ignores it", () => {
    const machine = newMachine();
    drain(machine);
    machine.stop({ type: "stopped", stop: { type: "stop_condition", name: "enough" } });
    const effects = drain(machine);
    expect(outcomeOf(effects)).toEqual({ type: "stopped", stop: { type: "stop_condition", name: "enough" } });
    machine.stop({ type: "stopped", stop: { type: "cancelled" } });
    expect(drain(machine)).toEqual([]);
  });
});
