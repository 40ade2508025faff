// W1 of packages/core/bench/workloads.ts, for the server: one model call that streams 10 deltas
// ("w0 " .. "w9 ") and answers with their text, 100 input and 20 output tokens.
import { ScriptedProvider, type ScriptedStep } from "@lash/adapter-scripted";

/** The 10 deltas of W1, as the scripted model streams them and as the bare handler sends them. */
export const W1_DELTAS: readonly string[] = Array.from({ length: 10 }, (_, index) => `w${index} `);
const W1_TEXT = W1_DELTAS.join("");
const W1_USAGE = { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0 };

/** A scripted provider that plays W1 for every model call, however many (`repeat`), recording nothing. */
export function w1Provider(): ScriptedProvider {
  const step: ScriptedStep = {
    events: W1_DELTAS.map((text) => ({ type: "delta", text })),
    response: { fullText: W1_TEXT, parts: [{ type: "text", text: W1_TEXT }], usage: W1_USAGE },
  };
  return new ScriptedProvider([step], { defaultModel: "bench-model", recordRequests: false, repeat: true });
}

/**
 * Checks one turn's event stream as a client reads it: the 10 deltas, in order, then a result
 * that finished with W1's text. Every timed turn is checked, so no side is fast by skipping work.
 */
export function checkW1Stream(body: string): string | undefined {
  const deltas = [...body.matchAll(/"type":"text_delta","text":"(w\d )"/g)].map((match) => match[1]);
  if (deltas.join("") !== W1_TEXT) return `expected the 10 W1 deltas, got ${JSON.stringify(deltas)}`;
  const result = /\nevent: result\ndata: (.*)\n/.exec(body)?.[1];
  if (result === undefined) return "no result event";
  // The answer is the streamed text without its trailing space.
  if (!result.includes('"type":"finished"') || !result.includes(`"text":"${W1_TEXT.trim()}"`))
    return `unexpected result ${result.slice(0, 600)}`;
  return undefined;
}
