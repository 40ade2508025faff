import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { bundleForChildProcess } from "@lash/test-infrastructure/child-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultLocation, prepareFaultLocation } from "../faults/fault-locations.js";
import type { CompactionReport } from "./compaction-process.js";

const processSource = fileURLToPath(new URL("./compaction-process.ts", import.meta.url));
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Runs one step in a fresh Node process and returns its report (the process has exited). */
async function step(location: string, ...args: string[]): Promise<CompactionReport> {
  const bundle = await bundleForChildProcess({ entry: processSource, packageRoot, external: ["better-sqlite3", "pg", "pg-native"] });
  const child = spawn(process.execPath, [bundle, "sqlite", location, "facts", ...args], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0 || stderr !== "") throw new Error(`compaction process exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim()) as CompactionReport;
}

/**
 * A turn that overflowed, compacted and was retried in one process; another process, with a fresh
 * runtime on the same SQLite file, reads the summary back as the start of the active path, the
 * summarized message as a historic node, the compaction's usage in the ledger, and sends the
 * summary in its next prompt. Real SQLite, real processes, the model scripted.
 */
describe("a compaction summary across a process restart (sqlite)", () => {
  let location: FaultLocation | undefined;
  beforeAll(async () => {
    location = await prepareFaultLocation("sqlite");
  });
  afterAll(async () => {
    await location?.cleanup();
  });

  it("survives the restart and is what the next prompt starts from", { timeout: 120_000 }, async () => {
    if (!location) throw new Error("no location");
    const first = await step(location.location, "first");
    expect(first.outcome).toBe("finished");
    expect(first.activeStartsWithSummary).toBe(true);
    expect(first.compactionUsage).toEqual({ inputTokens: 200, outputTokens: 9 });

    const next = await step(location.location, "next", first.firstUserMessageId ?? "");
    expect(next.activeStartsWithSummary).toBe(true);
    expect(next.active).toEqual(first.active);
    expect(next.active[0]).toContain("The user's colour is blue.");
    expect(next.historicFirstUser).toBe("My colour is blue.");
    expect(next.compactionUsage).toEqual({ inputTokens: 200, outputTokens: 9 });
    expect(next.outcome).toBe("finished");
    expect(next.lastRequest.some((text) => text.includes("The user's colour is blue."))).toBe(true);
    expect(next.lastRequest).not.toContain("My colour is blue.");
    expect(next.lastRequest).toContain("Where do I live?");
  });
});
