import type { Message, SessionNodeRecord } from "@lash/protocol";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { echoTool, MODEL, messageTexts } from "../../test/fixtures.js";
import {
  environmentFixture,
  expectLashError,
  failureOf,
  InstrumentedStore,
  runtimeOn,
  scriptedProvider,
  storedNodeIds,
} from "../../test/persistence-helpers.js";
import { assistantMessage, userMessage } from "../../test/runtime-scenario-helpers.js";
import { type LashPlugin, LashRuntime, SessionGraphEditor, textInput } from "../index.js";

/** Node ids of the active path of a runtime's in-memory graph, root first. */
function residentNodeIds(runtime: LashRuntime): string[] {
  return runtime.exportState().sessionGraph.nodes.map((node) => node.nodeId);
}

function messageNode(nodes: readonly SessionNodeRecord[], predicate: (message: Message) => boolean): SessionNodeRecord {
  const node = nodes.find((candidate) => candidate.payload.kind === "message" && predicate(candidate.payload.message));
  if (!node) throw new Error("no such message node");
  return node;
}

function messageTextOf(message: Message): string {
  return message.parts.map((part) => ("content" in part ? part.content : "")).join("");
}

function textOfNode(node: SessionNodeRecord | undefined): string | undefined {
  if (node?.payload.kind !== "message") return undefined;
  return node.payload.message.parts.map((part) => ("content" in part ? part.content : "")).join("");
}

/** A plugin whose afterTurn adds a message after the answer once armed, so the final commit must materialize the answer again. */
function materializingPlugin(): LashPlugin & { armed: boolean } {
  const plugin = {
    id: "note-taker",
    armed: false,
    afterTurn: () => {
      if (!plugin.armed) return undefined;
      plugin.armed = false;
      return [{ type: "enqueue_messages" as const, messages: [{ role: "system" as const, content: "note: answered" }] }];
    },
  };
  return plugin;
}

describe("active_path_only residency", () => {
  it("never deletes off-path nodes from the store across branchToNode, materialized output and several turns", async () => {
    const plugin = materializingPlugin();
    const provider = scriptedProvider([
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "a" } }]),
      textStep("one"),
      textStep("two"),
      // The same call id again, on a branch where the first `tool:call-1` node is off the path.
      toolCallStep([{ callId: "call-1", name: "echo_tool", args: { value: "b" } }]),
      textStep("three"),
      textStep("four"),
    ]);
    const { environment, database } = environmentFixture({ provider, tools: [echoTool], plugins: [plugin], residency: "active_path_only" });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const probe = database.openSession("session");
    const runtime = await runtimeOn(environment, "session", store);

    await runtime.runTurn(textInput("first"));
    plugin.armed = true;
    await runtime.runTurn(textInput("second"));
    const afterTwoTurns = await storedNodeIds(probe);
    // The materialized answer: the conversation ends with an assistant message after the plugin's note.
    expect(messageTexts(runtime, "assistant").at(-1)).toBe("two");
    expect(runtime.activeMessages().at(-2)?.role).toBe("system");

    const stored = (await probe.loadSession({ type: "full_graph" }))?.graph.nodes ?? [];
    const firstUser = messageNode(
      stored,
      (message) => message.role === "user" && message.parts.some((part) => "content" in part && part.content === "first"),
    );
    const secondUser = messageNode(
      stored,
      (message) => message.role === "user" && message.parts.some((part) => "content" in part && part.content === "second"),
    );
    const secondBranchLeaf = stored.at(-1);
    if (!secondBranchLeaf) throw new Error("expected nodes");

    await runtime.branchToNode(firstUser.nodeId);
    await runtime.runTurn(textInput("third"));

    const afterBranch = await storedNodeIds(probe);
    expect(afterBranch.slice(0, afterTwoTurns.length)).toEqual(afterTwoTurns);
    expect(afterBranch.length).toBeGreaterThan(afterTwoTurns.length);
    // The reused call id got a fresh node id instead of colliding with the off-path one.
    expect(afterBranch.filter((nodeId) => nodeId.startsWith("tool:call-1"))).toHaveLength(2);
    expect(afterBranch).toContain("tool:call-1");
    // In memory: the active path only.
    expect(residentNodeIds(runtime)).not.toContain(secondUser.nodeId);
    expect(runtime.exportState().sessionGraph.nodes).toHaveLength(runtime.core.graph.activePath().length);
    expect(messageTexts(runtime, "user")[0]).toBe("first");
    expect(messageTexts(runtime, "assistant").at(-1)).toBe("three");

    // An off-path node is read from the store.
    expect(await runtime.getHistoricNode(secondUser.nodeId)).toEqual(secondUser);
    // Branch to a node that is only in the store, and go on from there.
    await runtime.branchToNode(secondBranchLeaf.nodeId);
    expect(messageTexts(runtime, "user")).toEqual(["first", expect.any(String), "second"]);
    await runtime.runTurn(textInput("fourth"));

    const final = await storedNodeIds(probe);
    expect(final.slice(0, afterBranch.length)).toEqual(afterBranch);
    expect(messageTexts(runtime, "assistant").at(-1)).toBe("four");
    expect(messageTexts(runtime, "user").at(-1)).toBe("fourth");
    expect(store.deltaTypes()).not.toContain("replace_full");
    expect(store.deltaTypes().every((type) => type === "append" || type === "unchanged")).toBe(true);
    // Neither a turn nor a branch ever loaded the full graph.
    expect(store.loadScopes.every((scope) => scope.type === "active_path")).toBe(true);
    expect(residentNodeIds(runtime)).toEqual(runtime.core.graph.activePath().map((node) => node.nodeId));

    // The orphans (with a store: a full load) are exactly the nodes of the "third" branch.
    const path = new Set(residentNodeIds(runtime));
    expect((await runtime.orphanedNodeIds()).sort()).toEqual(final.filter((nodeId) => !path.has(nodeId)).sort());
  });

  it("refreshes from the store with an active_path load when another writer moved the head", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two"), textStep("three")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const store = new InstrumentedStore({ sessionId: "session", database });
    const first = await runtimeOn(environment, "session", store);
    await first.runTurn(textInput("from the first runtime"));
    const second = await runtimeOn(environment, "session", database.openSession("session"));
    await second.runTurn(textInput("from the second runtime"));
    store.loadScopes.length = 0;

    await first.runTurn(textInput("the first runtime again"));

    expect(store.loadScopes).toEqual([{ type: "active_path" }]);
    expect(messageTexts(first, "user")).toEqual(["from the first runtime", "from the second runtime", "the first runtime again"]);
    expect(messageTexts(first, "assistant")).toEqual(["one", "two", "three"]);
    expect(store.deltaTypes()).not.toContain("replace_full");
  });

  it("getHistoricNode: memory first, else the store; without a store a missing node is invalid_configuration", async () => {
    const provider = scriptedProvider([textStep("one")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("hello"));
    const leaf = runtime.core.graph.leafNodeId ?? "";
    expect(textOfNode(await runtime.getHistoricNode(leaf))).toBe("one");
    expect(await runtime.getHistoricNode("no-such-node")).toBeUndefined();

    const ephemeral = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withInitialState({
        schemaVersion: 1,
        sessionId: "root",
        policy: { sessionId: "root", providerId: "mock", model: MODEL, maxContextTokens: 1_000, executionMode: "standard" },
        sessionGraph: {
          nodes: [{ nodeId: "m1", timestamp: "2024-01-01T00:00:00.000Z", payload: { kind: "message", message: userMessage("m1", "hi") } }],
          leafNodeId: "m1",
        },
        turnIndex: 0,
        tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
        tokenLedger: [],
      })
      .build();
    expect((await ephemeral.getHistoricNode("m1"))?.nodeId).toBe("m1");
    const error = expectLashError(await failureOf(() => ephemeral.getHistoricNode("elsewhere")), "invalid_configuration");
    expect(error.message).toMatch(/getHistoricNode\(\) requires a persistent runtime/);
  });

  it("a commit from a partial graph can never replace the stored graph", async () => {
    const provider = scriptedProvider([textStep("one")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("hello"));
    expect(runtime.core.graph.isPartial).toBe(true);
    expectLashError(await failureOf(() => runtime.core.graph.requireFullReplace()), "invalid_argument");
  });

  it("looks up in the store only the ids it did not draw itself: a turn's new messages are not looked up, a message appended again is", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two"), textStep("three")]);
    const { environment, database } = environmentFixture({ provider, residency: "active_path_only" });
    const lookedUp: string[] = [];
    const store = new (class extends InstrumentedStore {
      override async loadNode(nodeId: string) {
        lookedUp.push(nodeId);
        return super.loadNode(nodeId);
      }
    })({ sessionId: "session", database });
    const runtime = await runtimeOn(environment, "session", store);
    await runtime.runTurn(textInput("first"));
    const firstAnswer = runtime.core.graph.leafNodeId ?? "";
    await runtime.runTurn(textInput("second"));
    // The user message and the answer of each turn got ids drawn for them: nothing to look up.
    expect(lookedUp).toEqual([]);

    // The same message object on another branch: its id is stored, off the new path.
    const second = runtime.activeMessages().find((message) => message.role === "user" && messageTextOf(message) === "second");
    if (second === undefined) throw new Error("no second message");
    await runtime.branchToNode(firstAnswer);
    // Committed: the branch left in memory is dropped (the graph holds the active path only).
    await runtime.core.commit("branched");
    expect(runtime.core.graph.node(second.id)).toBeUndefined();
    runtime.core.graph.appendMessage(second);
    await runtime.core.commit("replayed");
    expect(lookedUp).toEqual([second.id]);
    const stored = (await database.openSession("session").loadSession({ type: "full_graph" }))?.graph.nodes ?? [];
    const copies = stored.filter((node) => node.payload.kind === "message" && node.payload.message.id === second.id);
    // Stored twice, under two node ids: the replay did not collide with the off-path node.
    expect(copies).toHaveLength(2);
    expect(new Set(copies.map((node) => node.nodeId)).size).toBe(2);
  });
});

describe("host-driven tombstones and vacuum", () => {
  async function branchedSession(residency: "keep_all" | "active_path_only") {
    const provider = scriptedProvider([textStep("one"), textStep("two"), textStep("three")]);
    const { environment, database } = environmentFixture({ provider, residency });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("first"));
    const firstAnswer = runtime.core.graph.leafNodeId ?? "";
    await runtime.runTurn(textInput("second"));
    const secondBranch = runtime.core.graph
      .activePath()
      .slice(-2)
      .map((node) => node.nodeId);
    await runtime.branchToNode(firstAnswer);
    await runtime.runTurn(textInput("third"));
    return { runtime, database, secondBranch, firstAnswer };
  }

  it.each(["keep_all", "active_path_only"] as const)(
    "%s: tombstoneOrphanedNodes hides the off-path branch, vacuum deletes it, the active path stays",
    async (residency) => {
      const { runtime, database, secondBranch } = await branchedSession(residency);
      const probe = database.openSession("session");
      expect((await runtime.orphanedNodeIds()).sort()).toEqual([...secondBranch].sort());

      const tombstoned = await runtime.tombstoneOrphanedNodes();

      expect(tombstoned.sort()).toEqual([...secondBranch].sort());
      expect(await storedNodeIds(probe)).not.toContain(secondBranch[0]);
      expect(await runtime.orphanedNodeIds()).toEqual([]);
      expect(await runtime.vacuum()).toEqual({ removedNodeCount: 2 });
      expect(messageTexts(runtime, "user")).toEqual(["first", "third"]);
      const { environment } = environmentFixture({ provider: scriptedProvider([]), residency, database });
      const reopened = await LashRuntime.resume({ sessionId: "session", store: probe, policy: runtime.policy }, environment);
      expect(messageTexts(reopened, "user")).toEqual(["first", "third"]);
    },
  );

  it("refuses to tombstone a node on the active path, tombstoning nothing", async () => {
    const { runtime, database, secondBranch } = await branchedSession("active_path_only");
    const onPath = runtime.core.graph.activePath()[0]?.nodeId ?? "";

    const error = expectLashError(await failureOf(() => runtime.tombstoneNodes([secondBranch[0] ?? "", onPath])), "invalid_argument");

    expect(error.message).toContain(onPath);
    expect(error.message).toContain("active path");
    expect(await storedNodeIds(database.openSession("session"))).toContain(secondBranch[0]);
    expect(await runtime.tombstoneNodes([secondBranch[1] ?? ""])).toEqual([secondBranch[1]]);
  });

  it("protects the runtime's own active path too, before a branch move is committed", async () => {
    const { runtime, secondBranch } = await branchedSession("keep_all");
    await runtime.branchToNode(secondBranch[1] ?? "");
    // The store's head is still on the "third" branch; the runtime's active path is the "second" one.
    expectLashError(await failureOf(() => runtime.tombstoneNodes([secondBranch[1] ?? ""])), "invalid_argument");
    const orphans = await runtime.orphanedNodeIds();
    expect(orphans).not.toContain(secondBranch[1]);
  });

  it("without a store: tombstones and vacuum are invalid_configuration, orphans come from memory", async () => {
    const runtime = await LashRuntime.builder()
      .withPolicy({ model: MODEL, maxContextTokens: 1_000 })
      .withProvider(scriptedProvider([]))
      .withInitialState({
        schemaVersion: 1,
        sessionId: "root",
        policy: { sessionId: "root", providerId: "mock", model: MODEL, maxContextTokens: 1_000, executionMode: "standard" },
        sessionGraph: {
          nodes: [
            { nodeId: "m1", timestamp: "2024-01-01T00:00:00.000Z", payload: { kind: "message", message: userMessage("m1", "hi") } },
            {
              nodeId: "m2",
              parentNodeId: "m1",
              timestamp: "2024-01-01T00:00:00.000Z",
              payload: { kind: "message", message: assistantMessage("m2", "old") },
            },
          ],
          leafNodeId: "m1",
        },
        turnIndex: 0,
        tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
        tokenLedger: [],
      })
      .build();
    expect(await runtime.orphanedNodeIds()).toEqual(["m2"]);
    expectLashError(await failureOf(() => runtime.tombstoneNodes(["m2"])), "invalid_configuration");
    expectLashError(await failureOf(() => runtime.tombstoneOrphanedNodes()), "invalid_configuration");
    expectLashError(await failureOf(() => runtime.vacuum()), "invalid_configuration");
  });
});

describe("keep_all residency and a missing leaf", () => {
  it("a leaf that is no longer live is healed in memory, and the next commit moves the stored leaf without deleting anything", async () => {
    const provider = scriptedProvider([textStep("one"), textStep("two")]);
    const { environment, database } = environmentFixture({ provider });
    const runtime = await runtimeOn(environment, "session", database.openSession("session"));
    await runtime.runTurn(textInput("first"));
    const parked = await runtime.park();
    const probe = database.openSession("session");
    const leaf = (await probe.loadSession({ type: "full_graph" }))?.graph.leafNodeId ?? "";
    await probe.tombstoneNodes([leaf]);
    const before = await storedNodeIds(probe);

    const resumed = await LashRuntime.resume(parked, environment);
    await resumed.runTurn(textInput("second"));

    expect((await storedNodeIds(probe)).slice(0, before.length)).toEqual(before);
    expect(messageTexts(resumed, "user")).toEqual(["first", "second"]);
  });
});

describe("the graph editor under partial residency", () => {
  const node = (nodeId: string, parentNodeId?: string): SessionNodeRecord => ({
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp: "2024-01-01T00:00:00.000Z",
    payload: { kind: "message", message: userMessage(nodeId, nodeId) },
  });

  it("trimToActivePath drops committed off-path nodes but keeps uncommitted ones for the next delta", () => {
    const editor = SessionGraphEditor.from({ nodes: [node("a"), node("b", "a"), node("c", "a")], leafNodeId: "c" });
    editor.branchTo("b");
    const pending = editor.appendMessage(userMessage("d", "d"));
    editor.branchTo("a");
    editor.trimToActivePath();
    expect(editor.isPartial).toBe(true);
    expect(editor.toGraph().nodes.map((record) => record.nodeId)).toEqual(["a", "d"]);
    expect(editor.pendingDelta()).toEqual({ type: "append", nodes: [pending], leafNodeId: "a" });
  });

  it("adoptActivePath swaps in a loaded path and keeps the uncommitted nodes", () => {
    const editor = SessionGraphEditor.from({ nodes: [node("a"), node("b", "a")], leafNodeId: "b" }, { partial: true });
    const pending = editor.appendMessage(userMessage("p", "p"));
    editor.adoptActivePath({ nodes: [node("a"), node("x", "a")], leafNodeId: "x" });
    expect(editor.toGraph()).toEqual({ nodes: [node("a"), node("x", "a"), pending], leafNodeId: "x" });
    expect(editor.pendingDelta()).toEqual({ type: "append", nodes: [pending], leafNodeId: "x" });
    expectLashError(
      (() => {
        try {
          editor.adoptActivePath({ nodes: [node("a")], leafNodeId: "gone" });
        } catch (error) {
          return error;
        }
        return undefined;
      })(),
      "invalid_persisted_data",
    );
  });

  it("renameUncommittedNode gives a node a fresh id and its children follow", () => {
    const editor = SessionGraphEditor.from({ nodes: [node("a")], leafNodeId: "a" }, { partial: true });
    editor.appendMessage(userMessage("m", "m"));
    editor.appendMessage(userMessage("n", "n"));
    const renamed = editor.renameUncommittedNode("m");
    expect(renamed).toMatch(/^message:m:[0-9a-f]{32}$/);
    const delta = editor.pendingDelta();
    expect(delta.type === "append" ? delta.nodes.map((record) => [record.nodeId, record.parentNodeId]) : []).toEqual([
      [renamed, "a"],
      ["n", renamed],
    ]);
    expect(editor.activeMessages().map((message) => message.id)).toEqual(["a", "m", "n"]);
  });

  it("a partial editor never yields replace_full, and refuses to require one", () => {
    const editor = SessionGraphEditor.from({ nodes: [node("a")], leafNodeId: "a" }, { partial: true });
    expectLashError(
      (() => {
        try {
          editor.requireFullReplace();
        } catch (error) {
          return error;
        }
        return undefined;
      })(),
      "invalid_argument",
    );
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "a" });
  });
});
