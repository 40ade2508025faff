// The two benchmark workloads, for lash and for the AI SDK, doing the same model steps.

import { join } from "node:path";
import type { LanguageModelV3StreamPart } from "@ai-sdk/provider";
import type { AssembledTurn, LlmStreamEvent, TurnActivity } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep } from "@lash/testkit";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { convertArrayToReadableStream, MockLanguageModelV3 } from "ai/test";
import { z } from "zod";
import { defineTool, LashRuntime, textInput } from "../src/index.js";

export type WorkloadName = "W1" | "W2";

/** What one turn produced, checked before timing so every side really did the work. */
export interface TurnCheck {
  readonly modelCalls: number;
  readonly toolResult: number | undefined;
  readonly finalTextLength: number;
  readonly consumed: number;
}

const deltas = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index} `);
const W1_TEXT = deltas(10, "w");
const W2_FIRST = deltas(5, "a");
const W2_SECOND = deltas(50, "b");
const USAGE_1 = { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 };
const USAGE_2 = { inputTokens: 140, outputTokens: 60, cachedInputTokens: 0, reasoningTokens: 0 };

// ---- lash ----

function lashSteps(workload: WorkloadName): ScriptedStep[] {
  const stream = (pieces: string[]): LlmStreamEvent[] => pieces.map((text) => ({ type: "delta", text }));
  if (workload === "W1") {
    return [
      {
        events: stream(W1_TEXT),
        response: { fullText: W1_TEXT.join(""), parts: [{ type: "text", text: W1_TEXT.join("") }], usage: USAGE_1 },
      },
    ];
  }
  return [
    {
      events: stream(W2_FIRST),
      response: {
        fullText: W2_FIRST.join(""),
        parts: [
          { type: "text", text: W2_FIRST.join("") },
          { type: "tool_call", callId: "call-1", toolName: "add", inputJson: '{"a":1,"b":2}' },
        ],
        usage: USAGE_1,
        terminalReason: "tool_use",
      },
    },
    {
      events: stream(W2_SECOND),
      response: { fullText: W2_SECOND.join(""), parts: [{ type: "text", text: W2_SECOND.join("") }], usage: USAGE_2 },
    },
  ];
}

const lashAdd = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

async function lashRuntime(workload: WorkloadName) {
  const provider = new ScriptedProvider(lashSteps(workload), { defaultModel: "bench-model", recordRequests: false });
  const runtime = await LashRuntime.builder()
    .withSessionId("bench")
    .withModel("bench-model")
    .withProvider(provider)
    .withTools([lashAdd])
    .build();
  return { runtime, provider };
}

function lashCheck(provider: { readonly callCount: number }, turn: AssembledTurn, consumed: number): TurnCheck {
  const payload = turn.toolCalls[0]?.output.outcome;
  return {
    modelCalls: provider.callCount,
    toolResult: payload?.status === "success" && typeof payload.payload === "number" ? payload.payload : undefined,
    finalTextLength: turn.assistantOutput.rawText.length,
    consumed,
  };
}

/** One lash turn through the iterable API: `for await` over the activities, then the result. */
export async function lashIteratedTurn(workload: WorkloadName): Promise<TurnCheck> {
  const { runtime, provider } = await lashRuntime(workload);
  let consumed = 0;
  const turn = runtime.streamTurn("Please add 1 and 2.");
  for await (const activity of turn) consumed += activity.type.length;
  return lashCheck(provider, await turn.result, consumed);
}

/** One lash turn through a push sink (`activities: { emit }`), every activity consumed. */
export async function lashSinkTurn(workload: WorkloadName): Promise<TurnCheck> {
  const { runtime, provider } = await lashRuntime(workload);
  let consumed = 0;
  const turn = await runtime.runTurn(textInput("Please add 1 and 2."), {
    activities: {
      emit: (activity: TurnActivity) => {
        consumed += activity.type.length;
      },
    },
  });
  return lashCheck(provider, turn, consumed);
}

/**
 * The parts of an older build of lash the baseline runner uses: the builder, finished with
 * `buildEphemeral()`, and `streamTurn` with a push sink, as lash offered them before the iterable turn.
 */
interface BaselineLash {
  readonly core: {
    readonly LashRuntime: {
      builder(): {
        withSessionId(id: string): BaselineBuilder;
      };
    };
    readonly defineTool: (definition: unknown) => unknown;
    readonly textInput: (text: string) => unknown;
  };
  readonly ScriptedProvider: new (steps: readonly ScriptedStep[], options: object) => { readonly callCount: number };
}

interface BaselineBuilder {
  withSessionId(id: string): BaselineBuilder;
  withPolicy(policy: object): BaselineBuilder;
  withProvider(provider: unknown): BaselineBuilder;
  withTools(tools: readonly unknown[]): BaselineBuilder;
  buildEphemeral(): {
    streamTurn(input: unknown, options: { activities: { emit: (activity: TurnActivity) => void } }): Promise<AssembledTurn>;
  };
}

/**
 * Loads the built packages of another checkout of this repository (`root`: its folder, built with
 * `pnpm exec turbo run build --filter=@lash/core... --filter=@lash/adapter-scripted...`), for a
 * before/after comparison in one process.
 */
export async function loadBaselineLash(root: string): Promise<BaselineLash> {
  const core = (await import(join(root, "packages/core/dist/index.js"))) as BaselineLash["core"];
  const scripted = (await import(join(root, "packages/adapters/scripted/dist/index.js"))) as Pick<BaselineLash, "ScriptedProvider">;
  return { core, ScriptedProvider: scripted.ScriptedProvider };
}

/** One turn of the older build, streamed through its push sink. */
export async function baselineTurn(lash: BaselineLash, workload: WorkloadName): Promise<TurnCheck> {
  const provider = new lash.ScriptedProvider(lashSteps(workload), { defaultModel: "bench-model", recordRequests: false });
  const add = lash.core.defineTool({
    name: "add",
    description: "Add two numbers.",
    inputSchema: z.object({ a: z.number(), b: z.number() }),
    execute: ({ a, b }: { a: number; b: number }) => a + b,
  });
  const runtime = lash.core.LashRuntime.builder()
    .withSessionId("bench")
    .withPolicy({ model: "bench-model", maxContextTokens: 200_000 })
    .withProvider(provider)
    .withTools([add])
    .buildEphemeral();
  let consumed = 0;
  const turn = await runtime.streamTurn(lash.core.textInput("Please add 1 and 2."), {
    activities: {
      emit: (activity) => {
        consumed += activity.type.length;
      },
    },
  });
  return lashCheck(provider, turn, consumed);
}

// ---- AI SDK ----

const finishUsage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});

function aiStreamParts(workload: WorkloadName, call: number): LanguageModelV3StreamPart[] {
  const text = (pieces: string[]): LanguageModelV3StreamPart[] => [
    { type: "text-start", id: "t" },
    ...pieces.map((delta): LanguageModelV3StreamPart => ({ type: "text-delta", id: "t", delta })),
    { type: "text-end", id: "t" },
  ];
  if (workload === "W1") {
    return [
      { type: "stream-start", warnings: [] },
      ...text(W1_TEXT),
      { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage: finishUsage(100, 20) },
    ];
  }
  if (call === 0) {
    return [
      { type: "stream-start", warnings: [] },
      ...text(W2_FIRST),
      { type: "tool-call", toolCallId: "call-1", toolName: "add", input: '{"a":1,"b":2}' },
      { type: "finish", finishReason: { unified: "tool-calls", raw: undefined }, usage: finishUsage(100, 20) },
    ];
  }
  return [
    { type: "stream-start", warnings: [] },
    ...text(W2_SECOND),
    { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage: finishUsage(140, 60) },
  ];
}

function aiGenerateResult(workload: WorkloadName, call: number) {
  const usage = call === 0 ? finishUsage(100, 20) : finishUsage(140, 60);
  if (workload === "W1")
    return {
      content: [{ type: "text" as const, text: W1_TEXT.join("") }],
      finishReason: { unified: "stop" as const, raw: undefined },
      usage,
      warnings: [],
    };
  if (call === 0) {
    return {
      content: [
        { type: "text" as const, text: W2_FIRST.join("") },
        { type: "tool-call" as const, toolCallId: "call-1", toolName: "add", input: '{"a":1,"b":2}' },
      ],
      finishReason: { unified: "tool-calls" as const, raw: undefined },
      usage,
      warnings: [],
    };
  }
  return {
    content: [{ type: "text" as const, text: W2_SECOND.join("") }],
    finishReason: { unified: "stop" as const, raw: undefined },
    usage,
    warnings: [],
  };
}

const aiTools = {
  add: tool({
    description: "Add two numbers.",
    inputSchema: z.object({ a: z.number(), b: z.number() }),
    execute: async ({ a, b }) => a + b,
  }),
};

/** One AI SDK `streamText` run with its full stream consumed. */
export async function aiStreamTurn(workload: WorkloadName): Promise<TurnCheck> {
  let calls = 0;
  const model = new MockLanguageModelV3({
    doStream: async () => ({ stream: convertArrayToReadableStream(aiStreamParts(workload, calls++)) }),
  });
  const result = streamText({ model, tools: aiTools, stopWhen: stepCountIs(5), prompt: "Please add 1 and 2." });
  let consumed = 0;
  let toolResult: number | undefined;
  for await (const part of result.fullStream) {
    consumed += part.type.length;
    if (part.type === "tool-result") toolResult = part.output as number;
  }
  const text = await result.text;
  return { modelCalls: calls, toolResult, finalTextLength: text.length, consumed };
}

/** One AI SDK `generateText` run. */
export async function aiGenerateTurn(workload: WorkloadName): Promise<TurnCheck> {
  let calls = 0;
  const model = new MockLanguageModelV3({ doGenerate: async () => aiGenerateResult(workload, calls++) });
  const result = await generateText({ model, tools: aiTools, stopWhen: stepCountIs(5), prompt: "Please add 1 and 2." });
  const toolResult = result.steps.flatMap((step) => step.toolResults)[0]?.output as number | undefined;
  return { modelCalls: calls, toolResult, finalTextLength: result.text.length, consumed: result.steps.length };
}

// ---- bare loop (the floor: no runtime at all) ----

/** A hand-written loop doing the same steps with plain arrays: what any runtime costs above zero. */
export async function bareLoopTurn(workload: WorkloadName): Promise<TurnCheck> {
  const steps = lashSteps(workload);
  let text = "";
  let toolResult: number | undefined;
  let consumed = 0;
  for (const step of steps) {
    text = "";
    for (const event of step.events ?? []) {
      if (event.type === "delta") {
        text += event.text;
        consumed += 1;
      }
    }
    for (const part of step.response?.parts ?? []) {
      if (part.type === "tool_call") {
        const args = JSON.parse(part.inputJson) as { a: number; b: number };
        toolResult = await Promise.resolve(args.a + args.b);
      }
    }
  }
  return { modelCalls: steps.length, toolResult, finalTextLength: text.length, consumed };
}
