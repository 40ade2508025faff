import { mergeTokenLedger } from "@lash/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { type FaultLocation, faultSkipReason, prepareFaultLocation } from "./fault-locations.js";
import { NODES_PER_TURN, TURN_USAGE } from "./turn-commits.js";
import { startWriter } from "./writer-process.js";

const TURNS_PER_WRITER = 25;
const SESSION_ID = "shared-session";

const kinds: FaultBackendKind[] = ["sqlite", "fs", "postgres"];
const cases = await Promise.all(kinds.map(async (kind) => ({ kind, skipReason: await faultSkipReason(kind) })));

describe.each(cases)("two writer processes on one session ($kind)", ({ kind, skipReason }) => {
  let location: FaultLocation | undefined;

  beforeAll(async () => {
    if (skipReason === undefined) location = await prepareFaultLocation(kind);
  });
  afterAll(async () => {
    await location?.cleanup();
  });

  it.skipIf(skipReason !== undefined)(
    `land every turn once or get a conflict, and lose no update${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`,
    { timeout: 300_000 },
    async () => {
      if (!location) throw new Error("no location");
      const writers = await Promise.all(
        ["a", "b"].map((name) => startWriter(kind, location?.location ?? "", SESSION_ID, name, TURNS_PER_WRITER)),
      );
      const exits = await Promise.all(writers.map((writer) => writer.exited));
      // A writer fails on anything but a head revision conflict (which it rebases over).
      for (const exit of exits) {
        expect(exit.stderr).toBe("");
        expect(exit.code).toBe(0);
      }
      const landed = writers.flatMap((writer) => writer.committed);
      // Every revision was given to exactly one commit.
      expect([...landed].sort((left, right) => left - right)).toEqual(
        Array.from({ length: 2 * TURNS_PER_WRITER }, (_, index) => index + 1),
      );

      const backend = await openFaultBackend(kind, location.location);
      try {
        const read = await (await backend.openSession(SESSION_ID)).loadSession({ type: "full_graph" });
        expect(read?.headRevision).toBe(2 * TURNS_PER_WRITER);
        expect(read?.graph.nodes).toHaveLength(2 * TURNS_PER_WRITER * NODES_PER_TURN);
        // Each writer's every turn is there once (its answers are `<writer>-t<turn>-answer`).
        for (const name of ["a", "b"]) {
          const answers = (read?.graph.nodes ?? []).filter((node) => new RegExp(`^${name}-t\\d+-answer$`).test(node.nodeId));
          expect(answers).toHaveLength(TURNS_PER_WRITER);
        }
        // The rebased commits form one chain: the active path holds every node.
        const activePath = await (await backend.openSession(SESSION_ID)).loadSession({ type: "active_path" });
        expect(activePath?.graph.nodes).toHaveLength(2 * TURNS_PER_WRITER * NODES_PER_TURN);
        const expectedUsage = Array.from({ length: 2 * TURNS_PER_WRITER }, () => ({
          source: "turn",
          model: "scripted-model",
          usage: TURN_USAGE,
        }));
        expect(read?.tokenLedger).toEqual(mergeTokenLedger([], expectedUsage));
      } finally {
        await backend.close();
      }
    },
  );
});
