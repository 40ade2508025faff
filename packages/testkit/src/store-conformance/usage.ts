import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import {
  expectCommitIdConflict,
  expectHeadRevisionConflict,
  expectInvalidArgument,
  ledgerOf,
  rejectionOf,
  sortedLedger,
} from "./expectations.js";
import { appendDelta, ledgerEntry, messageNode, sessionCommit, turnCommit, turnNodeIds, usage } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** The token ledger: merged per (source, model), one empty-usage rule, never counted twice. */
export const describeUsage: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("usage ledger", () => {
    const context = useBackend(harness);

    it("a session committed without usage has an empty ledger", async () => {
      const store = await context.open("s1");
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1" }));
      expect(await ledgerOf(store)).toEqual([]);
    });

    it("usage deltas are merged into one row per (source, model) across commits", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(100, 20, 30, 4) }));
      await store.commit(
        turnCommit({
          sessionId: "s1",
          turnKey: "t2",
          expectedHeadRevision: 1,
          parentNodeId: turnNodeIds("t1").answer,
          usage: usage(50, 10, 0, 1),
        }),
      );
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c3",
          expectedHeadRevision: 2,
          usageDeltas: [ledgerEntry("subagent", usage(7, 3)), ledgerEntry("turn", usage(1, 1, 1, 1))],
        }),
      );
      expect(await ledgerOf(store)).toEqual(
        sortedLedger([ledgerEntry("subagent", usage(7, 3)), ledgerEntry("turn", usage(151, 31, 31, 6))]),
      );
    });

    it("entries for the same (source, model) inside one commit are added up", async () => {
      const store = await context.open("s1");
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c1",
          usageDeltas: [
            ledgerEntry("child", usage(1, 2, 3, 4)),
            ledgerEntry("child", usage(10, 20, 30, 40)),
            ledgerEntry("child", usage(100, 0, 0, 0)),
          ],
        }),
      );
      expect(await ledgerOf(store)).toEqual([ledgerEntry("child", usage(111, 22, 33, 44))]);
    });

    it("the price table date recorded with usage survives the round trip and keeps rows of different dates apart", async () => {
      const store = await context.open("s1");
      const dated = (value: ReturnType<typeof usage>, date?: string) => ({
        ...ledgerEntry("turn", value),
        ...(date === undefined ? {} : { priceTableDate: date }),
      });
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c1",
          usageDeltas: [dated(usage(1, 0), "2025-10-01"), dated(usage(2, 0)), dated(usage(4, 0), "2026-06-01")],
        }),
      );
      await store.commit(
        sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, usageDeltas: [dated(usage(8, 0), "2025-10-01")] }),
      );
      expect(await ledgerOf(store)).toEqual([dated(usage(2, 0)), dated(usage(9, 0), "2025-10-01"), dated(usage(4, 0), "2026-06-01")]);
    });

    it("the same source with another model, and the same model with another source, are separate rows", async () => {
      const store = await context.open("s1");
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c1",
          usageDeltas: [
            ledgerEntry("turn", usage(1, 0), "model-a"),
            ledgerEntry("turn", usage(2, 0), "model-b"),
            ledgerEntry("helper", usage(4, 0), "model-a"),
            ledgerEntry("turn", usage(8, 0), "model-a"),
          ],
        }),
      );
      expect(await ledgerOf(store)).toEqual(
        sortedLedger([
          ledgerEntry("turn", usage(9, 0), "model-a"),
          ledgerEntry("turn", usage(2, 0), "model-b"),
          ledgerEntry("helper", usage(4, 0), "model-a"),
        ]),
      );
    });

    it("an entry is dropped only when all four counts are zero: cached-only, reasoning-only, input-only and output-only usage is kept", async () => {
      const store = await context.open("s1");
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c1",
          usageDeltas: [
            ledgerEntry("cached-only", usage(0, 0, 9, 0)),
            ledgerEntry("reasoning-only", usage(0, 0, 0, 3)),
            ledgerEntry("input-only", usage(5, 0, 0, 0)),
            ledgerEntry("output-only", usage(0, 6, 0, 0)),
            ledgerEntry("all-zero", usage(0, 0, 0, 0)),
          ],
        }),
      );
      expect(await ledgerOf(store)).toEqual(
        sortedLedger([
          ledgerEntry("cached-only", usage(0, 0, 9, 0)),
          ledgerEntry("reasoning-only", usage(0, 0, 0, 3)),
          ledgerEntry("input-only", usage(5, 0, 0, 0)),
          ledgerEntry("output-only", usage(0, 6, 0, 0)),
        ]),
      );
    });

    it("an all-zero entry creates no row, in a later commit as in the first, and leaves an existing row as it was", async () => {
      const store = await context.open("s1");
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", usageDeltas: [ledgerEntry("turn", usage(3, 2))] }));
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c2",
          expectedHeadRevision: 1,
          usageDeltas: [ledgerEntry("turn", usage(0, 0)), ledgerEntry("idle", usage(0, 0))],
        }),
      );
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(3, 2))]);
    });

    it("a replayed commit never counts its usage twice, through the same handle or another", async () => {
      const store = await context.open("s1");
      const other = await context.open("s1");
      const first = turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(10, 5, 2, 1) });
      await store.commit(first);
      await store.commit(first);
      await other.commit(structuredClone(first));
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1 }));
      await other.commit(first);
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(10, 5, 2, 1))]);
    });

    it("a rejected commit adds no usage (stale revision, reused commit id, invalid graph)", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(10, 5) }));
      const expensive = [ledgerEntry("turn", usage(1000, 1000, 1000, 1000))];
      expectHeadRevisionConflict(
        await rejectionOf(
          store.commit(sessionCommit({ sessionId: "s1", commitId: "stale", expectedHeadRevision: 0, usageDeltas: expensive })),
        ),
        "s1",
        0,
        1,
      );
      expectCommitIdConflict(
        await rejectionOf(
          store.commit(sessionCommit({ sessionId: "s1", commitId: "t1:final", expectedHeadRevision: 1, usageDeltas: expensive })),
        ),
        "s1",
        "t1:final",
      );
      expectInvalidArgument(
        await rejectionOf(
          store.commit(
            sessionCommit({
              sessionId: "s1",
              commitId: "bad-graph",
              expectedHeadRevision: 1,
              graph: appendDelta([messageNode(turnNodeIds("t1").user)]),
              usageDeltas: expensive,
            }),
          ),
        ),
      );
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(10, 5))]);
    });

    it("counts beyond 32 bits add up exactly", async () => {
      const store = await context.open("s1");
      const large = usage(3_000_000_000, 2_500_000_000, 4_000_000_000, 2_200_000_000);
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", usageDeltas: [ledgerEntry("turn", large)] }));
      await store.commit(
        sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, usageDeltas: [ledgerEntry("turn", large)] }),
      );
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(6_000_000_000, 5_000_000_000, 8_000_000_000, 4_400_000_000))]);
    });

    it("the ledger is the whole session's in both read scopes", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(4, 4) }));
      await store.commit(
        sessionCommit({
          sessionId: "s1",
          commitId: "c2",
          expectedHeadRevision: 1,
          graph: { type: "unchanged", leafNodeId: turnNodeIds("t1").user },
          usageDeltas: [ledgerEntry("turn", usage(1, 1))],
        }),
      );
      expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(5, 5))]);
      if (context.capabilities.activePathScope) {
        expect(sortedLedger((await store.loadSession({ type: "active_path" }))?.tokenLedger ?? [])).toEqual([
          ledgerEntry("turn", usage(5, 5)),
        ]);
      }
    });
  });
};
