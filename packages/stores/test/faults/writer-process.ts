import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import type { FaultBackendKind } from "./fault-backends.js";

const writerSource = fileURLToPath(new URL("./crash-writer.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let bundled: Promise<string> | undefined;

/**
 * The writer bundled into one file (drivers stay external): a writer process starts once per kill,
 * and loading hundreds of TypeScript and library files through a transpiler would dominate the run.
 */
function writerBundle(): Promise<string> {
  bundled ??= bundleForChildProcess({ entry: writerSource, packageRoot, external: ["better-sqlite3", "pg", "pg-native"] });
  return bundled;
}

/** A running crash-writer child and what it has reported so far. */
export interface WriterProcess {
  readonly child: ChildProcess;
  /** Revisions the child reported as committed, in order. */
  readonly committed: number[];
  /** Resolves when the child has reported `count` commits (or exited). */
  waitForCommits(count: number): Promise<void>;
  /** Resolves with the exit code (null when killed) and what it printed on stderr. */
  readonly exited: Promise<{ code: number | null; stderr: string; conflicts: number }>;
}

/** Starts a crash-writer child committing turns to `sessionId` (forever, or `turns` times). */
export async function startWriter(
  kind: FaultBackendKind,
  location: string,
  sessionId: string,
  writer: string,
  turns?: number,
): Promise<WriterProcess> {
  const args = [await writerBundle(), kind, location, sessionId, writer];
  if (turns !== undefined) args.push(String(turns));
  const child = spawn(process.execPath, args, { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"], env: process.env });
  const committed: number[] = [];
  let conflicts = 0;
  let stderr = "";
  let buffered = "";
  const waiters: { count: number; resolve: () => void }[] = [];
  const settleWaiters = (all: boolean): void => {
    for (const waiter of [...waiters]) {
      if (all || committed.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const [word, value] = line.split(" ");
      if (word === "committed") committed.push(Number(value));
      if (word === "conflicts") conflicts = Number(value);
    }
    settleWaiters(false);
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit").then(([code]) => {
    settleWaiters(true);
    return { code: code as number | null, stderr, conflicts };
  });
  return {
    child,
    committed,
    exited,
    waitForCommits: (count) =>
      committed.length >= count || child.exitCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}
