import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { SessionGraph } from "@lash/protocol";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { type FaultLocation, faultSkipReason, prepareFaultLocation } from "./fault-locations.js";
import { CALL_USAGE } from "./runtime-turns.js";

const KILLS = 16;
const SESSION_ID = "runtime-crash";
const writerSource = fileURLToPath(new URL("./runtime-turn-writer.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let bundled: Promise<string> | undefined;
function writerBundle(): Promise<string> {
  bundled ??= bundleForChildProcess({ entry: writerSource, packageRoot, external: ["better-sqlite3", "pg", "pg-native"] });
  return bundled;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

interface RuntimeWriter {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr(): string;
}

/** Starts a writer and resolves once it has finished `turns` turns (or exited). */
async function startRuntimeWriter(kind: FaultBackendKind, location: string, turns: number): Promise<RuntimeWriter> {
  const child = spawn(process.execPath, [await writerBundle(), kind, location, SESSION_ID], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  const exited = once(child, "exit").then(() => undefined);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  let seen = 0;
  await Promise.race([
    exited,
    new Promise<void>((resolve) => {
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        seen += chunk.split("\n").filter((line) => line.startsWith("turn ")).length;
        if (seen >= turns) resolve();
      });
    }),
  ]);
  return { child, exited, stderr: () => stderr };
}

/** The model calls whose output the stored graph holds: one assistant message per call. */
function storedModelOutputs(graph: SessionGraph): number {
  return graph.nodes.filter((node) => node.payload.kind === "message" && node.payload.message.role === "assistant").length;
}

/**
 * Runtime turns (model call, tool, model call) on a real store, killed with SIGKILL at random
 * moments: after every kill, each model output the store holds has its usage in the ledger, counted
 * once, so no stored answer lacks its tokens.
 */
export async function describeRuntimeKills(kind: FaultBackendKind): Promise<void> {
  const skipReason = await faultSkipReason(kind);
  describe(`runtime turns killed with SIGKILL (${kind})`, () => {
    let location: FaultLocation | undefined;
    beforeAll(async () => {
      if (skipReason === undefined) location = await prepareFaultLocation(kind);
    });
    afterAll(async () => {
      await location?.cleanup();
    });

    it.skipIf(skipReason !== undefined)(
      `no stored answer lacks its usage after any of ${KILLS} kills${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`,
      { timeout: 300_000 },
      async () => {
        if (!location) throw new Error("no location");
        let answersSeen = 0;
        for (let kill = 0; kill < KILLS; kill += 1) {
          const writer = await startRuntimeWriter(kind, location.location, 1 + (kill % 3));
          // Into the next turn, at a random moment: between its commits, usually.
          await pause(kill % 5);
          writer.child.kill("SIGKILL");
          await writer.exited;
          expect(writer.stderr()).toBe("");

          const backend = await openFaultBackend(kind, location.location);
          try {
            const read = await (await backend.openSession(SESSION_ID)).loadSession({ type: "full_graph" });
            if (!read) throw new Error(`kill ${kill}: the session has no head`);
            const outputs = storedModelOutputs(read.graph);
            const ledger = read.tokenLedger.find((entry) => entry.source === "turn");
            // Usage goes with the commit that stores the output it paid for: exactly one call's
            // usage per stored output, never less (a lost usage) and never more (a double count).
            expect(ledger?.usage.inputTokens ?? 0).toBe(outputs * CALL_USAGE.inputTokens);
            expect(ledger?.usage.outputTokens ?? 0).toBe(outputs * CALL_USAGE.outputTokens);
            answersSeen = Math.max(answersSeen, outputs);
          } finally {
            await backend.close();
          }
        }
        expect(answersSeen).toBeGreaterThan(KILLS);
      },
    );
  });
}

const CHECKPOINT_KILLS = 8;
const CHECKPOINT_SESSION_ID = "checkpoint-crash";

/** The questions (`question <n>`) the stored graph holds: one per turn whose prepared commit landed. */
function storedQuestions(graph: SessionGraph): number {
  return graph.nodes.filter(
    (node) =>
      node.payload.kind === "message" &&
      node.payload.message.role === "user" &&
      node.payload.message.parts.some((part) => part.kind === "text" && part.content.startsWith("question ")),
  ).length;
}

/** What a writer paused in a model call printed before it was killed. */
interface PausedWriterReport {
  readonly turns: number;
  readonly commits: readonly { readonly commitId: string; readonly headRevision: number }[];
  readonly stderr: string;
}

/** Runs a writer that pauses in `pauseAt` after `turnsBeforePause` turns, kills it once paused, and reports. */
async function killPausedWriter(
  kind: FaultBackendKind,
  location: string,
  pauseAt: "tool-call" | "answer",
  turnsBeforePause: number,
): Promise<PausedWriterReport> {
  const child = spawn(process.execPath, [await writerBundle(), kind, location, CHECKPOINT_SESSION_ID, pauseAt, String(turnsBeforePause)], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  const exited = once(child, "exit");
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  child.stdout?.setEncoding("utf8");
  await Promise.race([
    exited,
    new Promise<void>((resolve) => {
      child.stdout?.on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.split("\n").includes("paused")) resolve();
      });
    }),
  ]);
  child.kill("SIGKILL");
  await exited;
  const lines = stdout.split("\n");
  const commits = lines.flatMap((line) => {
    const match = /^commit (\S+) (\d+)$/.exec(line);
    return match?.[1] === undefined ? [] : [{ commitId: match[1], headRevision: Number(match[2]) }];
  });
  return { turns: lines.filter((line) => line.startsWith("turn ")).length, commits, stderr };
}

/**
 * Runtime turns killed with SIGKILL in the middle, after their checkpoint commits (ADR 0030: written
 * without waiting for the disk) and before their final commit: the model call that would come next
 * never returns. After every kill the store holds exactly what the writer saw committed, the turn
 * counter counts only finished turns, and every stored model output has its usage, once.
 */
export async function describeCheckpointKills(kind: FaultBackendKind): Promise<void> {
  const skipReason = await faultSkipReason(kind);
  describe(`runtime turns killed between their checkpoints and their final commit (${kind})`, () => {
    let location: FaultLocation | undefined;
    beforeAll(async () => {
      if (skipReason === undefined) location = await prepareFaultLocation(kind);
    });
    afterAll(async () => {
      await location?.cleanup();
    });

    it.skipIf(skipReason !== undefined)(
      `every checkpoint a killed turn committed survives, and no unfinished turn is counted, after each of ${CHECKPOINT_KILLS} kills${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`,
      { timeout: 300_000 },
      async () => {
        if (!location) throw new Error("no location");
        let finishedTurns = 0;
        let killedTurns = 0;
        for (let kill = 0; kill < CHECKPOINT_KILLS; kill += 1) {
          // After the prepared commit (in the first model call), or after the tool results' progress
          // commit (in the answering call).
          const pauseAt = kill % 2 === 0 ? "answer" : "tool-call";
          const report = await killPausedWriter(kind, location.location, pauseAt, kill % 3);
          expect(report.stderr).toBe("");
          finishedTurns += report.turns;
          killedTurns += 1;
          const last = report.commits.at(-1);
          expect(last?.commitId.endsWith(pauseAt === "answer" ? ":progress:1" : ":prepared")).toBe(true);

          const backend = await openFaultBackend(kind, location.location);
          try {
            const read = await (await backend.openSession(CHECKPOINT_SESSION_ID)).loadSession({ type: "full_graph" });
            if (!read) throw new Error(`kill ${kill}: the session has no head`);
            // The checkpoint the writer saw land is the head: it survived the kill, nothing came after.
            expect(read.headRevision).toBe(last?.headRevision);
            expect(read.checkpoint?.turnState.turnIndex).toBe(finishedTurns);
            expect(storedQuestions(read.graph)).toBe(finishedTurns + killedTurns);
            const outputs = storedModelOutputs(read.graph);
            const ledger = read.tokenLedger.find((entry) => entry.source === "turn");
            expect(ledger?.usage.inputTokens ?? 0).toBe(outputs * CALL_USAGE.inputTokens);
            expect(ledger?.usage.outputTokens ?? 0).toBe(outputs * CALL_USAGE.outputTokens);
          } finally {
            await backend.close();
          }
        }
        expect(finishedTurns).toBeGreaterThan(0);
      },
    );
  });
}
