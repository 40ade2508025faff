import { describe, expect, it } from "vitest";
import { HeadRevisionConflictError } from "./errors/store-errors.js";
import { checkExpectedHeadRevision, checkGraphCommitDelta } from "./store-commit-rules.js";
import type { SessionCommit } from "./store-schemas.js";

function node(nodeId: string, parentNodeId?: string) {
  return {
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp: "2026-01-01T00:00:00.000Z",
    payload: { kind: "mode_event" as const, event: null },
  };
}

function commit(graph: SessionCommit["graph"], expectedHeadRevision?: number): SessionCommit {
  return {
    sessionId: "s",
    commitId: "c",
    ...(expectedHeadRevision === undefined ? {} : { expectedHeadRevision }),
    config: { providerId: "p", model: "m", contextWindow: 1, executionMode: "standard" },
    graph,
    checkpoint: {
      schemaVersion: 1,
      turnState: { turnIndex: 0, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 } },
    },
    usageDeltas: [],
  };
}

const stored = (taken: string[], live: string[]) => ({
  isTaken: (id: string) => taken.includes(id),
  isLive: (id: string) => live.includes(id),
});

describe("checkExpectedHeadRevision", () => {
  it("accepts undefined for a new session and the current revision for an existing one, returning the next revision", () => {
    expect(checkExpectedHeadRevision(commit({ type: "unchanged" }), undefined)).toBe(1);
    expect(checkExpectedHeadRevision(commit({ type: "unchanged" }, 4), 4)).toBe(5);
  });

  it.each([
    [0, undefined],
    [3, 4],
    [undefined, 2],
  ])("rejects expected %s against head %s with the expected and actual revisions", (expected, head) => {
    const attempt = () => checkExpectedHeadRevision(commit({ type: "unchanged" }, expected), head);
    expect(attempt).toThrow(HeadRevisionConflictError);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ expected, actual: head ?? 0 });
    }
  });
});

describe("checkGraphCommitDelta", () => {
  it("returns the leaf: the delta's, else the head's for unchanged and append", () => {
    expect(checkGraphCommitDelta(commit({ type: "append", nodes: [node("b", "a")], leafNodeId: "b" }), "a", stored(["a"], ["a"]))).toBe(
      "b",
    );
    expect(checkGraphCommitDelta(commit({ type: "unchanged" }), "a", stored(["a"], ["a"]))).toBe("a");
    expect(
      checkGraphCommitDelta(commit({ type: "replace_full", graph: { nodes: [node("r")], leafNodeId: "r" } }), "a", stored(["a"], ["a"])),
    ).toBe("r");
  });

  it.each([
    [
      "an append of a taken id (tombstoned ones included)",
      commit({ type: "append", nodes: [node("a")] }),
      stored(["a"], []),
      /appends node `a`/,
    ],
    ["an append naming an id twice", commit({ type: "append", nodes: [node("b"), node("b")] }), stored([], []), /appends node `b`/],
    [
      "a replace_full naming an id twice",
      commit({ type: "replace_full", graph: { nodes: [node("r"), node("r")] } }),
      stored([], []),
      /node `r` twice/,
    ],
    ["a leaf that is not live", commit({ type: "unchanged", leafNodeId: "gone" }), stored(["gone"], []), /sets leaf `gone`/],
    [
      "a replace_full leaf outside its nodes (even if stored)",
      commit({ type: "replace_full", graph: { nodes: [node("r")], leafNodeId: "a" } }),
      stored(["a"], ["a"]),
      /sets leaf `a`/,
    ],
  ])("rejects %s as invalid_argument", (_name, input, lookups, message) => {
    expect(() => checkGraphCommitDelta(input, undefined, lookups)).toThrow(message);
    try {
      checkGraphCommitDelta(input, undefined, lookups);
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid_argument" });
    }
  });
});
