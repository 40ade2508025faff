// A smoke test of the benchmark, never a timing: every runtime of the table does the same work on
// the same fake model (same answer, the tool called once in W2 and never in W1), and a tiny run
// prints its table.
import { describe, expect, it } from "vitest";
import type { BenchRuntime } from "./bench-runtime.js";
import { formatReport, RUNTIMES, runBench } from "./run.js";
import { aiGenerateText } from "./runtimes/ai-sdk.js";
import { lashNoStore } from "./runtimes/lash.js";
import { expectedAnswer, type TurnCheck, WORKLOADS, type WorkloadName, workProblems } from "./workload.js";

async function oneTurnEach(runtime: BenchRuntime): Promise<Record<WorkloadName, TurnCheck | undefined> | { skipped: string }> {
  const opened = await runtime.open();
  if ("skipped" in opened) return opened;
  try {
    return { W1: await opened.turn("W1"), W2: await opened.turn("W2") };
  } finally {
    await opened.close();
  }
}

describe("the benchmark's runtimes", () => {
  it("all run the same workload: the same answer, the tool once per W2 turn and never in W1", async () => {
    const answers = new Map<string, string>();
    for (const runtime of RUNTIMES) {
      const turns = await oneTurnEach(runtime);
      if ("skipped" in turns) {
        // Only the PostgreSQL row may be missing, and only where no server answers.
        expect(runtime.id).toBe("lash.postgres");
        console.warn(`[bench smoke] ${runtime.name} skipped: ${turns.skipped}`);
        continue;
      }
      for (const workload of WORKLOADS) {
        const check = turns[workload];
        if (runtime.kind === "floor") {
          // The raw SQLite floor runs no model: it writes a recorded lash turn's rows.
          expect(check).toBeUndefined();
          continue;
        }
        expect({ runtime: runtime.name, workload, problems: check ? workProblems(workload, check) : ["no report"] }).toEqual({
          runtime: runtime.name,
          workload,
          problems: [],
        });
        expect(check?.toolCalls).toBe(workload === "W2" ? 1 : 0);
        answers.set(`${runtime.id}/${workload}`, check?.finalText ?? "");
      }
    }
    for (const workload of WORKLOADS) {
      const texts = new Set([...answers].filter(([key]) => key.endsWith(`/${workload}`)).map(([, text]) => text));
      expect([...texts]).toEqual([expectedAnswer(workload)]);
    }
  });

  it("prints one table with a ratio column against lash without a store", async () => {
    const report = await runBench(
      {
        quick: true,
        rounds: 1,
        plan: { warmup: 1, maxIterations: 2, budgetMs: 0, minIterations: 2 },
        figures: false,
        runtimes: [lashNoStore, aiGenerateText],
      },
      () => {},
    );
    const table = formatReport(report);
    expect(table).toContain("W2 ratio");
    expect(table).toMatch(/lash streamTurn, no store\s.*1\.0x/);
    expect(report.runtimes.map((runtime) => runtime.workloads.W2?.iterations)).toEqual([2, 2]);
  });
});
