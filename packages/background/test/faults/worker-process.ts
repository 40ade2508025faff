import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";

const workerSource = fileURLToPath(new URL("./task-worker.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let bundled: Promise<string> | undefined;

/**
 * The worker bundled into one file (drivers stay external), so a worker process starts quickly
 * instead of transpiling the workspace's TypeScript at every start.
 */
function workerBundle(): Promise<string> {
  bundled ??= bundleForChildProcess({ entry: workerSource, packageRoot, external: ["pg", "pg-native", "pg-boss"] });
  return bundled;
}

/** What a worker child printed, parsed. */
export interface WorkerLine {
  readonly word: string;
  readonly values: readonly string[];
}

/** A running task-worker child and what it has reported so far. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Every line it printed, in order. */
  readonly lines: WorkerLine[];
  /** Resolves once `predicate(lines)` holds (or rejects when the child exits first). */
  until(predicate: (lines: readonly WorkerLine[]) => boolean): Promise<void>;
  /** Resolves with the exit code (null when killed) and what it printed on stderr. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Kills the child with SIGKILL and waits for it to be gone. */
  kill(): Promise<void>;
}

/** Starts a task-worker child (`mode` as in `task-worker.ts`) and waits until its host is open. */
export async function startTaskWorker(
  connectionString: string,
  schema: string,
  bossSchema: string,
  mode: "hang" | "complete" | "spawn",
  concurrency = 4,
  spawnId?: string,
): Promise<WorkerProcess> {
  const args = [
    await workerBundle(),
    connectionString,
    schema,
    bossSchema,
    mode,
    String(concurrency),
    ...(spawnId === undefined ? [] : [spawnId]),
  ];
  const child = spawn(process.execPath, args, { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"], env: process.env });
  const lines: WorkerLine[] = [];
  let stderr = "";
  let buffered = "";
  let gone = false;
  const waiters: { predicate: (lines: readonly WorkerLine[]) => boolean; resolve: () => void; reject: (error: Error) => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(lines)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      } else if (gone) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.reject(new Error(`the worker exited before the expected output; stderr: ${stderr}`));
      }
    }
  };
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) {
      const [word = "", ...values] = part.split(" ");
      lines.push({ word, values });
    }
    check();
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit").then(([code, signal]) => {
    gone = true;
    check();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stderr };
  });
  const worker: WorkerProcess = {
    child,
    lines,
    exited,
    until: (predicate) =>
      predicate(lines)
        ? Promise.resolve()
        : gone
          ? Promise.reject(new Error(`the worker already exited; stderr: ${stderr}`))
          : new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject })),
    kill: async () => {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
  };
  await worker.until((seen) => seen.some((line) => line.word === "ready"));
  return worker;
}
