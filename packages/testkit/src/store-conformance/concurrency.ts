import type { SessionCommit, SessionCommitResult, SessionStore } from "@lash/protocol";
import { HeadRevisionConflictError } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { SLOW_TEST_TIMEOUT_MS, useBackend } from "./conformance-context.js";
import { applied, describeError, expectHeadRevisionConflict, headRevisionOf, ledgerOf, nodeIdsOf, observeSession } from "./expectations.js";
import { appendDelta, ledgerEntry, messageNode, sessionCommit, turnCommit, turnNodeIds, usage } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** How many writers race in the many-writers tests. */
const WRITER_COUNT = 8;

/**
 * Commits `build(revision)` against the current head revision, reloading and retrying after each
 * HeadRevisionConflictError (what a runtime does after another writer moved the head). The commit id
 * stays the same across attempts: a rejected commit leaves its id unused.
 */
async function commitWithRetry(
  store: SessionStore,
  build: (expectedHeadRevision: number | undefined) => SessionCommit,
  maxAttempts = 200,
): Promise<SessionCommitResult> {
  let lastConflict: unknown;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const revision = await headRevisionOf(store);
    try {
      return await store.commit(build(revision));
    } catch (error) {
      if (!HeadRevisionConflictError.isInstance(error)) throw error;
      lastConflict = error;
    }
  }
  throw new Error(`no commit landed after ${maxAttempts} attempts; last conflict: ${describeError(lastConflict)}`);
}

/** Several handles writing one session at once: compare-and-set admits one writer per revision. */
export const describeConcurrency: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("concurrent writers", () => {
    const context = useBackend(harness);

    it("two handles commit with the same expected revision at once: exactly one lands, the other throws HeadRevisionConflictError { expected, actual } and wrote nothing", async () => {
      const setup = await context.open("s1");
      await setup.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const [left, right] = [await context.open("s1"), await context.open("s1")];
      const leftCommit = sessionCommit({
        sessionId: "s1",
        commitId: "left",
        expectedHeadRevision: 1,
        graph: appendDelta([messageNode("left-node", { parentNodeId: turnNodeIds("t1").answer })]),
        usageDeltas: [ledgerEntry("left", usage(1, 1))],
      });
      const rightCommit = sessionCommit({
        sessionId: "s1",
        commitId: "right",
        expectedHeadRevision: 1,
        graph: appendDelta([messageNode("right-node", { parentNodeId: turnNodeIds("t1").answer })]),
        usageDeltas: [ledgerEntry("right", usage(2, 2))],
      });
      const outcomes = await Promise.allSettled([left.commit(leftCommit), right.commit(rightCommit)]);
      const landed = outcomes.filter((outcome) => outcome.status === "fulfilled");
      const refused = outcomes.filter((outcome) => outcome.status === "rejected");
      expect(landed).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expectHeadRevisionConflict(refused[0]?.reason, "s1", 1, 2);
      const winner = outcomes[0]?.status === "fulfilled" ? "left" : "right";
      const loser = winner === "left" ? "right" : "left";
      expect(landed[0]?.value).toEqual(applied(winner, 2));
      const read = await setup.loadSession({ type: "full_graph" });
      expect(read?.headRevision).toBe(2);
      expect(read?.graph.leafNodeId).toBe(`${winner}-node`);
      expect(await setup.loadNode(`${loser}-node`)).toBeUndefined();
      // Both "left" and "right" sort before "turn" in the (sorted) ledger.
      expect((await ledgerOf(setup))?.map((entry) => entry.source)).toEqual([winner, "turn"]);
    });

    it("two handles make the first commit of a session at once: one lands at revision 1, the other throws HeadRevisionConflictError { expected: undefined, actual: 1 }", async () => {
      const [left, right] = [await context.open("s1"), await context.open("s1")];
      const outcomes = await Promise.allSettled([
        left.commit(turnCommit({ sessionId: "s1", turnKey: "left" })),
        right.commit(turnCommit({ sessionId: "s1", turnKey: "right" })),
      ]);
      const landed = outcomes.filter((outcome) => outcome.status === "fulfilled");
      const refused = outcomes.filter((outcome) => outcome.status === "rejected");
      expect(landed).toHaveLength(1);
      expect(landed[0]?.value.headRevision).toBe(1);
      expect(refused).toHaveLength(1);
      expectHeadRevisionConflict(refused[0]?.reason, "s1", undefined, 1);
      expect((await left.loadSession({ type: "full_graph" }))?.graph.nodes).toHaveLength(4);
    });

    it("the same commit sent twice at once through two handles is applied once: one result is applied, the other replayed, usage counted once", async () => {
      const [left, right] = [await context.open("s1"), await context.open("s1")];
      const commit = turnCommit({ sessionId: "s1", turnKey: "t1", usage: usage(10, 1) });
      const results = await Promise.all([left.commit(commit), right.commit(structuredClone(commit))]);
      expect(results.map((result) => result.headRevision)).toEqual([1, 1]);
      expect(results.filter((result) => result.replayed)).toHaveLength(1);
      expect(await ledgerOf(left)).toEqual([ledgerEntry("turn", usage(10, 1))]);
      expect(await headRevisionOf(right)).toBe(1);
    });

    it(
      `${WRITER_COUNT} writers with distinct commit ids, each retrying against the current revision: revisions stay gapless and no node or usage is lost`,
      async () => {
        const setup = await context.open("s1");
        await setup.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
        const handles = await Promise.all(Array.from({ length: WRITER_COUNT }, async () => context.open("s1")));
        const results = await Promise.all(
          handles.map(async (store, writer) =>
            commitWithRetry(store, (expectedHeadRevision) =>
              sessionCommit({
                sessionId: "s1",
                commitId: `writer-${writer}`,
                ...(expectedHeadRevision === undefined ? {} : { expectedHeadRevision }),
                graph: appendDelta([messageNode(`writer-${writer}`, { parentNodeId: turnNodeIds("t1").answer })]),
                usageDeltas: [ledgerEntry("writer", usage(1, 10, 100, 1000))],
              }),
            ),
          ),
        );
        expect(results.map((result) => result.headRevision).sort((left, right) => left - right)).toEqual(
          Array.from({ length: WRITER_COUNT }, (_, index) => index + 2),
        );
        expect(results.every((result) => !result.replayed)).toBe(true);
        const read = await setup.loadSession({ type: "full_graph" });
        expect(read?.headRevision).toBe(WRITER_COUNT + 1);
        expect(
          nodeIdsOf(read)
            ?.filter((nodeId) => nodeId.startsWith("writer-"))
            .sort(),
        ).toEqual(Array.from({ length: WRITER_COUNT }, (_, writer) => `writer-${writer}`).sort());
        expect(await ledgerOf(setup)).toContainEqual(
          ledgerEntry("writer", usage(WRITER_COUNT, WRITER_COUNT * 10, WRITER_COUNT * 100, WRITER_COUNT * 1000)),
        );
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "writers of different sessions on one backend do not interfere",
      async () => {
        const sessionIds = Array.from({ length: WRITER_COUNT }, (_, index) => `session-${index}`);
        await Promise.all(
          sessionIds.map(async (sessionId) => {
            const store = await context.open(sessionId);
            let parent: string | undefined;
            for (let turn = 1; turn <= 5; turn += 1) {
              await store.commit(
                turnCommit({
                  sessionId,
                  turnKey: `t${turn}`,
                  usage: usage(1, 1),
                  ...(turn === 1 ? {} : { expectedHeadRevision: turn - 1 }),
                  ...(parent === undefined ? {} : { parentNodeId: parent }),
                }),
              );
              parent = turnNodeIds(`t${turn}`).answer;
            }
          }),
        );
        for (const sessionId of sessionIds) {
          const store = await context.open(sessionId);
          const read = await store.loadSession({ type: "full_graph" });
          expect(read?.headRevision).toBe(5);
          expect(read?.graph.nodes).toHaveLength(20);
          expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(5, 5))]);
        }
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "reads during concurrent commits only ever see whole commits",
      async () => {
        const writer = await context.open("s1");
        const reader = await context.open("s1");
        let writing = true;
        const seen: { revision: number; nodes: number; input: number }[] = [];
        const reading = (async () => {
          while (writing) {
            const read = await reader.loadSession({ type: "full_graph" });
            if (read !== undefined)
              seen.push({
                revision: read.headRevision,
                nodes: read.graph.nodes.length,
                input: read.tokenLedger.reduce((sum, entry) => sum + entry.usage.inputTokens, 0),
              });
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        let parent: string | undefined;
        for (let turn = 1; turn <= 20; turn += 1) {
          await writer.commit(
            turnCommit({
              sessionId: "s1",
              turnKey: `t${turn}`,
              usage: usage(10, 1),
              ...(turn === 1 ? {} : { expectedHeadRevision: turn - 1 }),
              ...(parent === undefined ? {} : { parentNodeId: parent }),
            }),
          );
          parent = turnNodeIds(`t${turn}`).answer;
        }
        writing = false;
        await reading;
        // Every commit adds 4 nodes and 10 input tokens: a read that mixes two revisions breaks the ratio.
        for (const observation of seen)
          expect(observation).toEqual({
            revision: observation.revision,
            nodes: observation.revision * 4,
            input: observation.revision * 10,
          });
        expect(await observeSession(reader, context.capabilities.activePathScope)).toEqual(
          await observeSession(writer, context.capabilities.activePathScope),
        );
      },
      SLOW_TEST_TIMEOUT_MS,
    );
  });
};
