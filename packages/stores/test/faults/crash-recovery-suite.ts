import { mergeTokenLedger } from "@lash/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { type FaultLocation, faultSkipReason, prepareFaultLocation } from "./fault-locations.js";
import { NODES_PER_TURN, TURN_USAGE } from "./turn-commits.js";
import { startWriter } from "./writer-process.js";

const KILLS = 20;
const SESSION_ID = "crash-session";

/** Resolves after `milliseconds`: lets the writer get into the middle of a commit before the kill. */
function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * A writer process commits turns in a loop and is killed with SIGKILL at random moments; after each
 * kill the store must open at a complete turn. One test file per backend, so they run in parallel.
 */
export async function describeCrashRecovery(kind: FaultBackendKind): Promise<void> {
  const skipReason = await faultSkipReason(kind);
  describe(`a writer killed with SIGKILL (${kind})`, () => {
    let location: FaultLocation | undefined;

    beforeAll(async () => {
      if (skipReason === undefined) location = await prepareFaultLocation(kind);
    });
    afterAll(async () => {
      await location?.cleanup();
    });

    it.skipIf(skipReason !== undefined)(
      `leaves a complete head after each of ${KILLS} kills${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`,
      { timeout: 300_000 },
      async () => {
        if (!location) throw new Error("no location");
        let lastReported = 0;
        for (let kill = 0; kill < KILLS; kill += 1) {
          const writer = await startWriter(kind, location.location, SESSION_ID, "w");
          // Let it land one to four commits, then kill it at a random moment, usually mid-commit.
          await writer.waitForCommits(1 + (kill % 4));
          await pause(kill % 7);
          writer.child.kill("SIGKILL");
          const exit = await writer.exited;
          expect(exit.stderr).toBe("");
          lastReported = Math.max(lastReported, ...writer.committed);

          const backend = await openFaultBackend(kind, location.location);
          try {
            const store = await backend.openSession(SESSION_ID);
            const read = await store.loadSession({ type: "full_graph" });
            if (!read) throw new Error(`kill ${kill}: the session has no head`);
            const revision = read.headRevision;
            // Every commit the writer saw return is there; at most the one in flight landed too.
            expect(revision).toBeGreaterThanOrEqual(lastReported);
            expect(revision).toBeLessThanOrEqual(lastReported + 1);
            lastReported = revision;
            // The head is a complete turn: all nodes of every committed turn, nothing half-written.
            expect(read.graph.nodes).toHaveLength(revision * NODES_PER_TURN);
            expect(read.graph.leafNodeId).toBe(`w-t${revision}-answer`);
            expect(read.checkpoint?.turnState.turnIndex).toBe(revision);
            const activePath = await store.loadSession({ type: "active_path" });
            expect(activePath?.graph.nodes).toHaveLength(revision * NODES_PER_TURN);
            // The ledger is the sum of the committed turns, each counted once.
            const expectedUsage = Array.from({ length: revision }, () => ({ source: "turn", model: "scripted-model", usage: TURN_USAGE }));
            expect(read.tokenLedger).toEqual(mergeTokenLedger([], expectedUsage));
          } finally {
            await backend.close();
          }
        }
        expect(lastReported).toBeGreaterThanOrEqual(KILLS);
      },
    );
  });
}
