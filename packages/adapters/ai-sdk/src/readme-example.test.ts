// The README's offline example, run as written (keep the two in step).
import { defineTool, LashRuntime, textInput } from "@lash/core";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createAiSdkProvider } from "./index.js";

describe("README: Example", () => {
  it("runs a tool round trip on a mock AI SDK model", async () => {
    const usage = (input: number, output: number) => ({
      inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: output, text: output, reasoning: 0 },
    });
    const replies = [
      [
        { type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":2,"b":3}' },
        { type: "finish", finishReason: { unified: "tool-calls", raw: undefined }, usage: usage(120, 18) },
      ],
      [
        { type: "text-start", id: "t" },
        { type: "text-delta", id: "t", delta: "2 + 3 = 5." },
        { type: "text-end", id: "t" },
        { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage: usage(160, 9) },
      ],
    ] as const;
    let call = 0;
    const model = new MockLanguageModelV4({
      doStream: async () => ({ stream: convertArrayToReadableStream([...replies[call++]!]) }),
    });

    const add = defineTool({
      name: "add",
      description: "Add two numbers.",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => ({ sum: a + b }),
    });

    const runtime = await LashRuntime.builder()
      .withPolicy({ maxContextTokens: 128_000 }) // the model defaults to model.modelId
      .withProvider(createAiSdkProvider(model))
      .withTools([add])
      .build();

    const kinds: string[] = [];
    const turn = await runtime.streamTurn(textInput("What is 2 + 3?"), {
      activities: { emit: (activity) => void kinds.push(activity.type) },
    });
    expect(turn.assistantOutput.safeText).toBe("2 + 3 = 5.");
    expect(runtime.tokenLedger()).toEqual([
      { source: "turn", model: "mock-model-id", usage: { inputTokens: 280, outputTokens: 27, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    expect(kinds).toContain("tool_call_completed");
  });
});
