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
