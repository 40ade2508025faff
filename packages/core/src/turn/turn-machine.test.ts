import type { AttachmentRef, Message } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import {
  all,
  answerFirstCall,
  completed,
  drain,
  ECHO_SPEC,
  emptyCheckpoint,
  eventsOf,
  find,
  messageText,
  newMachine,
  ok,
  outcomeOf,
  recordingDriver,
  restore,
  SUCCESS,
  textResponse,
  throughJson,
  toolResponse,
  usage,
  userMessage,
} from "../../test/turn-machine-harness.js";
import type { ProtocolDriver } from "../modes/execution-mode.js";

// ---------------------------------------------------------------------------------------------

describe("TurnMachine: effects and progress", () => {
  it("issues effect ids from 1, increasing, and emits model_request_started before llm_call", () => {
    const machine = newMachine();
    const effects = drain(machine);
    expect(effects.map((effect) => effect.type)).toEqual(["emit", "llm_call"]);
    expect(effects[0]).toEqual({
      type: "emit",
      event: { type: "model_request_started", modeIteration: 0, messageCount: 2, toolNames: ["echo_tool"] },
    });
    const call = find(effects, "llm_call");
    expect(call.id).toBe(1);
    machine.handleLlmComplete(1, ok(toolResponse([{ callId: "c1", toolName: "echo_tool" }])));
    expect(find(drain(machine), "tool_calls").id).toBe(2);
  });

  it("progress deltas contain only the new mode events", () => {
    const machine = newMachine({ driver: recordingDriver() });
    let effects = answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }]));
    expect(all(effects, "progress").map((progress) => progress.modeEvents)).toEqual([[{ response: 0 }]]);

    const batch = find(effects, "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    effects = drain(machine);
    // The boundary after the tool round has no new mode event.
    expect(all(effects, "progress").map((progress) => progress.modeEvents)).toEqual([[]]);

    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    effects = drain(machine);
    machine.handleLlmComplete(find(effects, "llm_call").id, ok(textResponse("done")));
    effects = drain(machine);
    expect(all(effects, "progress").map((progress) => progress.modeEvents)).toEqual([[{ response: 1 }]]);

    machine.handleCheckpoint(find(effects, "checkpoint").id, emptyCheckpoint());
    expect(find(drain(machine), "done").modeEvents).toEqual([]);
  });

  it("reports a mode event recorded together with a finish exactly once, in the progress before done", () => {
    const driver: ProtocolDriver = {
      prepareIteration: () => [{ type: "start_llm" }],
      handleLlmSuccess: () => [
        { type: "record_mode_event", event: "final" },
        { type: "finish", outcome: { type: "finished", finish: { type: "assistant_message", text: "x" } } },
      ],
      handleToolResults: () => [],
    };
    const machine = newMachine({ driver });
    const effects = answerFirstCall(machine, textResponse("x"));
    const progressIndex = effects.findIndex((effect) => effect.type === "progress");
    const doneIndex = effects.findIndex((effect) => effect.type === "done");
    expect(progressIndex).toBeGreaterThanOrEqual(0);
    expect(progressIndex).toBeLessThan(doneIndex);
    const reported = [...all(effects, "progress").flatMap((progress) => progress.modeEvents), ...find(effects, "done").modeEvents];
    expect(reported).toEqual(["final"]);
  });

  it("done carries the mode events no progress reported", () => {
    const machine = newMachine();
    drain(machine);
    const snapshot = { ...machine.snapshot(), modeEvents: ["reported", "unreported"], reportedModeEvents: 1 };
    const restored = restore(throughJson(snapshot));
    restored.stop({ type: "finished", finish: { type: "assistant_message", text: "final" } });
    const effects = drain(restored);
    expect(find(effects, "done").modeEvents).toEqual(["unreported"]);
    expect(all(effects, "llm_call")).toEqual([]);
  });

  it("an effect's messages do not change when the turn goes on (effects are values)", () => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }]));
    const progress = find(effects, "progress");
    expect(progress.messages.map((entry) => entry.role)).toEqual(["user", "assistant"]);
    const batch = find(effects, "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    drain(machine);
    // The boundary reported after the model call still reads as it did then.
    expect(progress.messages.map((entry) => entry.role)).toEqual(["user", "assistant"]);
  });

  it("turns user image parts into request image blocks with attachment refs", () => {
    const attachment: AttachmentRef = { id: "att-test", mediaType: "image/png", byteLength: 3 };
    const machine = newMachine({
      systemPrompt: "",
      messages: [
        {
          id: "m0",
          role: "user",
          parts: [
            { kind: "image", id: "m0.p0", attachment },
            { kind: "text", id: "m0.p1", content: "explain this" },
          ],
        },
      ],
    });
    const call = find(drain(machine), "llm_call");
    expect(call.attachmentRefs).toEqual([attachment]);
    expect(call.request.attachments).toEqual([]);
    expect(call.request.messages).toEqual([
      {
        role: "user",
        blocks: [
          { type: "image", attachmentIndex: 0 },
          { type: "text", text: "explain this" },
        ],
      },
    ]);
  });

  it("builds the request from the config, the system prompt, the history and the tools", () => {
    const machine = newMachine({ config: { modelVariant: "high" } });
    const call = find(drain(machine), "llm_call");
    expect(call.request).toMatchObject({
      model: "test-model",
      modelVariant: "high",
      sessionId: "test",
      tools: [ECHO_SPEC],
      toolChoice: "auto",
      messages: [
        { role: "system", blocks: [{ type: "text", text: "You are a test." }] },
        { role: "user", blocks: [{ type: "text", text: "hello" }] },
      ],
    });
  });

  it("offers no tools when the mode does not use them", () => {
    const machine = newMachine({ config: { useTools: false } });
    const call = find(drain(machine), "llm_call");
    expect(call.request.tools).toEqual([]);
    expect(call.request.toolChoice).toBe("none");
  });

  it("finishes through the before_completion checkpoint", () => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, textResponse("Hello"));
    expect(eventsOf(effects, "text_delta").map((event) => event.text)).toEqual(["Hello"]);
    const checkpoint = find(effects, "checkpoint");
    expect(checkpoint.kind).toBe("before_completion");
    expect(outcomeOf(effects)).toBeUndefined();
    expect(machine.finished).toBe(false);

    machine.handleCheckpoint(checkpoint.id, emptyCheckpoint());
    const final = drain(machine);
    expect(outcomeOf(final)).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello" } });
    expect(final.map((effect) => (effect.type === "emit" ? effect.event.type : effect.type))).toEqual(["turn_outcome", "done", "done"]);
    const done = find(final, "done");
    expect(done.messages.map((entry) => [entry.role, messageText(entry)])).toEqual([
      ["user", "hello"],
      ["assistant", "Hello"],
    ]);
    expect(machine.finished).toBe(true);
    expect(machine.pollEffect()).toBeUndefined();
  });

  it("does not emit text deltas again for a response that already streamed", () => {
    const machine = newMachine();
    const effects = answerFirstCall(machine, textResponse("Hello"), true);
    expect(eventsOf(effects, "text_delta")).toEqual([]);
  });

  it("emits token usage for every response, cumulated over the turn (even zero usage)", () => {
    const machine = newMachine();
    let effects = answerFirstCall(machine, toolResponse([{ callId: "c1", toolName: "echo_tool" }], { usage: usage(10, 2, 1) }));
    expect(eventsOf(effects, "usage")).toEqual([{ type: "usage", modeIteration: 0, usage: usage(10, 2, 1), cumulative: usage(10, 2, 1) }]);
    const batch = find(effects, "tool_calls");
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS("ok"), "ok")]);
    machine.handleCheckpoint(find(drain(machine), "checkpoint").id, emptyCheckpoint());
    machine.handleLlmComplete(find(drain(machine), "llm_call").id, ok(textResponse("done", { usage: usage(5, 1, 0, 3) })));
    effects = drain(machine);
    expect(eventsOf(effects, "usage")).toEqual([
      { type: "usage", modeIteration: 1, usage: usage(5, 1, 0, 3), cumulative: usage(15, 3, 1, 3) },
    ]);
    expect(machine.cumulativeUsage).toEqual(usage(15, 3, 1, 3));

    const zero = newMachine();
    expect(eventsOf(answerFirstCall(zero, textResponse("x")), "usage")).toHaveLength(1);
  });
});

describe("TurnMachine: snapshot and restore", () => {
  it("re-issues the same model call (same effect id and request) after a restore", () => {
    const machine = newMachine();
    const original = find(drain(machine), "llm_call");
    const restored = restore(throughJson(machine.snapshot()));
    const effects = drain(restored);
    const again = find(effects, "llm_call");
    expect(again.id).toBe(original.id);
    expect(again.request).toEqual(original.request);
    // Only the outstanding effect is redelivered: the llm_request event was already emitted.
    expect(effects.map((effect) => effect.type)).toEqual(["llm_call"]);

    restored.handleLlmComplete(again.id, ok(textResponse("Hello")));
    expect(find(drain(restored), "checkpoint").kind).toBe("before_completion");
  });

  it("a waiting model call is kept as the outstanding effect, not as a queued one", () => {
    const machine = newMachine();
    drain(machine);
    const snapshot = machine.snapshot();
    expect(snapshot.queue).toEqual([]);
    expect(snapshot.outstanding?.type).toBe("llm_call");
  });

  it("does not call the model again after a result; the completion checkpoint is replayed instead", () => {
    const machine = newMachine();
    const call = find(drain(machine), "llm_call");
    machine.handleLlmComplete(call.id, ok(textResponse("Hello")));
    const restored = restore(throughJson(machine.snapshot()));
    const effects = drain(restored);
    expect(all(effects, "llm_call")).toEqual([]);
    const checkpoint = find(effects, "checkpoint");
    expect(checkpoint.kind).toBe("before_completion");
    restored.handleCheckpoint(checkpoint.id, emptyCheckpoint());
    const final = drain(restored);
    expect(find(final, "done")).toBeDefined();
    expect(outcomeOf(final)).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello" } });
  });

  it("redelivers an outstanding checkpoint after a restore and still finishes with the answer", () => {
    const machine = newMachine();
    const checkpoint = find(answerFirstCall(machine, textResponse("Hello")), "checkpoint");
    const snapshot = throughJson(machine.snapshot());
    expect(snapshot.outstanding).toEqual(checkpoint);
    const restored = restore(snapshot);
    const again = find(drain(restored), "checkpoint");
    expect(again).toEqual(checkpoint);
    restored.handleCheckpoint(again.id, emptyCheckpoint());
    expect(outcomeOf(drain(restored))).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Hello" } });
  });

  it("keeps a pending tool batch and its replay metadata across a restore", () => {
    const machine = newMachine();
    const effects = answerFirstCall(
      machine,
      toolResponse([
        { callId: "call-read", toolName: "read_file", args: { path: "a.txt" } },
        {
          callId: "call-search",
          toolName: "search",
          args: { q: "needle" },
          replay: { itemId: "provider-item-2", opaque: "opaque-provider-state" },
        },
      ]),
    );
    const batch = find(effects, "tool_calls");
    expect(batch.calls).toHaveLength(2);

    const restored = restore(throughJson(machine.snapshot()));
    const redelivered = find(drain(restored), "tool_calls");
    expect(redelivered.id).toBe(batch.id);
    expect(redelivered.calls).toHaveLength(2);
    expect(redelivered.calls[0]?.callId).toBe("call-read");
    expect(redelivered.calls[0]?.inputJson).toBe('{"path":"a.txt"}');
    expect(redelivered.calls[1]?.toolName).toBe("search");
    expect(redelivered.calls[1]?.replay).toEqual({ itemId: "provider-item-2", opaque: "opaque-provider-state" });
    expect(restored.snapshot().queue).toEqual([]);
  });

  it("feeds mixed success, failure and cancelled results back once after a restore", () => {
    const machine = newMachine();
    const batch = find(
      answerFirstCall(
        machine,
        toolResponse([
          { callId: "call-read", toolName: "read_file", args: { path: "a.txt" } },
          { callId: "call-search", toolName: "search", args: { q: "needle" } },
          { callId: "call-slow", toolName: "slow_tool" },
        ]),
      ),
      "tool_calls",
    );
    const [read, search, slow] = batch.calls;
    machine.handleToolResults(batch.id, [
      completed(read!, SUCCESS("contents"), "read_file result"),
      completed(
        search!,
        {
          outcome: {
            status: "failure",
            payload: { class: "external", code: "search_failed", message: "index unavailable", source: "tool", retry: { type: "never" } },
          },
        },
        "[Tool execution failed]\nindex unavailable",
      ),
      completed(
        slow!,
        { outcome: { status: "cancelled", payload: { message: "cancelled by parent", source: "runtime" } } },
        "[Tool execution cancelled]\ncancelled by parent",
      ),
    ]);

    const restored = restore(throughJson(machine.snapshot()));
    const effects = drain(restored);
    expect(all(effects, "llm_call")).toEqual([]);
    expect(eventsOf(effects, "tool_call_completed").map((event) => [event.callId, event.output.outcome.status])).toEqual([
      ["call-read", "success"],
      ["call-search", "failure"],
      ["call-slow", "cancelled"],
    ]);
    const progress = find(effects, "progress");
    const resultMessage = progress.messages.at(-1);
    expect(resultMessage?.role).toBe("user");
    expect(resultMessage?.parts.map((part) => (part.kind === "tool_result" ? [part.callId, part.content] : part.kind))).toEqual([
      ["call-read", "read_file result"],
      ["call-search", "[Tool execution failed]\nindex unavailable"],
      ["call-slow", "[Tool execution cancelled]\ncancelled by parent"],
    ]);
    const checkpoint = find(effects, "checkpoint");
    expect(checkpoint.kind).toBe("after_work");

    restored.handleCheckpoint(checkpoint.id, emptyCheckpoint());
    const next = find(drain(restored), "llm_call");
    const resultBlocks = next.request.messages.flatMap((entry) => entry.blocks).filter((block) => block.type === "tool_result");
    expect(resultBlocks.map((block) => (block.type === "tool_result" ? block.callId : ""))).toEqual([
      "call-read",
      "call-search",
      "call-slow",
    ]);
    const callBlocks = next.request.messages.flatMap((entry) => entry.blocks).filter((block) => block.type === "tool_call");
    expect(callBlocks).toHaveLength(3);
  });

  it("redelivers a waiting exec effect from the state alone", () => {
    const driver: ProtocolDriver = {
      prepareIteration: () => [{ type: "start_exec", code: "print 1" }],
      handleLlmSuccess: () => [],
      handleToolResults: () => [],
      handleExecResult: (result) => [
        { type: "append_messages", messages: [userMessage(`exec said ${result.output}`, "exec-result")] },
        { type: "finish", outcome: { type: "finished", finish: { type: "submitted_value", value: result.output } } },
      ],
    };
    const machine = newMachine({ driver });
    const exec = find(drain(machine), "exec_code");
    expect(exec.code).toBe("print 1");
    const snapshot = throughJson(machine.snapshot());
    expect(snapshot.queue).toEqual([]);

    const restored = restore(snapshot, { driver });
    const again = find(drain(restored), "exec_code");
    expect(again).toEqual(exec);
    restored.handleExecResult(again.id, { output: "1", toolCalls: [], durationMs: 0 });
    const effects = drain(restored);
    expect(outcomeOf(effects)).toEqual({ type: "finished", finish: { type: "submitted_value", value: "1" } });
    expect(find(effects, "done").messages.map(messageText)).toContain("exec said 1");
  });

  it("snapshot() output round-trips through JSON", () => {
    const machine = newMachine({ driver: recordingDriver() });
    const batch = find(
      answerFirstCall(
        machine,
        toolResponse(
          [{ callId: "c1", toolName: "echo_tool", args: { value: "x" }, replay: { itemId: "item-1", opaque: { nested: [1, null] } } }],
          { usage: usage(3, 4) },
        ),
      ),
      "tool_calls",
    );
    machine.handleToolResults(batch.id, [completed(batch.calls[0]!, SUCCESS({ payload: "raw:x" }), '{"payload":"raw:x"}')]);
    const snapshot = machine.snapshot();
    const copy = throughJson(snapshot);
    expect(copy).toEqual(snapshot);

    // The restored machine continues exactly like the original.
    const fromCopy = drain(restore(copy, { driver: recordingDriver() }));
    const fromOriginal = drain(machine);
    expect(fromCopy).toEqual(fromOriginal);
  });

  it("snapshot() is a copy: changing it does not change the machine", () => {
    const machine = newMachine();
    drain(machine);
    const snapshot = machine.snapshot() as unknown as { messages: Message[] };
    snapshot.messages.push(userMessage("injected", "x"));
    expect(machine.messages).toHaveLength(1);
    expect(machine.snapshot().messages).toHaveLength(1);
  });
});
