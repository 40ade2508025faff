// The two workloads every runtime of the benchmark runs, with the same fake model steps everywhere
// (the W1/W2 of packages/core/bench/workloads.ts):
// - W1: one model call streaming 10 text deltas;
// - W2: call 1 streams 5 deltas and calls the tool add({a:1,b:2}); call 2 streams 50 deltas.
// The fake models answer at once (zero latency); each runtime's tool `add` counts its calls.

export type WorkloadName = "W1" | "W2";
export const WORKLOADS: readonly WorkloadName[] = ["W1", "W2"];

const deltas = (count: number, prefix: string): string[] => Array.from({ length: count }, (_, index) => `${prefix}${index} `);

/** The text deltas of W1's only call. */
export const W1_TEXT: readonly string[] = deltas(10, "w");
/** The text deltas of W2's first call (then the tool call). */
export const W2_FIRST: readonly string[] = deltas(5, "a");
/** The text deltas of W2's second call: the answer. */
export const W2_SECOND: readonly string[] = deltas(50, "b");

/** The tool call of W2's first step. */
export const TOOL_CALL = { callId: "call-1", toolName: "add", input: { a: 1, b: 2 }, inputJson: '{"a":1,"b":2}' } as const;
export const TOOL_DESCRIPTION = "Add two numbers.";

/** Token usage the fake models report for W1's call and W2's first call, and for W2's second call. */
export const USAGE_FIRST = { inputTokens: 100, outputTokens: 20 } as const;
export const USAGE_SECOND = { inputTokens: 140, outputTokens: 60 } as const;

export const PROMPT = "Please add 1 and 2.";

/** One model step of a workload, in runtime-neutral terms: what every fake model plays. */
export interface FakeStep {
  readonly deltas: readonly string[];
  readonly text: string;
  readonly callsTool: boolean;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
}

const step = (pieces: readonly string[], callsTool: boolean, usage: FakeStep["usage"]): FakeStep => ({
  deltas: pieces,
  text: pieces.join(""),
  callsTool,
  usage,
});

/** The model steps of a workload, in call order. */
export function fakeSteps(workload: WorkloadName): readonly FakeStep[] {
  return workload === "W1" ? W1_STEPS : W2_STEPS;
}
const W1_STEPS: readonly FakeStep[] = [step(W1_TEXT, false, USAGE_FIRST)];
const W2_STEPS: readonly FakeStep[] = [step(W2_FIRST, true, USAGE_FIRST), step(W2_SECOND, false, USAGE_SECOND)];

/**
 * Which step a stateless fake model plays: the step after as many tool results as the request
 * carries (W2's second call is the one that sees the tool's result).
 */
export function stepAfterToolResults(workload: WorkloadName, toolResults: number): FakeStep {
  const steps = fakeSteps(workload);
  const chosen = steps[Math.min(toolResults, steps.length - 1)];
  if (!chosen) throw new Error(`${workload} has no model step`);
  return chosen;
}

/** The final answer of a workload. */
export function expectedAnswer(workload: WorkloadName): string {
  return workload === "W1" ? W1_TEXT.join("") : W2_SECOND.join("");
}

/** What one turn did, reported by its runtime and checked before any timing. */
export interface TurnCheck {
  /** Calls of the fake model during the turn. */
  readonly modelCalls: number;
  /** Calls of the tool `add` during the turn. */
  readonly toolCalls: number;
  /** What the tool returned (as the runtime reported it), when it ran. */
  readonly toolResult: number | undefined;
  /** The final answer's text. */
  readonly finalText: string;
  /** How many streamed events (or, for non-streaming calls, result parts) the caller consumed. */
  readonly consumed: number;
}

/** A counter the tools of one runtime increment, read and reset by each turn. */
export class CallCounter {
  modelCalls = 0;
  toolCalls = 0;
  reset(): void {
    this.modelCalls = 0;
    this.toolCalls = 0;
  }
}

/** The reasons a turn did not do its workload's work (empty when it did). */
export function workProblems(workload: WorkloadName, check: TurnCheck): string[] {
  const expectedCalls = fakeSteps(workload).length;
  const expectedTools = workload === "W2" ? 1 : 0;
  const problems: string[] = [];
  if (check.modelCalls !== expectedCalls) problems.push(`${check.modelCalls} model calls (expected ${expectedCalls})`);
  if (check.toolCalls !== expectedTools) problems.push(`${check.toolCalls} tool calls (expected ${expectedTools})`);
  if (workload === "W2" && check.toolResult !== 3) problems.push(`tool result ${String(check.toolResult)} (expected 3)`);
  if (check.finalText !== expectedAnswer(workload))
    problems.push(`final text ${JSON.stringify(check.finalText.slice(0, 40))}… (${check.finalText.length} characters)`);
  if (check.consumed === 0) problems.push("nothing was consumed");
  return problems;
}

/** Throws unless a turn did its workload's work. */
export function expectWork(name: string, workload: WorkloadName, check: TurnCheck): void {
  const problems = workProblems(workload, check);
  if (problems.length > 0) throw new Error(`${name} ${workload} did not do the work: ${problems.join(", ")}`);
}
