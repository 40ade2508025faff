// The W2 turn of packages/core/bench/workloads.ts, run by a lash runtime on a store: call 1 streams
// 5 deltas and calls add({a:1,b:2}); call 2 streams 50 deltas.
import { defineTool, LashRuntime } from "@lash/core";
import type { LlmStreamEvent, SessionCommit, SessionCommitResult, SessionStore } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep } from "@lash/testkit";
import { z } from "zod";

const deltas = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index} `);
const W2_FIRST = deltas(5, "a");
const W2_SECOND = deltas(50, "b");
const USAGE_1 = { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 };
const USAGE_2 = { inputTokens: 140, outputTokens: 60, cachedInputTokens: 0, reasoningTokens: 0 };
/** The length of the final answer of a W2 turn ("b0 ".."b9 " are 3 characters, "b10 ".."b49 " are 4). */
export const W2_ANSWER_LENGTH = 50 * 4 - 10;

function w2Steps(): ScriptedStep[] {
  const stream = (pieces: string[]): LlmStreamEvent[] => pieces.map((text) => ({ type: "delta", text }));
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

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

/**
 * One W2 turn on a new session of `store` (built like the core benchmark builds its runtime: once per
 * turn), streamed with `for await`. Returns the answer's length and the tool's result, so the caller
 * can check the turn did the work.
 */
export async function runW2Turn(sessionId: string, store: SessionStore): Promise<{ answerLength: number; toolResult: unknown }> {
  const provider = new ScriptedProvider(w2Steps(), { defaultModel: "bench-model", recordRequests: false });
  const runtime = await LashRuntime.builder()
    .withSessionId(sessionId)
    .withModel("bench-model")
    .withProvider(provider)
    .withTools([add])
    .withStore(store)
    .build();
  const turn = runtime.streamTurn("Please add 1 and 2.");
  let consumed = 0;
  for await (const activity of turn) consumed += activity.type.length;
  const result = await turn.result;
  if (consumed === 0 || provider.callCount !== 2) throw new Error(`the W2 turn made ${provider.callCount} model calls`);
  const outcome = result.toolCalls[0]?.output.outcome;
  return {
    answerLength: result.assistantOutput.rawText.length,
    toolResult: outcome?.status === "success" ? outcome.payload : undefined,
  };
}

/** Throws unless a W2 turn did all of its work. */
export function expectW2Work(name: string, done: { answerLength: number; toolResult: unknown }): void {
  if (done.answerLength !== W2_ANSWER_LENGTH || done.toolResult !== 3) {
    throw new Error(`${name}: the W2 turn answered ${done.answerLength} characters, tool result ${String(done.toolResult)}`);
  }
}

/** A store that records every commit it passes on (to see what a W2 turn writes). */
export function recordingStore(store: SessionStore, commits: SessionCommit[]): SessionStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "commit") {
        return async (commit: SessionCommit): Promise<SessionCommitResult> => {
          commits.push(structuredClone(commit));
          return target.commit(commit);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
