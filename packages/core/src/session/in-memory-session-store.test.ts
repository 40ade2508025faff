import type { GraphCommitDelta, Message, SessionCommit, SessionNodeRecord, TokenLedgerEntry, TokenUsage } from "@lash/protocol";
import { CommitIdConflictError, HeadRevisionConflictError, LashError, SessionBindingMismatchError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { InMemorySessionStore } from "./in-memory-session-store.js";

function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

function message(id: string, role: Message["role"] = "user"): Message {
  return { id, role, parts: [{ kind: "text", id: `${id}.p0`, content: `content of ${id}` }] };
}

function node(id: string, parent?: string): SessionNodeRecord {
  const record: SessionNodeRecord = {
    nodeId: id,
    timestamp: "2025-01-01T00:00:00.000Z",
    payload: { kind: "message", message: message(id) },
  };
  if (parent !== undefined) record.parentNodeId = parent;
  return record;
}

function append(nodes: SessionNodeRecord[], leafNodeId = nodes.at(-1)?.nodeId): GraphCommitDelta {
  return leafNodeId === undefined ? { type: "append", nodes } : { type: "append", nodes, leafNodeId };
}

function commit(overrides: Partial<SessionCommit> & Pick<SessionCommit, "commitId">): SessionCommit {
  return {
    sessionId: "s1",
    config: { providerId: "mock", model: "mock-model", contextWindow: 200_000, executionMode: "standard" },
    graph: { type: "unchanged" },
    checkpoint: { schemaVersion: 1, turnState: { turnIndex: 1, tokenUsage: usage(0, 0) } },
    usageDeltas: [],
    ...overrides,
  };
}

function turnUsage(value: TokenUsage, source = "turn", model = "mock-model"): TokenLedgerEntry {
  return { source, model, usage: value };
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** A store with two committed nodes (m1 ← m2) at head revision 1. */
async function seeded(): Promise<InMemorySessionStore> {
  const store = new InMemorySessionStore();
  await store.commit(
    commit({ commitId: "t1:final", graph: append([node("m1"), node("m2", "m1")]), usageDeltas: [turnUsage(usage(10, 5))] }),
  );
  return store;
}

describe("InMemorySessionStore: the first commit", () => {
  it("has nothing before the first commit", async () => {
    const store = new InMemorySessionStore();
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(await store.loadHeadRevision()).toBeUndefined();
    expect(await store.loadNode("m1")).toBeUndefined();
  });

  it("accepts a first commit with expectedHeadRevision undefined, at revision 1", async () => {
    const store = new InMemorySessionStore();
    const result = await store.commit(commit({ commitId: "t1:prepared", graph: append([node("m1")]) }));
    expect(result).toEqual({ headRevision: 1, commitId: "t1:prepared", replayed: false });
    expect(await store.loadHeadRevision()).toBe(1);
    const read = await store.loadSession({ type: "full_graph" });
    expect(read).toMatchObject({ sessionId: "s1", headRevision: 1, graph: { nodes: [node("m1")], leafNodeId: "m1" }, tokenLedger: [] });
    expect(read?.config).toEqual(commit({ commitId: "x" }).config);
    expect(read?.checkpoint).toEqual(commit({ commitId: "x" }).checkpoint);
  });

  it("rejects a first commit that expects an existing head, and writes nothing", async () => {
    const store = new InMemorySessionStore();
    const error = await thrown(store.commit(commit({ commitId: "t1:final", expectedHeadRevision: 0, graph: append([node("m1")]) })));
    expect(HeadRevisionConflictError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: 0, actual: 0 });
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
  });
});

describe("InMemorySessionStore: compare-and-set", () => {
  it("accepts a commit that names the current head revision", async () => {
    const store = await seeded();
    const result = await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) }));
    expect(result.headRevision).toBe(2);
    expect(store.commitCount).toBe(2);
  });

  it("rejects a stale revision with HeadRevisionConflictError { expected, actual } and writes nothing", async () => {
    const store = await seeded();
    await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1 }));
    const before = await store.loadSession({ type: "full_graph" });
    const error = await thrown(
      store.commit(
        commit({
          commitId: "t3:final",
          expectedHeadRevision: 1,
          graph: append([node("m9", "m2")]),
          usageDeltas: [turnUsage(usage(100, 100))],
        }),
      ),
    );
    expect(HeadRevisionConflictError.isInstance(error)).toBe(true);
    expect(LashError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "head_revision_conflict", expected: 1, actual: 2, sessionId: "s1" });
    expect(await store.loadSession({ type: "full_graph" })).toEqual(before);
    expect(await store.loadNode("m9")).toBeUndefined();
  });

  it("rejects a commit without an expected revision once a head exists (no blind writes)", async () => {
    const store = await seeded();
    const error = await thrown(store.commit(commit({ commitId: "t2:final", graph: { type: "replace_full", graph: { nodes: [] } } })));
    expect(HeadRevisionConflictError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: undefined, actual: 1 });
    expect((await store.loadSession({ type: "full_graph" }))?.graph.nodes).toHaveLength(2);
  });

  it("rejects a revision ahead of the head", async () => {
    const store = await seeded();
    const error = await thrown(store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 5 })));
    expect(error).toMatchObject({ expected: 5, actual: 1 });
  });
});

describe("InMemorySessionStore: idempotent commits", () => {
  it("a re-sent commit (same id, same content) returns the stored result, replayed, and is not applied again", async () => {
    const store = new InMemorySessionStore();
    const first = commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(10, 5, 2, 1))] });
    const applied = await store.commit(first);
    const replayed = await store.commit(structuredClone(first));
    expect(replayed).toEqual({ ...applied, replayed: true });
    expect(store.commitCount).toBe(1);
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.headRevision).toBe(1);
    expect(read?.graph.nodes).toHaveLength(1);
    expect(read?.tokenLedger).toEqual([turnUsage(usage(10, 5, 2, 1))]);
  });

  it("replays an old commit even after the head moved on", async () => {
    const store = new InMemorySessionStore();
    const first = commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] });
    await store.commit(first);
    await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, usageDeltas: [turnUsage(usage(2, 2))] }));
    expect(await store.commit(first)).toEqual({ headRevision: 1, commitId: "t1:final", replayed: true });
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(3, 3))]);
    expect(await store.loadHeadRevision()).toBe(2);
  });

  it("the same commit id with different content is a CommitIdConflictError, and nothing is written", async () => {
    const store = new InMemorySessionStore();
    await store.commit(commit({ commitId: "t1:final", graph: append([node("m1")]), usageDeltas: [turnUsage(usage(1, 1))] }));
    const before = await store.loadSession({ type: "full_graph" });
    const error = await thrown(
      store.commit(commit({ commitId: "t1:final", expectedHeadRevision: 1, usageDeltas: [turnUsage(usage(9, 9))] })),
    );
    expect(CommitIdConflictError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "commit_id_conflict", commitId: "t1:final", sessionId: "s1" });
    expect(await store.loadSession({ type: "full_graph" })).toEqual(before);
  });

  it("key order does not make the same content different", async () => {
    const store = new InMemorySessionStore();
    const first = commit({ commitId: "t1:final", usageDeltas: [turnUsage(usage(1, 2))] });
    await store.commit(first);
    const reordered = {
      usageDeltas: [
        { usage: { reasoningTokens: 0, cachedInputTokens: 0, outputTokens: 2, inputTokens: 1 }, model: "mock-model", source: "turn" },
      ],
      checkpoint: first.checkpoint,
      graph: first.graph,
      config: first.config,
      commitId: first.commitId,
      sessionId: first.sessionId,
    } as SessionCommit;
    expect((await store.commit(reordered)).replayed).toBe(true);
  });

  it("a commit that failed can be retried with the same id", async () => {
    const store = await seeded();
    const retry = commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) });
    await thrown(store.commit({ ...retry, expectedHeadRevision: 0 }));
    expect((await store.commit(retry)).replayed).toBe(false);
  });
});

describe("InMemorySessionStore: binding", () => {
  it("refuses a commit for another session with SessionBindingMismatchError, and writes nothing", async () => {
    const store = await seeded();
    const error = await thrown(
      store.commit(commit({ sessionId: "other", commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("x")]) })),
    );
    expect(SessionBindingMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "session_binding_mismatch", boundSessionId: "s1", attemptedSessionId: "other" });
    expect(await store.loadNode("x")).toBeUndefined();
    expect(await store.loadHeadRevision()).toBe(1);
  });

  it("checks the binding before the commit id (a replay for another session is refused)", async () => {
    const store = new InMemorySessionStore();
    const first = commit({ commitId: "t1:final" });
    await store.commit(first);
    const error = await thrown(store.commit({ ...first, sessionId: "other" }));
    expect(SessionBindingMismatchError.isInstance(error)).toBe(true);
  });
});

describe("InMemorySessionStore: graph deltas", () => {
  it("appending a node id that already exists is an error and nothing of the commit is written", async () => {
    const store = await seeded();
    const error = await thrown(
      store.commit(
        commit({
          commitId: "t2:final",
          expectedHeadRevision: 1,
          graph: append([node("m3", "m2"), node("m2", "m3")]),
          usageDeltas: [turnUsage(usage(50, 50))],
          checkpoint: { schemaVersion: 1, turnState: { turnIndex: 2, tokenUsage: usage(50, 50) } },
        }),
      ),
    );
    expect(LashError.isInstance(error)).toBe(true);
    expect(await store.loadHeadRevision()).toBe(1);
    expect(await store.loadNode("m3")).toBeUndefined();
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.graph).toEqual({ nodes: [node("m1"), node("m2", "m1")], leafNodeId: "m2" });
    expect(read?.tokenLedger).toEqual([turnUsage(usage(10, 5))]);
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
  });

  it("appending the same new node id twice in one commit is an error too", async () => {
    const store = await seeded();
    await thrown(
      store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2"), node("m3", "m2")]) })),
    );
    expect(await store.loadHeadRevision()).toBe(1);
    expect(await store.loadNode("m3")).toBeUndefined();
  });

  it("an unchanged delta keeps the nodes and moves the leaf", async () => {
    const store = await seeded();
    await store.commit(commit({ commitId: "t2:branch", expectedHeadRevision: 1, graph: { type: "unchanged", leafNodeId: "m1" } }));
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.graph).toEqual({ nodes: [node("m1"), node("m2", "m1")], leafNodeId: "m1" });
  });

  it("an unchanged delta without a leaf keeps the head's leaf", async () => {
    const store = await seeded();
    await store.commit(commit({ commitId: "t2:checkpoint", expectedHeadRevision: 1, graph: { type: "unchanged" } }));
    const read = await store.loadSession({ type: "active_path" });
    expect(read?.graph.leafNodeId).toBe("m2");
    expect(read?.graph.nodes.map((entry) => entry.nodeId)).toEqual(["m1", "m2"]);
  });

  it("replace_full replaces every node of the session", async () => {
    const store = await seeded();
    await store.commit(
      commit({
        commitId: "t2:final",
        expectedHeadRevision: 1,
        graph: { type: "replace_full", graph: { nodes: [node("r1"), node("r2", "r1")], leafNodeId: "r2" } },
      }),
    );
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.graph).toEqual({ nodes: [node("r1"), node("r2", "r1")], leafNodeId: "r2" });
    expect(await store.loadNode("m1")).toBeUndefined();
    expect(await store.loadNode("r2")).toEqual(node("r2", "r1"));
  });

  it("loads only the active path with the active_path scope (head leaf, or a given leaf)", async () => {
    const store = await seeded();
    await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("b1", "m1"), node("b2", "b1")]) }));
    const full = await store.loadSession({ type: "full_graph" });
    expect(full?.graph.nodes.map((entry) => entry.nodeId)).toEqual(["m1", "m2", "b1", "b2"]);
    const active = await store.loadSession({ type: "active_path" });
    expect(active?.graph).toEqual({ nodes: [node("m1"), node("b1", "m1"), node("b2", "b1")], leafNodeId: "b2" });
    const other = await store.loadSession({ type: "active_path", leafNodeId: "m2" });
    expect(other?.graph).toEqual({ nodes: [node("m1"), node("m2", "m1")], leafNodeId: "m2" });
    expect(active?.headRevision).toBe(2);
  });
});

describe("InMemorySessionStore: a missing active leaf", () => {
  it("an active_path load for a leaf that does not exist is an error, not an empty graph", async () => {
    const store = await seeded();
    await expect(store.loadSession({ type: "active_path", leafNodeId: "no-such-node" })).rejects.toThrow();
  });
});

describe("InMemorySessionStore: usage", () => {
  it("merges usage deltas into one ledger row per (source, model)", async () => {
    const store = await seeded();
    await store.commit(
      commit({
        commitId: "t2:final",
        expectedHeadRevision: 1,
        usageDeltas: [turnUsage(usage(1, 1)), turnUsage(usage(7, 2), "subagent"), turnUsage(usage(3, 0), "turn", "other-model")],
      }),
    );
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([
      turnUsage(usage(11, 6)),
      turnUsage(usage(7, 2), "subagent"),
      turnUsage(usage(3, 0), "turn", "other-model"),
    ]);
  });

  it("keeps cached-only usage and drops all-zero usage", async () => {
    const store = new InMemorySessionStore();
    await store.commit(
      commit({ commitId: "t1:final", usageDeltas: [turnUsage(usage(0, 0, 9), "child"), turnUsage(usage(0, 0, 0, 0), "turn")] }),
    );
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(0, 0, 9), "child")]);
  });

  it("keeps reasoning-only usage", async () => {
    const store = new InMemorySessionStore();
    await store.commit(commit({ commitId: "t1:final", usageDeltas: [turnUsage(usage(0, 0, 0, 4))] }));
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([turnUsage(usage(0, 0, 0, 4))]);
  });
});

describe("InMemorySessionStore: results are copies", () => {
  it("changing a loaded session does not change the store", async () => {
    const store = await seeded();
    const read = await store.loadSession({ type: "full_graph" });
    if (!read) throw new Error("expected a session");
    read.graph.nodes.pop();
    const first = read.graph.nodes[0];
    if (first?.payload.kind === "message") first.payload.message.parts = [];
    read.tokenLedger[0]!.usage.inputTokens = 999;
    read.config.model = "changed";
    read.checkpoint!.turnState.turnIndex = 42;
    const again = await store.loadSession({ type: "full_graph" });
    expect(again?.graph).toEqual({ nodes: [node("m1"), node("m2", "m1")], leafNodeId: "m2" });
    expect(again?.tokenLedger).toEqual([turnUsage(usage(10, 5))]);
    expect(again?.config.model).toBe("mock-model");
    expect(again?.checkpoint?.turnState.turnIndex).toBe(1);
  });

  it("changing a loaded node does not change the store", async () => {
    const store = await seeded();
    const loaded = await store.loadNode("m1");
    if (!loaded) throw new Error("expected a node");
    loaded.parentNodeId = "changed";
    expect(await store.loadNode("m1")).toEqual(node("m1"));
  });

  it("changing a committed object afterwards does not change the store", async () => {
    const store = new InMemorySessionStore();
    const nodes = [node("m1")];
    const usageDeltas = [turnUsage(usage(1, 1))];
    const sent = commit({ commitId: "t1:final", graph: append(nodes), usageDeltas });
    await store.commit(sent);
    nodes[0]!.nodeId = "mutated";
    usageDeltas[0]!.usage.inputTokens = 500;
    sent.config.model = "mutated";
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.graph.nodes.map((entry) => entry.nodeId)).toEqual(["m1"]);
    expect(read?.tokenLedger).toEqual([turnUsage(usage(1, 1))]);
    expect(read?.config.model).toBe("mock-model");
  });

  it("a config and checkpoint equal to the head's are kept once; changing the caller's objects afterwards changes nothing", async () => {
    const store = await seeded();
    const second = commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) });
    await store.commit(second);
    second.config.model = "mutated";
    second.checkpoint.turnState.turnIndex = 99;
    const read = await store.loadSession({ type: "active_path" });
    expect(read?.config.model).toBe("mock-model");
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
    // A re-send of the first content still replays, and the changed one is a different commit.
    expect(
      (await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, graph: append([node("m3", "m2")]) }))).replayed,
    ).toBe(true);
    expect(await thrown(store.commit(second))).toBeInstanceOf(CommitIdConflictError);
  });

  it("a config or checkpoint that only looks like the head's is stored as JSON gives it (undefined keys dropped, toJSON applied)", async () => {
    const store = await seeded();
    const config = { ...commit({ commitId: "x" }).config, note: undefined } as SessionCommit["config"];
    await store.commit(commit({ commitId: "t2:final", expectedHeadRevision: 1, config }));
    expect(Object.keys((await store.loadSession({ type: "active_path" }))?.config ?? {})).not.toContain("note");
    // Its own fields are the head's (usage 0, 0); JSON gives what its `toJSON` says.
    const usageWithJson = Object.defineProperty(usage(0, 0), "toJSON", { value: () => usage(7, 7), enumerable: false });
    const checkpoint = { schemaVersion: 1 as const, turnState: { turnIndex: 1, tokenUsage: usageWithJson } };
    await store.commit(commit({ commitId: "t3:final", expectedHeadRevision: 2, checkpoint }));
    expect((await store.loadSession({ type: "active_path" }))?.checkpoint?.turnState.tokenUsage).toEqual(usage(7, 7));
  });

  it("changing a commit result does not change a later replay", async () => {
    const store = new InMemorySessionStore();
    const sent = commit({ commitId: "t1:final" });
    const result = await store.commit(sent);
    (result as { headRevision: number }).headRevision = 77;
    expect((await store.commit(sent)).headRevision).toBe(1);
  });
});
