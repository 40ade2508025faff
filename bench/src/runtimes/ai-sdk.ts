// AI SDK 7: `streamText` (full stream consumed) and `generateText`, with the current major's mock
// model (`MockLanguageModelV4` from `ai/test`) playing the workload's steps. The same fake model
// drives Mastra (which runs AI SDK language models).
import type { LanguageModelV4GenerateResult, LanguageModelV4Prompt, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { generateText, isStepCount, streamText, tool } from "ai";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { z } from "zod";
import type { BenchRuntime } from "../bench-runtime.js";
import {
  CallCounter,
  type FakeStep,
  PROMPT,
  stepAfterToolResults,
  TOOL_CALL,
  TOOL_DESCRIPTION,
  type TurnCheck,
  type WorkloadName,
} from "../workload.js";

const usageOf = (step: FakeStep) => ({
  inputTokens: { total: step.usage.inputTokens, noCache: step.usage.inputTokens, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: step.usage.outputTokens, text: step.usage.outputTokens, reasoning: 0 },
});

const finishReason = (step: FakeStep) =>
  step.callsTool ? { unified: "tool-calls" as const, raw: undefined } : { unified: "stop" as const, raw: undefined };

function streamParts(step: FakeStep): LanguageModelV4StreamPart[] {
  return [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "t" },
    ...step.deltas.map((delta): LanguageModelV4StreamPart => ({ type: "text-delta", id: "t", delta })),
    { type: "text-end", id: "t" },
    ...(step.callsTool
      ? [{ type: "tool-call" as const, toolCallId: TOOL_CALL.callId, toolName: TOOL_CALL.toolName, input: TOOL_CALL.inputJson }]
      : []),
    { type: "finish", finishReason: finishReason(step), usage: usageOf(step) },
  ];
}

function generateResult(step: FakeStep): LanguageModelV4GenerateResult {
  return {
    content: [
      { type: "text", text: step.text },
      ...(step.callsTool
        ? [{ type: "tool-call" as const, toolCallId: TOOL_CALL.callId, toolName: TOOL_CALL.toolName, input: TOOL_CALL.inputJson }]
        : []),
    ],
    finishReason: finishReason(step),
    usage: usageOf(step),
    warnings: [],
  };
}

/** Tool results in a prompt: the fake model's only state is in its request, as a real model's. */
function toolResultsIn(prompt: LanguageModelV4Prompt): number {
  let count = 0;
  for (const message of prompt) if (message.role === "tool") count += message.content.length;
  return count;
}

/**
 * A zero-latency AI SDK language model (spec v4) playing `workload`: the step after as many tool
 * results as its prompt carries. It counts its calls in `counter`.
 */
export function fakeLanguageModel(workload: WorkloadName, counter: CallCounter): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    provider: "bench",
    modelId: "bench-model",
    doStream: async (options) => {
      counter.modelCalls += 1;
      return { stream: convertArrayToReadableStream(streamParts(stepAfterToolResults(workload, toolResultsIn(options.prompt)))) };
    },
    doGenerate: async (options) => {
      counter.modelCalls += 1;
      return generateResult(stepAfterToolResults(workload, toolResultsIn(options.prompt)));
    },
  });
}

function aiTools(counter: CallCounter) {
  return {
    add: tool({
      description: TOOL_DESCRIPTION,
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => {
        counter.toolCalls += 1;
        return a + b;
      },
    }),
  };
}

/**
 * The AI SDK's models and tools of one runtime, built once (both are stateless across turns);
 * `reset` starts a turn: counters at zero, and the mock's record of calls emptied (it keeps every
 * request otherwise, which would grow over thousands of turns).
 */
function setup() {
  const counter = new CallCounter();
  const models = { W1: fakeLanguageModel("W1", counter), W2: fakeLanguageModel("W2", counter) };
  const reset = (): void => {
    counter.reset();
    for (const model of [models.W1, models.W2]) {
      model.doStreamCalls.length = 0;
      model.doGenerateCalls.length = 0;
    }
  };
  return { counter, reset, models, tools: aiTools(counter) };
}

export const aiStreamText: BenchRuntime = {
  id: "ai-sdk.streamText",
  name: "AI SDK 7 streamText",
  kind: "peer",
  async open() {
    const { counter, reset, models, tools } = setup();
    return {
      async turn(workload): Promise<TurnCheck> {
        reset();
        const result = streamText({ model: models[workload], tools, stopWhen: isStepCount(5), prompt: PROMPT });
        let consumed = 0;
        let toolResult: number | undefined;
        for await (const part of result.fullStream) {
          consumed += 1;
          if (part.type === "tool-result") toolResult = part.output as number;
        }
        return { modelCalls: counter.modelCalls, toolCalls: counter.toolCalls, toolResult, finalText: await result.text, consumed };
      },
      close: async () => {},
    };
  },
};

export const aiGenerateText: BenchRuntime = {
  id: "ai-sdk.generateText",
  name: "AI SDK 7 generateText",
  kind: "peer",
  async open() {
    const { counter, reset, models, tools } = setup();
    return {
      async turn(workload): Promise<TurnCheck> {
        reset();
        const result = await generateText({ model: models[workload], tools, stopWhen: isStepCount(5), prompt: PROMPT });
        const toolResult = result.steps.flatMap((step) => step.toolResults)[0]?.output as number | undefined;
        return {
          modelCalls: counter.modelCalls,
          toolCalls: counter.toolCalls,
          toolResult,
          finalText: result.text,
          consumed: result.steps.length,
        };
      },
      close: async () => {},
    };
  },
};
