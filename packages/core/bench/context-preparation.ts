// The cost of preparing one model call's prompt with rolling history, on a 1,000-message session:
// the machine's projection of the conversation, then the context manager's fitting (estimate,
// pruning, a second projection when something was pruned). Run by `pnpm bench` in this package
// after the turn table, or alone: `node --conditions=@lash/source --import tsx bench/context-preparation.ts`.
import { performance } from "node:perf_hooks";
import type { LlmToolSpec, Message } from "@lash/protocol";
import { fitCall } from "../src/context/managed-llm-call.js";
import { projectRequest, rollingHistory } from "../src/index.js";

const MESSAGES = 1_000;
const SYSTEM_PROMPT = "You are an AI assistant running on the lash agent runtime.\n".repeat(20);
const TOOLS: LlmToolSpec[] = ["read", "list", "search", "write"].map((name) => ({
  name,
  description: `The ${name} tool.`,
  inputSchema: { type: "object", properties: { path: { type: "string" } } },
}));

/** 250 user turns of 4 messages: a prompt, a tool call, a 2 KB tool result, an answer. */
function session(): Message[] {
  const messages: Message[] = [];
  for (let turn = 0; messages.length < MESSAGES; turn += 1) {
    const id = (kind: string): string => `m${turn}-${kind}`;
    messages.push(
      { id: id("u"), role: "user", parts: [{ kind: "text", id: `${id("u")}.p0`, content: `Turn ${turn}: read the next file please.` }] },
      {
        id: id("c"),
        role: "assistant",
        parts: [
          { kind: "tool_call", id: `${id("c")}.p0`, callId: `call-${turn}`, toolName: "read", inputJson: `{"path":"src/file-${turn}.ts"}` },
        ],
      },
      {
        id: id("r"),
        role: "user",
        parts: [
          {
            kind: "tool_result",
            id: `${id("r")}.p0`,
            callId: `call-${turn}`,
            toolName: "read",
            content: `export const value${turn} = 1;\n`.repeat(80),
          },
        ],
      },
      { id: id("a"), role: "assistant", parts: [{ kind: "prose", id: `${id("a")}.p0`, content: `File ${turn} defines one constant.` }] },
    );
  }
  return messages;
}

interface Figure {
  readonly label: string;
  readonly meanMicroseconds: number;
  readonly p50Microseconds: number;
}

function measure(label: string, iterations: number, work: () => void): Figure {
  for (let index = 0; index < 50; index += 1) work();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    work();
    samples.push((performance.now() - started) * 1000);
  }
  samples.sort((left, right) => left - right);
  return {
    label,
    meanMicroseconds: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
    p50Microseconds: samples[Math.floor(samples.length / 2)] ?? Number.NaN,
  };
}

/** Prepares one call's prompt `iterations` times per window and returns the figures. */
export function benchContextPreparation(iterations = 500): Figure[] {
  const messages = session();
  const manager = rollingHistory();
  const prepare = (window: number) => () => {
    const { request, attachmentRefs } = projectRequest({
      systemPrompt: SYSTEM_PROMPT,
      messages,
      tools: TOOLS,
      useTools: true,
      model: "bench-model",
      modelVariant: undefined,
      sessionId: "bench",
    });
    fitCall({ type: "llm_call", id: 1, request, attachmentRefs }, messages, messages, manager, window, {
      sessionId: "bench",
      calibration: 1,
    });
  };
  // About 140,000 estimated tokens: within a 1,000,000-token window as is, pruned for a 200,000-token one.
  return [
    measure("1,000 messages, within the window (projection + estimate)", iterations, prepare(1_000_000)),
    measure("1,000 messages, past 60% of the window (+ pruning, second projection)", iterations, prepare(200_000)),
  ];
}

export function formatContextPreparation(figures: readonly Figure[]): string {
  const lines = figures.map(
    (figure) =>
      `  ${figure.label.padEnd(72)} mean ${(figure.meanMicroseconds / 1000).toFixed(3)} ms  p50 ${(figure.p50Microseconds / 1000).toFixed(3)} ms`,
  );
  return ["prompt preparation with rolling history (goal <= 2 ms per model call):", ...lines].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(formatContextPreparation(benchContextPreparation()));
