import { describe, expect, it } from "vitest";
import { cellStep, echoTool, recorders, rlmRuntime } from "../test/rlm-fixtures.js";
import { DEFAULT_LIMITS } from "./rlm-options.js";
import { loadQuickJsModule } from "./sandbox/quickjs-module.js";
import { type CellHost, QuickJsSandbox } from "./sandbox/quickjs-sandbox.js";

function host(calls: { name: string; args: unknown }[] = []): CellHost {
  return {
    signal: new AbortController().signal,
    toolNames: ["echo"],
    callTool: async (name, args) => {
      calls.push({ name, args });
      return { ok: true, value: { echoed: args } };
    },
  };
}

async function sandbox(limits: Partial<typeof DEFAULT_LIMITS> = {}): Promise<QuickJsSandbox> {
  const resolved = { ...DEFAULT_LIMITS, timeoutMs: 300, ...limits };
  return new QuickJsSandbox(await loadQuickJsModule(resolved.memoryBytes), resolved);
}

/** After an escape attempt the same sandbox still runs a plain cell. */
async function stillServes(box: QuickJsSandbox): Promise<void> {
  const next = await box.run("print(1 + 1);", host());
  expect(next).toMatchObject({ output: "2" });
  expect(next.error).toBeUndefined();
}

describe("the sandbox keeps code in", () => {
  it.each([
    ["require", "require('fs')", /ReferenceError: 'require' is not defined|require is not defined/],
    ["process", "process.exit(1)", /process/],
    ["fetch", "await fetch('http://127.0.0.1/')", /fetch/],
    ["setTimeout", "setTimeout(() => {}, 1)", /setTimeout/],
    ["dynamic import", "await import('node:fs')", /./],
    ["Function constructor reaching a host global", "Function('return process')().exit()", /process/],
    ["globalThis walk", "globalThis.constructor.constructor('return process')().pid", /process/],
  ])("%s fails cleanly", async (_name, code, error) => {
    const box = await sandbox();
    const result = await box.run(code, host());
    expect(result.error).toMatch(error);
    await stillServes(box);
    box.dispose();
  });

  it("globalThis holds nothing of the host", async () => {
    const box = await sandbox();
    const result = await box.run(
      "const names = Object.getOwnPropertyNames(globalThis); print(names.filter((name) => ['process', 'require', 'module', 'Buffer', 'fetch', 'setTimeout', 'WebAssembly'].includes(name)).length);",
      host(),
    );
    expect(result).toMatchObject({ output: "0" });
    box.dispose();
  });

  it("prototype pollution stays inside: the host's objects and the tool arguments are clean", async () => {
    const calls: { name: string; args: unknown }[] = [];
    const box = await sandbox();
    const result = await box.run(
      "Object.prototype.polluted = 'yes'; Array.prototype.map = () => 'pwned'; JSON.stringify = () => '{\"evil\":1}';\n" +
        'const payload = JSON.parse(\'{"__proto__": {"polluted": true}, "value": 1}\');\n' +
        "print(JSON.stringify(await tools.echo(payload)));",
      host(calls),
    );
    expect(result.error).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect([1, 2].map((value) => value * 2)).toEqual([2, 4]);
    // The arguments crossed as JSON text the host parsed: an own `__proto__` key, no prototype change.
    const args = calls[0]?.args as Record<string, unknown>;
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect((args as { polluted?: unknown }).polluted).toBeUndefined();
    box.dispose();
  });

  it("an infinite loop is stopped at the time limit, and a try/catch cannot swallow it", async () => {
    const box = await sandbox();
    const result = await box.run("try { while (true) {} } catch (error) { print('caught'); }", host());
    expect(result.error).toMatch(/time limit/);
    expect(result.output).toBe("");
    await stillServes(box);
    box.dispose();
  });

  it("an infinite loop after a tool call is stopped too", async () => {
    const box = await sandbox();
    const result = await box.run("await tools.echo({}); for (;;) {}", host());
    expect(result.error).toMatch(/time limit/);
    box.dispose();
  });

  it("a 1 GB allocation fails with out of memory", async () => {
    const box = await sandbox({ timeoutMs: 5_000 });
    const result = await box.run("const big = new Uint8Array(1024 * 1024 * 1024); print(big.length);", host());
    expect(result.error).toMatch(/out of memory|RangeError|InternalError/);
    const grow = await box.run(
      "let chunks = []; for (let i = 0; i < 1e6; i += 1) chunks.push(new Array(1024 * 128).fill(i)); print(chunks.length);",
      host(),
    );
    expect(grow.error).toMatch(/out of memory|InternalError|RangeError|time limit/);
    await stillServes(box);
    box.dispose();
  });

  it("deep recursion ends with a stack overflow", async () => {
    const box = await sandbox();
    const result = await box.run("function down(n) { return down(n + 1) + 1; } down(0);", host());
    expect(result.error).toMatch(/stack overflow/);
    expect((result.error ?? "").length).toBeLessThanOrEqual(2_100);
    await stillServes(box);
    box.dispose();
  });

  it("repeat and padEnd of tens of megabytes stay within the time and memory limits", async () => {
    const box = await sandbox({ timeoutMs: 2_000 });
    const result = await box.run(
      "let parts = []; for (let i = 0; i < 1e6; i += 1) parts.push('x'.repeat(1024 * 1024)); print(parts.length);",
      host(),
    );
    expect(result.error).toMatch(/out of memory|time limit/);
    box.dispose();
    const fresh = await sandbox();
    const padded = await fresh.run(
      "print('a'.padEnd(5, 'xy') + '|' + 'b'.padStart(4) + '|' + 'ab'.repeat(3) + '|' + 'z'.repeat(1000).length);",
      host(),
    );
    expect(padded.output).toBe("axyxy|   b|ababab|1000");
    fresh.dispose();
  });
  it("huge print output is cut at the limit with a note", async () => {
    const box = await sandbox({ maxOutputCharacters: 1_000, timeoutMs: 10_000 });
    const result = await box.run("const line = 'x'.repeat(100_000); for (let i = 0; i < 200; i += 1) print(i, line);", host());
    expect(result.error).toBeUndefined();
    expect(result.output.length).toBeLessThan(1_200);
    expect(result.output).toMatch(/\[output truncated: \d+ more characters were printed\]$/);
    box.dispose();
  });

  it("a promise that never settles ends the cell instead of hanging", async () => {
    const box = await sandbox();
    const result = await box.run("await new Promise(() => {});", host());
    expect(result.error).toMatch(/never settles/);
    box.dispose();
  });

  it("submit ends the cell even inside a try/catch", async () => {
    const box = await sandbox();
    const result = await box.run("try { submit(1); for (;;) {} } catch (error) { print('caught'); }", host());
    expect(result).toMatchObject({ submitted: { value: 1 }, output: "" });
    expect(result.error).toBeUndefined();
    box.dispose();
  });
});

describe("a failing engine is contained", () => {
  it("native recursion that overflows the host's stack resets only that session's sandbox, from its saved state", async () => {
    const { runtime, mode } = await rlmRuntime({
      steps: [
        cellStep("let kept = 'before';\nprint(kept);"),
        cellStep("const o = {}; let c = o; for (let i = 0; i < 200000; i += 1) { c.n = {}; c = c.n; }\nprint(JSON.stringify(o).length);"),
        cellStep("submit(kept);"),
      ],
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("go deep", sinks);
    const errors = activities.flatMap((activity) =>
      activity.type === "code_block_completed" && activity.error !== undefined ? [activity.error] : [],
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/stack overflow|Maximum call stack/);
    // The session goes on: the variable saved before the failing cell is still there.
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: "before" } });
    expect(mode.liveSandboxes).toBe(1);
  });
});

describe("tool calls from code go through the turn's dispatch", () => {
  it("a tool called 10,000 times from one cell is stopped by the tool-call budget", async () => {
    const echo = echoTool();
    const { runtime } = await rlmRuntime({
      steps: [
        cellStep(
          "let n = 0;\nfor (let i = 0; i < 10000; i += 1) { try { await tools.echo({ value: i }); n += 1; } catch (error) {} }\nprint(n);",
        ),
      ],
      tools: [echo],
      termination: { maxToolCalls: 25 },
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("hammer the tool", sinks);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
    expect(echo.count).toBe(25);
    expect(turn.toolCalls).toHaveLength(25);
    expect(activities.filter((activity) => activity.type === "tool_call_started")).toHaveLength(25);
    // The host keeps serving: the next turn runs.
    expect(turn.execution.hadCodeExecution).toBe(true);
  });

  it("Promise.all over 10,000 calls runs only what the budget allows", async () => {
    const echo = echoTool();
    const { runtime } = await rlmRuntime({
      steps: [
        cellStep(
          "const all = await Promise.allSettled(Array.from({ length: 10000 }, (_, i) => tools.echo({ value: i })));\nprint(all.length);",
        ),
      ],
      tools: [echo],
      termination: { maxToolCalls: 40 },
    });
    const turn = await runtime.runTurn("fan out");
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "budget_exhausted", budget: "tool_calls" } });
    expect(echo.count).toBe(40);
  });

  it("a tool that needs approval fails from code when nobody approves it, and nothing waits", async () => {
    const guarded = { ...echoTool(), name: "guarded", needsApproval: true };
    const { runtime } = await rlmRuntime({
      steps: [
        cellStep("try { await tools.guarded({ value: 1 }); } catch (error) { print(error.code + ': ' + error.message); }"),
        cellStep("submit('ok');"),
      ],
      tools: [guarded],
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("try it", sinks);
    expect(turn.outcome).toMatchObject({ type: "finished" });
    const completed = activities.find((activity) => activity.type === "code_block_completed");
    expect(completed?.type === "code_block_completed" ? completed.output : "").toMatch(/^approval_required: .*cannot wait/);
    expect(activities.some((activity) => activity.type === "approval_requested")).toBe(false);
  });

  it("an approver's decision applies to calls from code", async () => {
    const guarded = { ...echoTool(), name: "guarded", needsApproval: true };
    const { runtime } = await rlmRuntime({
      steps: [cellStep("submit(await tools.guarded({ value: 7 }));")],
      tools: [guarded],
    });
    const turn = await runtime.runTurn("go", { approve: () => ({ type: "approve", decidedBy: "test" }) });
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: { echoed: 7 } } });
    expect(turn.toolCalls[0]?.approval).toMatchObject({ decision: "approved", decidedBy: "test" });
  });

  it("cancelling the turn while a cell waits on a tool ends the cell and the turn at once", async () => {
    let sawAbort = false;
    const slow = {
      name: "slow",
      description: "Takes long.",
      inputSchema: { type: "object" },
      execute: (_input: unknown, context: { signal: AbortSignal }) =>
        new Promise((resolve) => {
          context.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve("aborted");
          });
        }),
    };
    const { runtime } = await rlmRuntime({ steps: [cellStep("await tools.slow({});\nsubmit('never');")], tools: [slow] });
    const controller = new AbortController();
    const turn = runtime.streamTurn("wait", { signal: controller.signal });
    for await (const activity of turn) if (activity.type === "tool_call_started") controller.abort();
    const result = await turn;
    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(sawAbort).toBe(true);
  });

  it("after a cell that loops forever, the session's next turn runs", async () => {
    const { runtime } = await rlmRuntime({
      steps: [cellStep("let kept = 1;\nwhile (true) {}"), cellStep("submit(kept + 1);")],
      modeOptions: { limits: { timeoutMs: 200 } },
    });
    const { activities, sinks } = recorders();
    const turn = await runtime.runTurn("spin", sinks);
    const completed = activities.find((activity) => activity.type === "code_block_completed");
    expect(completed?.type === "code_block_completed" ? completed.error : "").toMatch(/time limit/);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "submitted_value", value: 2 } });
  });
});
