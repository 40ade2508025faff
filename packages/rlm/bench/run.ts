// `pnpm bench` in packages/rlm: what a code cell costs. Cell start-up is a new session's sandbox
// (its WebAssembly instance, runtime, context and prelude) plus its first cell; the loop cell runs
// 1,000 iterations in a warm sandbox (alone, and with the state save that follows every cell in a
// turn); the turn is a scripted RLM turn of a new session whose cell calls a tool and submits.
// Every measurement checks the work was done before it is reported.
import { performance } from "node:perf_hooks";
import { defineTool, LashRuntime } from "@lash/core";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { z } from "zod";
import { createRlmMode, DEFAULT_LIMITS } from "../src/index.js";
import { loadQuickJsModule } from "../src/sandbox/quickjs-module.js";
import { type CellHost, QuickJsSandbox } from "../src/sandbox/quickjs-sandbox.js";

const ROUNDS = Number(process.env.BENCH_ITERATIONS ?? 200);
const STARTUPS = Number(process.env.BENCH_STARTUPS ?? 40);

const host: CellHost = { signal: new AbortController().signal, toolNames: [], callTool: async () => ({ ok: true, value: null }) };

function median(samples: number[]): number {
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? Number.NaN;
}

function line(name: string, samples: number[]): void {
  console.log(
    `${name.padEnd(44)} median ${median(samples).toFixed(2).padStart(8)} ms   p95 ${p95(samples).toFixed(2).padStart(8)} ms   (n=${samples.length})`,
  );
}

async function startup(): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < STARTUPS; index += 1) {
    const started = performance.now();
    const sandbox = new QuickJsSandbox(await loadQuickJsModule(DEFAULT_LIMITS.memoryBytes), DEFAULT_LIMITS);
    const cell = await sandbox.run("print(1 + 1);", host);
    samples.push(performance.now() - started);
    if (cell.output !== "2") throw new Error(`start-up cell printed ${JSON.stringify(cell.output)}`);
    sandbox.dispose();
  }
  return samples;
}

async function loopCell(saveState: boolean): Promise<number[]> {
  const sandbox = new QuickJsSandbox(await loadQuickJsModule(DEFAULT_LIMITS.memoryBytes), DEFAULT_LIMITS);
  const samples: number[] = [];
  for (let index = 0; index < ROUNDS; index += 1) {
    const started = performance.now();
    const cell = await sandbox.run("{ let sum = 0; for (let i = 0; i < 1000; i += 1) sum += i * 2; print(sum); }", host);
    if (saveState) sandbox.saveState();
    samples.push(performance.now() - started);
    if (cell.output !== "999000") throw new Error(`loop cell printed ${JSON.stringify(cell.output)}`);
  }
  sandbox.dispose();
  return samples;
}

async function turns(): Promise<number[]> {
  const add = defineTool({
    name: "add",
    description: "Add two numbers.",
    inputSchema: z.object({ a: z.number(), b: z.number() }),
    execute: ({ a, b }) => ({ sum: a + b }),
  });
  const mode = createRlmMode();
  const samples: number[] = [];
  for (let index = 0; index < Math.min(ROUNDS, 100); index += 1) {
    const provider = new ScriptedProvider([textStep("```js\nconst { sum } = await tools.add({ a: 2, b: 3 });\nsubmit(sum);\n```")], {
      recordRequests: false,
    });
    const runtime = await LashRuntime.builder()
      .withProvider(provider)
      .withMode(mode)
      .withTools([add])
      .withPolicy({ executionMode: "rlm", maxContextTokens: 200_000 })
      .withSessionId("bench-session")
      .build();
    const started = performance.now();
    const turn = await runtime.runTurn("2 + 3?");
    samples.push(performance.now() - started);
    if (turn.outcome.type !== "finished" || turn.outcome.finish.type !== "submitted_value" || turn.outcome.finish.value !== 5) {
      throw new Error(`the turn did not submit 5: ${JSON.stringify(turn.outcome)}`);
    }
  }
  mode.dispose();
  return samples;
}

console.log(`@lash/rlm bench (Node ${process.version})`);
line("cell start-up (new sandbox + first cell)", await startup());
line("1,000-iteration loop cell (warm sandbox)", await loopCell(false));
line("1,000-iteration loop cell + state save", await loopCell(true));
line("RLM turn (new session): cell, tool, submit", await turns());
