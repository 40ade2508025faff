import { ProviderCallError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { createToolCallAccumulator } from "./tool-call-accumulator.js";

describe("createToolCallAccumulator", () => {
  it("joins Chat Completions fragments by index, in first-seen order", () => {
    const toolCalls = createToolCallAccumulator();
    toolCalls.add({ key: 1, callId: "call_b", toolName: "second", argumentsDelta: "{}" });
    toolCalls.add({ key: 0, callId: "call_a", toolName: "lookup", argumentsDelta: '{"q":' });
    toolCalls.add({ key: 0, callId: null, toolName: null, argumentsDelta: '"x"}' });
    toolCalls.add({ key: "0", callId: "call_a", toolName: "lookup" });
    expect(toolCalls.size).toBe(2);
    expect(toolCalls.has(0)).toBe(true);
    expect(toolCalls.parts()).toEqual([
      { type: "tool_call", callId: "call_b", toolName: "second", inputJson: "{}" },
      { type: "tool_call", callId: "call_a", toolName: "lookup", inputJson: '{"q":"x"}' },
    ]);
  });

  it("lets complete arguments replace the fragments and merges replay data", () => {
    const toolCalls = createToolCallAccumulator();
    toolCalls.add({ key: "fc_1", callId: "call_1", toolName: "lookup", replay: { itemId: "fc_1" } });
    toolCalls.add({ key: "fc_1", argumentsDelta: '{"q":' });
    toolCalls.add({ key: "fc_1", arguments: '{"q":"x"}', replay: { opaque: { status: "completed" } } });
    expect(toolCalls.parts()).toEqual([
      {
        type: "tool_call",
        callId: "call_1",
        toolName: "lookup",
        inputJson: '{"q":"x"}',
        replay: { itemId: "fc_1", opaque: { status: "completed" } },
      },
    ]);
  });

  it("names a call without an id after its key and keeps invalid JSON as streamed", () => {
    const toolCalls = createToolCallAccumulator();
    toolCalls.add({ key: 3, argumentsDelta: '{"unterminated' });
    expect(toolCalls.parts()).toEqual([{ type: "tool_call", callId: "call_3", toolName: "", inputJson: '{"unterminated' }]);
  });

  it("stops a call whose arguments grow past the limit", () => {
    const toolCalls = createToolCallAccumulator({ maxArgumentCharacters: 10 });
    toolCalls.add({ key: 0, argumentsDelta: "12345" });
    let thrown: unknown;
    try {
      toolCalls.add({ key: 0, argumentsDelta: "678901" });
    } catch (error) {
      thrown = error;
    }
    expect(ProviderCallError.isInstance(thrown)).toBe(true);
    expect((thrown as ProviderCallError).failure).toMatchObject({ kind: "stream", retryable: false, code: "tool_arguments_too_large" });
  });
});
