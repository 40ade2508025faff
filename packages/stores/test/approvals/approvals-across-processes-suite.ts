import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApprovalRequest, TokenUsage, TurnOutcome } from "@lash/protocol";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBackendKind, openFaultBackend } from "../faults/fault-backends.js";
import { type FaultLocation, faultSkipReason, prepareFaultLocation } from "../faults/fault-locations.js";
import { APPROVAL_CALL_USAGE } from "./approval-usage.js";

const processSource = fileURLToPath(new URL("./approval-process.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

let bundled: Promise<string> | undefined;
function processBundle(): Promise<string> {
  bundled ??= bundleForChildProcess({ entry: processSource, packageRoot, external: ["better-sqlite3", "pg", "pg-native"] });
  return bundled;
}

interface ProcessReport {
  readonly outcome?: TurnOutcome;
  readonly text?: string;
  readonly toolCalls?: { callId?: string; status: string; approval?: { decision: string; decidedBy?: string; source: string } }[];
  readonly error?: string;
  readonly message?: string;
}

/** Runs one step in a fresh Node process and returns its report (the process has exited). */
async function step(
  kind: FaultBackendKind,
  location: string,
  sessionId: string,
  marker: string,
  args: readonly string[],
): Promise<ProcessReport> {
  const child = spawn(process.execPath, [await processBundle(), kind, location, sessionId, marker, ...args], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0 || stderr !== "") throw new Error(`approval process exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim()) as ProcessReport;
}

function approvalsOf(report: ProcessReport): ApprovalRequest[] {
  const outcome = report.outcome;
  if (outcome?.type !== "stopped" || outcome.stop.type !== "awaiting_approval")
    throw new Error(`not awaiting approval: ${JSON.stringify(report)}`);
  return outcome.stop.approvals;
}

async function written(marker: string): Promise<string[]> {
  try {
    return (await readFile(marker, "utf8")).split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

function times(count: number, usage: TokenUsage): TokenUsage {
  return {
    inputTokens: usage.inputTokens * count,
    outputTokens: usage.outputTokens * count,
    cachedInputTokens: usage.cachedInputTokens * count,
    reasoningTokens: usage.reasoningTokens * count,
  };
}

/** The session's stored ledger (turn usage) and tool call records, read by a fresh connection. */
async function stored(kind: FaultBackendKind, location: string, sessionId: string) {
  const backend = await openFaultBackend(kind, location);
  try {
    const read = await (await backend.openSession(sessionId)).loadSession({ type: "full_graph" });
    if (!read) throw new Error(`session ${sessionId} has no head`);
    const records = read.graph.nodes.flatMap((node) => (node.payload.kind === "tool_invocation" ? [node.payload.record] : []));
    return { ledger: read.tokenLedger.find((entry) => entry.source === "turn")?.usage, records, checkpoint: read.checkpoint };
  } finally {
    await backend.close();
  }
}

/**
 * A turn suspends for approval in one process, which exits; other processes decide and finish the
 * same turn, race to decide it, or find it expired. Real stores, real processes.
 */
export async function describeApprovalsAcrossProcesses(kind: FaultBackendKind): Promise<void> {
  const skipReason = await faultSkipReason(kind);
  const skipped = skipReason === undefined ? "" : ` (skipped: ${skipReason})`;
  describe(`approvals across processes (${kind})`, () => {
    let location: FaultLocation | undefined;
    // Marker files live in a folder of this run's own: a name built from the process id alone
    // collides with a file an earlier run left behind once process ids wrap around.
    let markers = "";
    beforeAll(async () => {
      markers = await mkdtemp(join(tmpdir(), `lash-approvals-${kind}-`));
      if (skipReason === undefined) location = await prepareFaultLocation(kind);
    });
    afterAll(async () => {
      await location?.cleanup();
      await rm(markers, { recursive: true, force: true });
    });
    const marker = (name: string) => join(markers, `${name}.log`);

    it.skipIf(skipReason !== undefined)(
      `a new process approves one call and rejects another; the ledger counts each model call once${skipped}`,
      { timeout: 120_000 },
      async () => {
        if (!location) throw new Error("no location");
        const file = marker("decide");
        const suspended = await step(kind, location.location, "decide", file, ["suspend"]);
        const [requestA, requestB] = approvalsOf(suspended);
        expect([requestA?.callId, requestB?.callId]).toEqual(["call-a", "call-b"]);
        expect(suspended.toolCalls?.map((call) => call.callId)).toEqual(["call-read"]);
        expect((await stored(kind, location.location, "decide")).ledger).toEqual(APPROVAL_CALL_USAGE);

        const decisions = [
          { id: requestA?.id, decision: "approve" },
          { id: requestB?.id, decision: "reject", reason: "b.txt is generated" },
        ];
        const finished = await step(kind, location.location, "decide", file, ["decide", JSON.stringify(decisions), "cli:alice"]);
        expect(finished.outcome).toMatchObject({ type: "finished" });
        expect(finished.text).toBe(
          "Results: contents of notes.md | wrote a.txt | [Tool execution failed]\nThe user rejected this call: b.txt is generated",
        );
        expect(finished.toolCalls?.map((call) => [call.callId, call.approval?.decision, call.approval?.decidedBy])).toEqual([
          ["call-a", "approved", "cli:alice"],
          ["call-b", "rejected", "cli:alice"],
        ]);
        expect(await written(file)).toEqual(["a.txt"]);
        const after = await stored(kind, location.location, "decide");
        expect(after.ledger).toEqual(times(2, APPROVAL_CALL_USAGE));
        expect(after.records.map((record) => record.callId)).toEqual(["call-read", "call-a", "call-b"]);
        expect(after.checkpoint?.turnState.suspendedTurn).toBeUndefined();
        expect(after.checkpoint?.turnState.turnIndex).toBe(1);
      },
    );

    it.skipIf(skipReason !== undefined)(
      `two racing decider processes: one continues the turn, the other is refused, each call runs once${skipped}`,
      { timeout: 120_000 },
      async () => {
        if (!location) throw new Error("no location");
        const file = marker("race");
        const approvals = approvalsOf(await step(kind, location.location, "race", file, ["suspend"]));
        const approveAll = JSON.stringify(approvals.map((request) => ({ id: request.id, decision: "approve" })));
        const reports = await Promise.all([
          step(kind, location.location, "race", file, ["decide", approveAll, "left"]),
          step(kind, location.location, "race", file, ["decide", approveAll, "right"]),
        ]);
        const winners = reports.filter((report) => report.outcome?.type === "finished");
        const losers = reports.filter((report) => report.error !== undefined);
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect(["approval_conflict", "approval_already_decided"]).toContain(losers[0]?.error);
        expect((await written(file)).sort()).toEqual(["a.txt", "b.txt"]);
        expect((await stored(kind, location.location, "race")).ledger).toEqual(times(2, APPROVAL_CALL_USAGE));
      },
    );

    it.skipIf(skipReason !== undefined)(
      `a later process finds the requests expired and finishes the turn with them rejected${skipped}`,
      { timeout: 120_000 },
      async () => {
        if (!location) throw new Error("no location");
        const file = marker("expiry");
        approvalsOf(await step(kind, location.location, "expiry", file, ["suspend", "1"]));
        // The requests expired one millisecond after they were made: any later process sees it.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const finished = await step(kind, location.location, "expiry", file, ["decide", "[]", "sweeper"]);
        expect(finished.outcome).toMatchObject({ type: "finished" });
        expect(finished.toolCalls?.map((call) => call.approval?.source)).toEqual(["expiry", "expiry"]);
        expect(await written(file)).toEqual([]);
        expect((await stored(kind, location.location, "expiry")).ledger).toEqual(times(2, APPROVAL_CALL_USAGE));
      },
    );
  });
}
