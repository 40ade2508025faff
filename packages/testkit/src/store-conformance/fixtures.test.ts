import { sessionCommitSchema, sessionMetaSchema, sessionNodeRecordSchema, sessionStoreCreateRequestSchema } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import {
  appendDelta,
  checkpoint,
  childRelation,
  createRequest,
  handoffRelation,
  ledgerEntry,
  messageChain,
  messageNode,
  replaceFullDelta,
  sessionCommit,
  sessionMeta,
  turnCommit,
  turnNodeIds,
  turnNodes,
  usage,
} from "./fixtures.js";

// A store may validate what it is given or what it reads back; either way it must see the fixtures
// unchanged, so every fixture parses with the real schema and parsing adds no defaults.
describe("conformance fixtures", () => {
  it("a turn commit has the four nodes of a tool round trip, chained, and validates as a SessionCommit unchanged", () => {
    const commit = turnCommit({
      sessionId: "s1",
      turnKey: "t2",
      expectedHeadRevision: 1,
      parentNodeId: "t1.answer",
      turnIndex: 2,
      usage: usage(1, 2, 3, 4),
    });
    expect(sessionCommitSchema.parse(commit)).toEqual(commit);
    const ids = turnNodeIds("t2");
    expect(commit.graph).toEqual({ type: "append", nodes: turnNodes("t2", "t1.answer"), leafNodeId: ids.answer });
    const nodes = turnNodes("t2", "t1.answer");
    expect(nodes.map((node) => [node.nodeId, node.parentNodeId, node.payload.kind])).toEqual([
      [ids.user, "t1.answer", "message"],
      [ids.call, ids.user, "message"],
      [ids.tool, ids.call, "tool_invocation"],
      [ids.answer, ids.tool, "message"],
    ]);
    expect(commit.usageDeltas).toEqual([ledgerEntry("turn", usage(1, 2, 3, 4))]);
  });

  it("every node, delta, checkpoint and commit builder validates unchanged", () => {
    for (const node of [
      ...turnNodes("t1"),
      ...messageChain("m", 3, "root"),
      messageNode("a", { role: "assistant" }),
      messageNode("s", { role: "system" }),
    ]) {
      expect(sessionNodeRecordSchema.parse(node)).toEqual(node);
    }
    const commits = [
      sessionCommit({ sessionId: "s1", commitId: "c1" }),
      sessionCommit({
        sessionId: "s1",
        commitId: "c2",
        expectedHeadRevision: 3,
        graph: appendDelta(messageChain("m", 2), null),
        checkpoint: checkpoint({ turnIndex: 4, withSnapshots: true }),
      }),
      sessionCommit({ sessionId: "s1", commitId: "c3", expectedHeadRevision: 4, graph: replaceFullDelta([messageNode("r")]) }),
    ];
    for (const commit of commits) expect(sessionCommitSchema.parse(commit)).toEqual(commit);
    expect("expectedHeadRevision" in (commits[0] ?? {})).toBe(false);
  });

  it("metas and create requests validate unchanged, with the parent taken from the relation", () => {
    for (const meta of [
      sessionMeta("r"),
      sessionMeta("c", { relation: childRelation("r"), cwd: "/w" }),
      sessionMeta("h", { relation: handoffRelation("r") }),
    ]) {
      expect(sessionMetaSchema.parse(meta)).toEqual(meta);
    }
    expect(sessionMeta("c", { relation: childRelation("r") }).parentSessionId).toBe("r");
    expect(sessionMeta("r").parentSessionId).toBeUndefined();
    const request = createRequest("c", childRelation("r"), "m");
    expect(sessionStoreCreateRequestSchema.parse(request)).toEqual(request);
    expect(request.parentSessionId).toBe("r");
  });
});
