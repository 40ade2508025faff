// `pnpm bench` in apps/server: W1 turns (packages/core/bench/workloads.ts: one model call streaming
// 10 deltas) over loopback SSE at 1, 10 and 100 concurrent sessions, side by side in one run:
// a bare Hono handler streaming the same 10 deltas (the ceiling), lash-server on the `memory:`
// store, lash-server on a SQLite file. Each side is a process of its own; the load comes from this
// one. A cell runs its turns or 10 s, whichever ends first, in 5 slices that alternate with the
// other sides' (see ROUNDS). LASH_BENCH_QUICK=1 runs a few turns per cell (a smoke run);
// BENCH_TURNS scales the number of turns per cell; LASH_BENCH_BUILT=1 runs the sides on the built
// packages.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { type LoadResult, percentile, runLoad } from "./turn-load.js";

const QUICK = process.env.LASH_BENCH_QUICK === "1";
/**
 * LASH_BENCH_BUILT=1: the sides run the built packages (`dist`, after `pnpm build`) instead of the
 * sources through the TypeScript loader, whose helpers (function names kept at run time) cost
 * something on every call. The load generator is the same either way.
 */
const BUILT = process.env.LASH_BENCH_BUILT === "1";
const SIDE_ARGUMENTS = BUILT ? process.execArgv.filter((argument) => argument !== "--conditions=@lash/source") : process.execArgv;
const SCALE = Number(process.env.BENCH_TURNS ?? 1);
const LEVELS = [1, 10, 100] as const;
/** Turns per cell, per concurrency: enough for a stable p99, and the whole run within about two minutes. */
const TURNS: Readonly<Record<(typeof LEVELS)[number], number>> = QUICK ? { 1: 40, 10: 200, 100: 400 } : { 1: 1_000, 10: 3_000, 100: 5_000 };
/** A cell stops here with the turns it got through (a slow side on a busy machine would take minutes otherwise). */
const MAX_CELL_SECONDS = QUICK ? 2 : 10;
/**
 * Warm-up before anything is timed: each side first runs turns for this long at 10 sessions (the
 * JIT compiles a server's hot paths over tens of thousands of turns, the bare handler's much
 * sooner; a short warm-up would time lash-server's compilation, on the core the load needs too),
 * then, before each cell, for a second at that cell's own concurrency.
 */
const WARMUP_SECONDS = QUICK ? 0.5 : 8;
const CELL_WARMUP_SECONDS = QUICK ? 0.2 : 1;
/** Each cell is timed in this many slices per side, the sides taking turns. */
const ROUNDS = QUICK ? 2 : 5;

const SIDES = [
  { key: "bare", name: "bare Hono SSE handler" },
  { key: "memory", name: "lash-server, memory:" },
  { key: "sqlite", name: "lash-server, SQLite" },
] as const;
type SideKey = (typeof SIDES)[number]["key"];

interface RunningSide {
  readonly key: SideKey;
  readonly url: string;
  readonly child: ChildProcess;
}

/** Starts a side's server process (with this process's loader flags) and waits for its URL. */
function startSide(key: SideKey): Promise<RunningSide> {
  const script = fileURLToPath(new URL("./bench-server.ts", import.meta.url));
  const child = spawn(process.execPath, [...SIDE_ARGUMENTS, script, key], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ key, url: match[1], child });
    });
    child.once("exit", (code) => reject(new Error(`the ${key} side exited with ${code} before listening`)));
  });
}

async function stopSide(side: RunningSide): Promise<void> {
  if (side.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => side.child.once("exit", () => resolve()));
  side.child.kill("SIGTERM");
  await exited;
}

/**
 * The CPU time (user and system) a side's process has used so far, in milliseconds, read from
 * `/proc` (Linux, whose clock ticks are 1/100 s); `undefined` where there is no `/proc`. Steadier
 * than turns per second on a shared machine: it does not move with what else runs.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command name's closing parenthesis start at the state (field 3).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ");
    const user = Number(fields?.[11]);
    const system = Number(fields?.[12]);
    return Number.isFinite(user) && Number.isFinite(system) ? (user + system) * 10 : undefined;
  } catch {
    return undefined;
  }
}

function milliseconds(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

/** The slices of one cell as one result: their turns and times added, their latencies merged. */
function combined(slices: readonly LoadResult[]): LoadResult {
  const latencies = slices.flatMap((slice) => slice.latencies).sort((left, right) => left - right);
  return {
    turns: slices.reduce((sum, slice) => sum + slice.turns, 0),
    seconds: slices.reduce((sum, slice) => sum + slice.seconds, 0),
    latencies,
  };
}

const results = new Map<string, LoadResult>();
/** The server process's CPU time per turn of each cell, in microseconds. */
const cpuPerTurn = new Map<string, number>();
const cell = (key: SideKey, level: number): LoadResult | undefined => results.get(`${key}:${level}`);
const throughput = (result: LoadResult | undefined): number => (result === undefined ? Number.NaN : result.turns / result.seconds);

const sides: RunningSide[] = [];
try {
  for (const side of SIDES) sides.push(await startSide(side.key));
  // JIT and connection warm-up, on every side, before anything is timed.
  for (const side of sides) await runLoad(side.url, { concurrency: 10, turns: QUICK ? 200 : 30_000, maxSeconds: WARMUP_SECONDS });
  // Level by level; within a level the sides take turns, in ROUNDS slices each, and a cell adds up
  // its slices: a shared machine's speed drifts over seconds, and a side timed all at once would
  // get a faster or slower stretch than the side it is compared with.
  for (const level of LEVELS) {
    const turns = Math.round(TURNS[level] * SCALE);
    for (const side of sides) await runLoad(side.url, { concurrency: level, turns, maxSeconds: CELL_WARMUP_SECONDS });
    const slices = new Map<SideKey, LoadResult[]>(sides.map((side) => [side.key, []]));
    const cpu = new Map<SideKey, number>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const side of sides) {
        const cpuBefore = processCpuMs(side.child.pid);
        const slice = await runLoad(side.url, {
          concurrency: level,
          turns: Math.max(level, Math.round(turns / ROUNDS)),
          maxSeconds: MAX_CELL_SECONDS / ROUNDS,
        });
        const cpuAfter = processCpuMs(side.child.pid);
        slices.get(side.key)?.push(slice);
        if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.set(side.key, (cpu.get(side.key) ?? 0) + cpuAfter - cpuBefore);
      }
    }
    for (const side of sides) {
      const result = combined(slices.get(side.key) ?? []);
      results.set(`${side.key}:${level}`, result);
      const cpuMs = cpu.get(side.key);
      if (cpuMs !== undefined && result.turns > 0) cpuPerTurn.set(`${side.key}:${level}`, (cpuMs * 1000) / result.turns);
    }
  }
} finally {
  for (const side of sides) await stopSide(side);
}

const cpuText = (microseconds: number | undefined): string => (microseconds === undefined ? "n/a" : `${microseconds.toFixed(0)} µs`);

const cores = availableParallelism();
console.log(
  `W1 over loopback SSE (one model call, 10 deltas), each side a process of its own, the load from another; ${cores} cores (${cpus()[0]?.model ?? "unknown CPU"}), load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(
      " ",
    )}, Node ${process.version}, ${BUILT ? "the built packages (dist)" : "the sources through tsx"}${QUICK ? "; LASH_BENCH_QUICK: a smoke run, not a measurement" : ""}`,
);
console.log("");
console.log(
  `${"sessions".padEnd(10)}${"side".padEnd(26)}${"turns".padStart(7)}${"turns/s".padStart(10)}${"vs bare".padStart(9)}${"p50".padStart(11)}${"p99".padStart(11)}${"CPU/turn".padStart(11)}`,
);
for (const level of LEVELS) {
  const bare = throughput(cell("bare", level));
  for (const side of SIDES) {
    const result = cell(side.key, level);
    if (result === undefined) continue;
    const rate = throughput(result);
    console.log(
      `${String(level).padEnd(10)}${side.name.padEnd(26)}${String(result.turns).padStart(7)}${rate.toFixed(0).padStart(10)}${`${(rate / bare).toFixed(2)}x`.padStart(9)}${milliseconds(percentile(result.latencies, 0.5)).padStart(11)}${milliseconds(percentile(result.latencies, 0.99)).padStart(11)}${cpuText(cpuPerTurn.get(`${side.key}:${level}`)).padStart(11)}`,
    );
  }
}

console.log("");
const memoryRatios = LEVELS.map((level) => throughput(cell("memory", level)) / throughput(cell("bare", level)));
const sqliteAtTen = throughput(cell("sqlite", 10));
const verdict = (met: boolean): string => (met ? "met" : "NOT met");
console.log(
  `goal: memory: at >= 0.5x the bare handler's throughput: ${LEVELS.map((level, index) => `${level}: ${(memoryRatios[index] ?? Number.NaN).toFixed(2)}x`).join(", ")} (${verdict(memoryRatios.every((ratio) => ratio >= 0.5))})`,
);
console.log(`goal: SQLite >= 1,000 turns/s at 10 sessions: ${sqliteAtTen.toFixed(0)} turns/s (${verdict(sqliteAtTen >= 1_000)})`);
console.log(
  `p99 at 100 sessions: bare ${milliseconds(percentile(cell("bare", 100)?.latencies ?? [], 0.99))}, memory: ${milliseconds(percentile(cell("memory", 100)?.latencies ?? [], 0.99))}, SQLite ${milliseconds(percentile(cell("sqlite", 100)?.latencies ?? [], 0.99))}`,
);
