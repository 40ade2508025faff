import type { LlmOutputPart, LlmResponse, ReasoningReplay } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { StandardStreamAccumulator } from "./stream-accumulator.js";

type ToolCallPart = Extract<LlmOutputPart, { type: "tool_call" }>;

function replay(fields: Partial<ReasoningReplay>): ReasoningReplay {
  return { redacted: false, summary: [], ...fields };
}

function toolCall(callId: string, inputJson: string, itemId?: string): ToolCallPart {
  const part: ToolCallPart = { type: "tool_call", callId, toolName: "get_weather", inputJson };
  if (itemId !== undefined) part.replay = { itemId };
  return part;
}

function response(parts: LlmOutputPart[], fullText = ""): LlmResponse {
  return {
    fullText,
    parts,
    usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
    terminalReason: "stop",
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const entry of Object.values(value)) deepFreeze(entry);
    Object.freeze(value);
  }
  return value;
}

describe("StandardStreamAccumulator", () => {
  it("stream_accumulator_merges_adjacent_display_reasoning_chunks: display-only chunks become one part", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("I'll");
    accumulator.pushReasoning(" check");
    accumulator.pushReasoning(" the time.");
    expect(accumulator.parts()).toEqual([{ type: "reasoning", text: "I'll check the time." }]);
  });

  it("stream_accumulator_enriches_reasoning_delta_with_later_roundtrip_payload: the replay is attached to the displayed part", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Checking the clock.");
    const payload = replay({ itemId: "rs_1", encryptedContent: "opaque-bytes" });
    accumulator.pushReasoning("Checking the clock.", payload);
    expect(accumulator.parts()).toEqual([{ type: "reasoning", text: "Checking the clock.", replay: payload }]);
  });

  it("stream_accumulator_preserves_reasoning_when_final_response_has_tool_call: reasoning is kept beside the final call", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("I need the weather first.");
    accumulator.pushToolCall(toolCall("call_1", '{"city":"Paris"}'));
    const reconciled = accumulator.applyToResponse(response([toolCall("call_1", '{"city":"Paris"}')]));
    expect(reconciled.parts).toEqual([{ type: "reasoning", text: "I need the weather first." }, toolCall("call_1", '{"city":"Paris"}')]);
  });

  it("stream_accumulator_does_not_duplicate_complete_final_response: a complete final response is left as it is", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Thinking it over.");
    accumulator.pushText("Done.");
    const final = response(
      [
        { type: "reasoning", text: "Thinking it over." },
        { type: "text", text: "Done." },
      ],
      "Done.",
    );
    const reconciled = accumulator.applyToResponse(final);
    expect(reconciled).toEqual(final);
    expect(reconciled.parts).toHaveLength(2);
  });
});

describe("StandardStreamAccumulator text", () => {
  it("appends ordinary deltas to one text part", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("What time ");
    accumulator.pushText("is it?");
    expect(accumulator.parts()).toEqual([{ type: "text", text: "What time is it?" }]);
  });

  it("adds only the unseen suffix of cumulative pieces", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Hel");
    accumulator.pushText("Hello");
    accumulator.pushText("Hello, world");
    expect(accumulator.text()).toBe("Hello, world");
    expect(accumulator.parts()).toHaveLength(1);
  });

  it("ignores empty pieces, so an accumulator with only empty text is empty", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("");
    expect(accumulator.isEmpty()).toBe(true);
    expect(accumulator.parts()).toEqual([]);
  });

  it("starts a new text part for a different provider item, and merges pieces of the same item", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Commentary. ", { id: "msg_1" });
    accumulator.pushText("More.", { id: "msg_1" });
    accumulator.pushText("Final answer.", { id: "msg_2" });
    accumulator.pushText(" Still final.");
    expect(accumulator.parts()).toEqual([
      { type: "text", text: "Commentary. More.", responseMeta: { id: "msg_1" } },
      { type: "text", text: "Final answer. Still final.", responseMeta: { id: "msg_2" } },
    ]);
    expect(accumulator.text()).toBe("Commentary. More.Final answer. Still final.");
  });

  it("takes the provider item of a later piece when the part had none", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Hello");
    accumulator.pushText(" there", { id: "msg_9", phase: "final_answer" });
    expect(accumulator.parts()).toEqual([{ type: "text", text: "Hello there", responseMeta: { id: "msg_9", phase: "final_answer" } }]);
  });

  it("starts a new text part after reasoning", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Before.");
    accumulator.pushReasoning("Hmm.");
    accumulator.pushText("After.");
    expect(accumulator.parts().map((part) => part.type)).toEqual(["text", "reasoning", "text"]);
    expect(accumulator.text()).toBe("Before.After.");
  });
});

describe("StandardStreamAccumulator reasoning", () => {
  it("upgrades a displayed part when the encrypted payload repeats it with more text", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Checking");
    const payload = replay({ itemId: "rs_2", encryptedContent: "enc", summary: ["Checked the clock"] });
    accumulator.pushReasoning("Checking the clock.", payload);
    expect(accumulator.parts()).toEqual([{ type: "reasoning", text: "Checking the clock.", replay: payload }]);
  });

  it("keeps the displayed text when the encrypted payload has none", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Checking the clock.");
    accumulator.pushReasoning("", replay({ encryptedContent: "enc" }));
    expect(accumulator.parts()).toEqual([{ type: "reasoning", text: "Checking the clock.", replay: replay({ encryptedContent: "enc" }) }]);
  });

  it("starts a new part when the encrypted payload carries unrelated text", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("First thought.");
    accumulator.pushReasoning("Second thought.", replay({ encryptedContent: "enc" }));
    expect(accumulator.parts()).toHaveLength(2);
  });

  it("fills display text, item id and summary into an encrypted-only part", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("", replay({ encryptedContent: "enc" }));
    accumulator.pushReasoning("Now visible.", replay({ itemId: "rs_3", summary: ["short"] }));
    expect(accumulator.parts()).toEqual([
      { type: "reasoning", text: "Now visible.", replay: replay({ encryptedContent: "enc", itemId: "rs_3", summary: ["short"] }) },
    ]);
  });

  it("keeps an encrypted part's own item id when display text fills it in", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("", replay({ encryptedContent: "enc", itemId: "rs_own" }));
    accumulator.pushReasoning("Visible.", replay({ itemId: "rs_other" }));
    expect(accumulator.parts()).toEqual([
      { type: "reasoning", text: "Visible.", replay: replay({ encryptedContent: "enc", itemId: "rs_own" }) },
    ]);
  });

  it("treats an empty replay as display-only and does not store it", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("a", replay({}));
    accumulator.pushReasoning("b");
    expect(accumulator.parts()).toEqual([{ type: "reasoning", text: "ab" }]);
  });

  it("does not merge display text into a part with an item id but no encrypted content", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Tagged.", replay({ itemId: "rs_4" }));
    accumulator.pushReasoning(" Untagged.");
    expect(accumulator.parts()).toHaveLength(2);
  });

  it("does not merge display text into a redacted block", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("", replay({ redacted: true }));
    accumulator.pushReasoning("Visible.");
    expect(accumulator.parts()).toEqual([
      { type: "reasoning", text: "", replay: replay({ redacted: true }) },
      { type: "reasoning", text: "Visible." },
    ]);
  });

  it("counts a reasoning part as content, even with empty text", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("");
    expect(accumulator.isEmpty()).toBe(false);
  });
});

describe("StandardStreamAccumulator parts are private", () => {
  it("copies a pushed tool call, so later changes by the caller do not leak in", () => {
    const accumulator = new StandardStreamAccumulator();
    const part = toolCall("call_1", "{}");
    accumulator.pushToolCall(part);
    part.inputJson = '{"changed":true}';
    expect(accumulator.parts()).toEqual([toolCall("call_1", "{}")]);
  });

  it("hands out copies, so changing a returned part does not change the accumulator", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("original");
    const [first] = accumulator.parts();
    if (first?.type === "text") first.text = "changed";
    accumulator.pushText(" text");
    expect(accumulator.text()).toBe("original text");
  });
});

describe("StandardStreamAccumulator.applyToResponse", () => {
  it("returns an equal new response when nothing streamed", () => {
    const final = response([{ type: "text", text: "Only final." }], "Only final.");
    const result = new StandardStreamAccumulator().applyToResponse(final);
    expect(result).toEqual(final);
    expect(result).not.toBe(final);
  });

  it("fills an empty response with the streamed parts and text", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("What time ");
    accumulator.pushText("is it?");
    accumulator.pushToolCall(toolCall("call_1", "{}"));
    const result = accumulator.applyToResponse(response([]));
    expect(result.parts).toEqual([{ type: "text", text: "What time is it?" }, toolCall("call_1", "{}")]);
    expect(result.fullText).toBe("What time is it?");
  });

  it("keeps a non-empty fullText when filling an empty response", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("streamed");
    expect(accumulator.applyToResponse(response([], "provider text")).fullText).toBe("provider text");
  });

  it("replaces a streamed tool call with the final one of the same call id", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Looking up the weather.");
    accumulator.pushToolCall(toolCall("call_1", '{"ci'));
    const result = accumulator.applyToResponse(response([toolCall("call_1", '{"city":"Paris"}')]));
    expect(result.parts).toEqual([{ type: "reasoning", text: "Looking up the weather." }, toolCall("call_1", '{"city":"Paris"}')]);
  });

  it("matches tool calls by provider item id when the call ids differ", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Need a tool.");
    accumulator.pushToolCall(toolCall("stream_id", "{}", "fc_1"));
    const result = accumulator.applyToResponse(response([toolCall("final_id", '{"a":1}', "fc_1")]));
    expect(result.parts).toEqual([{ type: "reasoning", text: "Need a tool." }, toolCall("final_id", '{"a":1}', "fc_1")]);
  });

  it("appends a final tool call the stream did not have", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushToolCall(toolCall("call_1", "{}"));
    const result = accumulator.applyToResponse(response([toolCall("call_2", "{}")]));
    expect(result.parts).toEqual([toolCall("call_1", "{}"), toolCall("call_2", "{}")]);
  });

  it("counts streamed text as contained when it is a substring of the final fullText", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Done");
    const final = response([{ type: "text", text: "All Done." }], "All Done.");
    expect(accumulator.applyToResponse(final)).toEqual(final);
  });

  it("counts streamed text as contained when a final text part contains it", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("world");
    const final = response([{ type: "text", text: "hello world" }]);
    expect(accumulator.applyToResponse(final)).toEqual(final);
  });

  it("counts streamed reasoning as contained through an equal item id", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("streamed wording", replay({ itemId: "rs_1" }));
    const final = response([{ type: "reasoning", text: "final wording", replay: replay({ itemId: "rs_1", encryptedContent: "enc" }) }]);
    expect(accumulator.applyToResponse(final)).toEqual(final);
  });

  it("keeps streamed text the final response lacks, appends new final parts, and skips final text already present", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushText("Partial answer that goes on");
    const result = accumulator.applyToResponse(
      response([
        { type: "reasoning", text: "Late reasoning." },
        { type: "text", text: "Partial answer" },
      ]),
    );
    expect(result.parts).toEqual([
      { type: "text", text: "Partial answer that goes on" },
      { type: "reasoning", text: "Late reasoning." },
    ]);
    expect(result.fullText).toBe("Partial answer that goes on");
  });

  it("does not append final reasoning that matches streamed reasoning by item id", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("thinking", replay({ itemId: "rs_1" }));
    accumulator.pushText("A");
    const result = accumulator.applyToResponse(
      response(
        [
          { type: "reasoning", text: "other words", replay: replay({ itemId: "rs_1" }) },
          { type: "text", text: "B" },
        ],
        "B",
      ),
    );
    expect(result.parts).toEqual([
      { type: "reasoning", text: "thinking", replay: replay({ itemId: "rs_1" }) },
      { type: "text", text: "A" },
      { type: "text", text: "B" },
    ]);
    expect(result.fullText).toBe("B");
  });

  it("does not append final reasoning whose text contains the streamed reasoning", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Step one.");
    accumulator.pushToolCall(toolCall("call_1", "{}"));
    const result = accumulator.applyToResponse(response([{ type: "reasoning", text: "Step one. Step two." }, toolCall("call_9", "{}")]));
    expect(result.parts).toEqual([{ type: "reasoning", text: "Step one." }, toolCall("call_1", "{}"), toolCall("call_9", "{}")]);
  });

  it("never changes the response it is given", () => {
    const accumulator = new StandardStreamAccumulator();
    accumulator.pushReasoning("Streamed reasoning.");
    accumulator.pushText("Streamed text.");
    accumulator.pushToolCall(toolCall("call_1", "{}"));
    const final = deepFreeze(response([toolCall("call_1", '{"full":true}'), { type: "text", text: "Other." }]));
    const result = accumulator.applyToResponse(final);
    expect(result.parts).toHaveLength(4);
    expect(result.fullText).toBe("Streamed text.Other.");
    expect(final.parts).toHaveLength(2);
    expect(final.fullText).toBe("");
  });
});
