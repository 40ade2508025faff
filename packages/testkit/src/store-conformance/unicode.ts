import type { SessionNodeRecord } from "@lash/protocol";
import { compareCodePoints } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { SLOW_TEST_TIMEOUT_MS, useBackend } from "./conformance-context.js";
import {
  applied,
  expectInvalidArgument,
  ledgerOf,
  listAllSessions,
  listedCore,
  nodeIdsOf,
  rejectionOf,
  sortedLedger,
} from "./expectations.js";
import {
  appendDelta,
  checkpoint,
  FIXED_TIMESTAMP,
  ledgerEntry,
  messageNode,
  sessionCommit,
  sessionConfig,
  sessionMeta,
  turnCommit,
  turnNodeIds,
  turnNodes,
  usage,
} from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/**
 * Session ids that are data, never paths: astral characters, combining marks (the
 * composed and decomposed forms of one letter are two ids), right-to-left text, quotes, backslashes,
 * path syntax, percent escapes, case variants, dots and spaces a filesystem might drop, an id
 * longer than a file name may be, and SQL pattern characters.
 */
export const awkwardSessionIds: readonly string[] = [
  "\u{1f600} astral \u{1d11e}",
  "caf\u00e9",
  "cafe\u0301",
  "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c",
  `quotes " ' \``,
  "back\\slash\\",
  "../x",
  "x",
  "/abs",
  "abs",
  "..",
  ".",
  "a/b",
  "a%2Fb",
  "a%2fb",
  "100%",
  "%00",
  "Case",
  "case",
  "trailing.",
  "trailing",
  "trailing ",
  "CON",
  "like_%_pattern",
  "l".repeat(300),
];

/** Node ids of the same kinds (node ids are data in every store too). */
const awkwardNodeIds: readonly string[] = [
  "../x",
  "/abs",
  "tool:call/1",
  "\u{1f600}",
  "\u00e9",
  "e\u0301",
  "%2e%2e",
  "a\\b",
  `"'`,
  "\u202e",
  "x".repeat(300),
];

/** Text that exercises encoders: NUL and other control characters, astral, combining, RTL, escapes. */
const awkwardText =
  "NUL:\u0000 bell:\u0007 esc:\u001b tab:\t CRLF:\r\n astral:\u{1f600}\u{1d11e} combining:e\u0301 RTL:\u05e9\u05dc\u05d5\u05dd quotes:\"'` backslash:\\ path:../x /abs percent:%00 %2F %%";

/** Unicode and path-like ids and content round-trip exactly. */
export const describeUnicode: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("unicode and path-like ids", () => {
    const context = useBackend(harness);

    it(
      "awkward session ids (astral, combining, RTL, quotes, backslashes, ../x, /abs, percent, case, dots, 300 characters) are distinct sessions that read back their own data",
      async () => {
        for (const [index, sessionId] of awkwardSessionIds.entries()) {
          const store = await context.open(sessionId);
          await store.saveSessionMeta(sessionMeta(sessionId, { sessionName: `session ${index}` }));
          await store.commit(turnCommit({ sessionId, turnKey: `t${index}`, usage: usage(index + 1, 0) }));
        }
        for (const [index, sessionId] of awkwardSessionIds.entries()) {
          const store = await context.open(sessionId);
          const read = await store.loadSession({ type: "full_graph" });
          expect(read?.sessionId).toBe(sessionId);
          expect(read?.headRevision).toBe(1);
          expect(read?.graph.nodes).toEqual(turnNodes(`t${index}`));
          expect(await ledgerOf(store)).toEqual([ledgerEntry("turn", usage(index + 1, 0))]);
          expect(await store.loadSessionMeta()).toEqual(sessionMeta(sessionId, { sessionName: `session ${index}` }));
        }
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it(
      "awkward session ids are listed once each, in code-point order, and deleting one leaves the others",
      async () => {
        for (const sessionId of awkwardSessionIds) await (await context.open(sessionId)).saveSessionMeta(sessionMeta(sessionId));
        const expected = [...awkwardSessionIds].sort(compareCodePoints);
        const store = await context.open("x");
        expect((await listAllSessions(store)).map((summary) => summary.sessionId)).toEqual(expected);
        expect((await listAllSessions(store, { limit: 3 })).map((summary) => summary.sessionId)).toEqual(expected);
        await (await context.open("../x")).deleteSession();
        await (await context.open("cafe\u0301")).deleteSession();
        expect((await listAllSessions(store)).map((summary) => summary.sessionId)).toEqual(
          expected.filter((sessionId) => sessionId !== "../x" && sessionId !== "cafe\u0301"),
        );
        expect(await (await context.open("x")).loadSessionMeta()).toEqual(sessionMeta("x"));
        expect(await (await context.open("caf\u00e9")).loadSessionMeta()).toEqual(sessionMeta("caf\u00e9"));
      },
      SLOW_TEST_TIMEOUT_MS,
    );

    it("awkward node ids are data: they append, load, form an active path, tombstone and vacuum like any other", async () => {
      const store = await context.open("s1");
      const nodes: SessionNodeRecord[] = [];
      let parent: string | undefined;
      for (const nodeId of awkwardNodeIds) {
        nodes.push(messageNode(nodeId, parent === undefined ? {} : { parentNodeId: parent }));
        parent = nodeId;
      }
      await store.commit(sessionCommit({ sessionId: "s1", commitId: "c1", graph: appendDelta(nodes) }));
      expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toEqual(nodes);
      for (const node of nodes) expect(await store.loadNode(node.nodeId)).toEqual(node);
      if (context.capabilities.activePathScope) {
        expect(nodeIdsOf(await store.loadSession({ type: "active_path", leafNodeId: "e\u0301" }))).toEqual(
          awkwardNodeIds.slice(0, awkwardNodeIds.indexOf("e\u0301") + 1),
        );
      }
      // The composed and decomposed forms are two nodes: hiding one leaves the other.
      await store.tombstoneNodes(["\u00e9", "../x"]);
      expect(await store.loadNode("\u00e9")).toBeUndefined();
      expect(await store.loadNode("e\u0301")).toEqual(nodes[awkwardNodeIds.indexOf("e\u0301")]);
      expectInvalidArgument(
        await rejectionOf(
          store.commit(
            sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: appendDelta([messageNode("../x")], null) }),
          ),
        ),
      );
      expect(await store.vacuum()).toEqual({ removedNodeCount: 2 });
      expect(
        await store.commit(
          sessionCommit({ sessionId: "s1", commitId: "c2", expectedHeadRevision: 1, graph: appendDelta([messageNode("../x")], null) }),
        ),
      ).toEqual(applied("c2", 2));
    });

    it("content with NUL, control characters, astral characters, combining marks, RTL, quotes, backslashes and percent signs round-trips exactly", async () => {
      const store = await context.open("s1");
      const node: SessionNodeRecord = {
        nodeId: "content",
        timestamp: FIXED_TIMESTAMP,
        payload: {
          kind: "tool_invocation",
          stableKey: awkwardText,
          record: {
            callId: awkwardText,
            tool: "echo",
            args: { [awkwardText]: awkwardText, nested: [awkwardText, { "\u0000key": "\u0000" }] },
            output: { outcome: { status: "success", payload: awkwardText } },
            durationMs: 0,
          },
        },
      };
      const text = messageNode("text", { parentNodeId: "content", text: awkwardText });
      const state = {
        ...checkpoint({ turnIndex: 1 }),
        executionState: { [awkwardText]: awkwardText },
        pluginSnapshots: { [awkwardText]: [awkwardText] },
      };
      const commit = sessionCommit({
        sessionId: "s1",
        commitId: `commit ${awkwardText}`,
        graph: appendDelta([node, text]),
        checkpoint: state,
        config: sessionConfig({ model: awkwardText, modelVariant: awkwardText }),
        usageDeltas: [ledgerEntry(awkwardText, usage(1, 2, 3, 4), awkwardText)],
      });
      await store.commit(commit);
      const read = await store.loadSession({ type: "full_graph" });
      expect(read?.graph.nodes).toEqual([node, text]);
      expect(read?.checkpoint).toEqual(state);
      expect(read?.config).toEqual(commit.config);
      expect(sortedLedger(read?.tokenLedger ?? [])).toEqual([ledgerEntry(awkwardText, usage(1, 2, 3, 4), awkwardText)]);
      expect(await store.loadNode("content")).toEqual(node);
      expect((await store.commit(commit)).replayed).toBe(true);
    });

    it("meta with awkward names, working directories and parents round-trips and filters", async () => {
      const parentId = "../parent \u{1f600}";
      const store = await context.open("child \u05e9");
      const meta = sessionMeta("child \u05e9", {
        sessionName: awkwardText,
        cwd: "C:\\Users\\\u00e9l\u00e8ve\\../x",
        model: awkwardText,
        relation: { type: "child", parentSessionId: parentId },
      });
      await store.saveSessionMeta(meta);
      expect(await store.loadSessionMeta()).toEqual(meta);
      expect(listedCore(await listAllSessions(store, { parentSessionId: parentId }))).toEqual([
        { sessionId: "child \u05e9", headRevision: 0, meta },
      ]);
      expect(await store.listSessions({ parentSessionId: "../parent" })).toEqual({ sessions: [] });
    });

    it("commit ids with awkward characters are remembered exactly: a replay is recognised, a near-identical id is a new commit", async () => {
      const store = await context.open("s1");
      const first = { ...turnCommit({ sessionId: "s1", turnKey: "t1" }), commitId: "turn/../1:final \u{1f600} e\u0301 %2F" };
      await store.commit(first);
      expect((await store.commit(first)).replayed).toBe(true);
      const next = sessionCommit({
        sessionId: "s1",
        commitId: "turn/../1:final \u{1f600} \u00e9 %2F",
        expectedHeadRevision: 1,
        graph: appendDelta([messageNode("next", { parentNodeId: turnNodeIds("t1").answer })]),
      });
      expect(await store.commit(next)).toEqual(applied(next.commitId, 2));
    });
  });
};
