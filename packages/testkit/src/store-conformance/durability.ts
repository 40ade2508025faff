import type { SessionHarnessArea } from "./area.js";
import type { ConformanceContext } from "./conformance-context.js";
import { SLOW_TEST_TIMEOUT_MS, useBackend } from "./conformance-context.js";
import { applied, expectCommitIdConflict, expectInvalidArgument, listAllSessions, observeSession, rejectionOf } from "./expectations.js";
import {
  appendDelta,
  childRelation,
  createRequest,
  ledgerEntry,
  messageNode,
  sessionCommit,
  sessionMeta,
  turnCommit,
  turnNodeIds,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

const t1 = turnNodeIds("t1");

/** Two sessions with everything a store keeps: meta, two turns, a branch, a tombstone, usage of two sources. */
async function populate(context: ConformanceContext): Promise<void> {
  const root = await context.open("root");
  await root.saveSessionMeta(sessionMeta("root", { cwd: "/work" }));
  await root.commit(turnCommit({ sessionId: "root", turnKey: "t1", usage: usage(100, 20, 30, 4) }));
  await root.commit(
    sessionCommit({
      sessionId: "root",
      commitId: "side",
      expectedHeadRevision: 1,
      graph: appendDelta([messageNode("side-1", { parentNodeId: t1.user }), messageNode("side-2", { parentNodeId: t1.user })], null),
      usageDeltas: [ledgerEntry("helper", usage(0, 0, 7, 0))],
    }),
  );
  await root.commit(turnCommit({ sessionId: "root", turnKey: "t2", expectedHeadRevision: 2, parentNodeId: t1.answer, turnIndex: 2 }));
  await root.tombstoneNodes(["side-2"]);
  const child = await context.backend().factory.createStore(createRequest("child", childRelation("root"), "child-model"));
  await child.commit(turnCommit({ sessionId: "child", turnKey: "c1", model: "child-model" }));
}

/** Data survives `backend.reopen()` (only for backends that declare `durable`). */
export const describeDurability: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("durability", () => {
    const context = useBackend(harness);

    if (!context.capabilities.durable) {
      it("durability is not declared (capabilities.durable is false): reopen() is never called, and every handle on the live backend sees the same data", async () => {
        await populate(context);
        const first = await observeSession(await context.open("root"), context.capabilities.activePathScope, ["side-1", "side-2"]);
        const second = await observeSession(await context.open("root"), context.capabilities.activePathScope, ["side-1", "side-2"]);
        expect(second).toEqual(first);
        expect(first.headRevision).toBe(3);
      });
      return;
    }

    it("a durable backend offers reopen()", () => {
      expect(
        typeof context.backend().reopen,
        `harness "${harness.name}" declares capabilities.durable, so its backend must implement reopen()`,
      ).toBe("function");
    });

    it(
      "after reopen every session reads back the same: both scopes, nodes, config, checkpoint, ledger, meta and listing",
      async () => {
        await populate(context);
        const probe = ["side-1", "side-2", t1.tool];
        const before = {
          root: await observeSession(await context.open("root"), context.capabilities.activePathScope, probe),
          child: await observeSession(await context.open("child"), context.capabilities.activePathScope, probe),
          listing: await listAllSessions(await context.open("root")),
        };
        await context.reopen();
        const after = {
          root: await observeSession(await context.open("root"), context.capabilities.activePathScope, probe),
          child: await observeSession(await context.open("child"), context.capabilities.activePathScope, probe),
          listing: await listAllSessions(await context.open("root")),
        };
        expect(after).toEqual(before);
        expect(after.root.nodes["side-2"]).toBeUndefined();
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "after reopen commit ids are still remembered (replay and conflict) and the next commit continues from the head revision",
      async () => {
        await populate(context);
        await context.reopen();
        const root = await context.open("root");
        const first = turnCommit({ sessionId: "root", turnKey: "t1", usage: usage(100, 20, 30, 4) });
        expect(await root.commit(first)).toEqual({ ...applied("t1:final", 1), replayed: true });
        expectCommitIdConflict(await rejectionOf(root.commit({ ...first, usageDeltas: [] })), "root", "t1:final");
        expect(await root.commit(sessionCommit({ sessionId: "root", commitId: "after-reopen", expectedHeadRevision: 3 }))).toEqual(
          applied("after-reopen", 4),
        );
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "after reopen a tombstoned id is still taken, vacuum still removes it, and gc still keeps the head's checkpoint",
      async () => {
        await populate(context);
        await context.reopen();
        const root = await context.open("root");
        expectInvalidArgument(
          await rejectionOf(
            root.commit(
              sessionCommit({
                sessionId: "root",
                commitId: "reuse",
                expectedHeadRevision: 3,
                graph: appendDelta([messageNode("side-2")], null),
              }),
            ),
          ),
        );
        const checkpointBefore = (await root.loadSession({ type: "full_graph" }))?.checkpoint;
        expect(await root.vacuum()).toEqual({ removedNodeCount: 1 });
        expect((await root.gcUnreachable()).rootCount).toBe(1);
        await context.reopen();
        const reopened = await context.open("root");
        expect((await reopened.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(checkpointBefore);
        expect(
          await reopened.commit(
            sessionCommit({
              sessionId: "root",
              commitId: "reuse",
              expectedHeadRevision: 3,
              graph: appendDelta([messageNode("side-2")], null),
            }),
          ),
        ).toEqual(applied("reuse", 4));
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "after reopen a deleted session stays deleted and the others stay",
      async () => {
        await populate(context);
        await (await context.open("child")).deleteSession();
        await context.reopen();
        expect(await (await context.open("child")).loadSession({ type: "full_graph" })).toBeUndefined();
        expect(await (await context.open("child")).loadSessionMeta()).toBeUndefined();
        expect((await listAllSessions(await context.open("root"))).map((summary) => summary.sessionId)).toEqual(["root"]);
      },
      SLOW_TEST_TIMEOUT_MS,
    );
  });
};
