import type { SessionHarnessArea } from "./area.js";
import { SLOW_TEST_TIMEOUT_MS, useBackend } from "./conformance-context.js";
import { applied, ledgerOf, nodeIdsOf } from "./expectations.js";
import {
  appendDelta,
  checkpoint,
  ledgerEntry,
  messageChain,
  messageNode,
  sessionCommit,
  turnCommit,
  turnNodeIds,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** About 5 MB of text with multi-byte characters, so byte and character lengths differ. */
function largeText(): string {
  const line = 'lash stores every byte: ünïcödé, 中文, \u{1f600}, tabs\tand "quotes" \\ backslashes\n';
  return line.repeat(Math.ceil(5_000_000 / line.length));
}

/** Big messages, big appends and long histories read back whole. */
export const describeLargePayloads: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("large payloads", () => {
    const context = useBackend(harness);

    it(
      "a 5 MB message text reads back character for character, and its commit replays",
      async () => {
        const store = await context.open("s1");
        const text = largeText();
        const node = messageNode("big", { role: "assistant", text });
        const commit = sessionCommit({
          sessionId: "s1",
          commitId: "c1",
          graph: appendDelta([node]),
          usageDeltas: [ledgerEntry("turn", usage(1, 1))],
        });
        await store.commit(commit);
        const loaded = await store.loadNode("big");
        const part = loaded?.payload.kind === "message" ? loaded.payload.message.parts[0] : undefined;
        expect(part?.kind === "prose" ? part.content.length : undefined).toBe(text.length);
        expect(loaded).toEqual(node);
        expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual([node]);
        expect(await store.commit(commit)).toEqual({ ...applied("c1", 1), replayed: true });
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "a 2,000-node append lands in one commit and reads back in order (and as a 2,000-node active path)",
      async () => {
        const store = await context.open("s1");
        const nodes = messageChain("n", 2_000);
        expect(await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", graph: appendDelta(nodes) }))).toEqual(applied("c1", 1));
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.graph.nodes).toEqual(nodes);
        expect(read?.graph.leafNodeId).toBe("n-1999");
        if (context.capabilities.activePathScope) {
          const path = await store.loadSession({ type: "active_path" });
          expect(nodeIdsOf(path)).toEqual(nodes.map((node) => node.nodeId));
          const middle = await store.loadSession({ type: "active_path", leafNodeId: "n-999" });
          expect(middle?.graph.nodes).toHaveLength(1_000);
        }
        expect(await store.loadNode("n-1234")).toEqual(nodes[1234]);
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "100 turn commits in a row keep every node, reach revision 100 and sum every turn's usage",
      async () => {
        const store = await context.open("s1");
        let parent: string | undefined;
        for (let turn = 1; turn <= 100; turn += 1) {
          const result = await store.commit(
            turnCommit({
              sessionId: "s1",
              turnKey: `t${turn}`,
              turnIndex: turn,
              usage: usage(turn, 2, 1, 0),
              ...(turn === 1 ? {} : { expectedHeadRevision: turn - 1 }),
              ...(parent === undefined ? {} : { parentNodeId: parent }),
            }),
          );
          expect(result.headRevision).toBe(turn);
          parent = turnNodeIds(`t${turn}`).answer;
        }
        const read = await store.loadSession({ type: "full_graph" });
        expect(read?.headRevision).toBe(100);
        expect(read?.graph.nodes).toHaveLength(400);
        expect(read?.graph.leafNodeId).toBe(turnNodeIds("t100").answer);
        expect(read?.checkpoint?.turnState.turnIndex).toBe(100);
        expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(5_050, 200, 100, 0))]);
        if (context.capabilities.activePathScope) expect((await store.loadSession({ type: "active_path" }))?.graph.nodes).toHaveLength(400);
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "a 1 MB execution state in the checkpoint reads back whole",
      async () => {
        const store = await context.open("s1");
        const rows = Array.from({ length: 10_000 }, (_, index) => ({
          index,
          label: `row ${index} ${"x".repeat(80)}`,
          even: index % 2 === 0,
        }));
        const withState = { ...checkpoint({ turnIndex: 1 }), executionState: { rows } };
        await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", checkpoint: withState }));
        expect((await store.loadSession({ type: "full_graph" }))?.checkpoint).toEqual(withState);
      },
      SLOW_TEST_TIMEOUT_MS,
    );
  });
};
