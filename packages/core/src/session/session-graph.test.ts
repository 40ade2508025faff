import type { Message, SessionGraph, ToolCallRecord } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "./ids.js";
import { activeMessagesOf, activeToolCallsOf, SessionGraphEditor, toolCallStableKey } from "./session-graph.js";

function message(id: string, role: Message["role"] = "user", content = id): Message {
  return { id, role, parts: [{ kind: role === "assistant" ? "prose" : "text", id: `${id}.p0`, content }] };
}

function transient(id: string): Message {
  return { ...message(id), origin: { type: "plugin", pluginId: "plugin", transient: true } };
}

function record(callId: string | undefined, tool = "echo_tool", args: ToolCallRecord["args"] = { value: "x" }): ToolCallRecord {
  const base: ToolCallRecord = { tool, args, output: { outcome: { status: "success", payload: "ok" } }, durationMs: 1 };
  return callId === undefined ? base : { ...base, callId };
}

function ids(editor: SessionGraphEditor): string[] {
  return editor.activePath().map((node) => node.nodeId);
}

function editorWith(...messages: Message[]): SessionGraphEditor {
  const editor = SessionGraphEditor.empty();
  for (const entry of messages) editor.appendMessage(entry);
  editor.markCommitted();
  return editor;
}

describe("SessionGraphEditor node ids", () => {
  it("uses the message id as the node id, and chains appends under the leaf", () => {
    const editor = SessionGraphEditor.empty();
    const first = editor.appendMessage(message("m1"));
    const second = editor.appendMessage(message("m2", "assistant"));
    expect(first).toMatchObject({ nodeId: "m1", payload: { kind: "message", message: message("m1") } });
    expect(first?.parentNodeId).toBeUndefined();
    expect(second).toMatchObject({ nodeId: "m2", parentNodeId: "m1" });
    expect(editor.leafNodeId).toBe("m2");
    expect(first?.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('gives a colliding message id "message:{id}", then "message:{id}:2", "message:{id}:3"', () => {
    const editor = SessionGraphEditor.empty();
    editor.appendMessage(message("m1"));
    expect(editor.appendMessage(message("m1"))?.nodeId).toBe("message:m1");
    expect(editor.appendMessage(message("m1"))?.nodeId).toBe("message:m1:2");
    expect(editor.appendMessage(message("m1"))?.nodeId).toBe("message:m1:3");
    expect(editor.nodeCount).toBe(4);
  });

  it('gives a message with an empty id a fresh "m" + 32 hex node id', () => {
    const editor = SessionGraphEditor.empty();
    const node = editor.appendMessage({ id: "", role: "user", parts: [{ kind: "text", id: ".p0", content: "x" }] });
    expect(node?.nodeId).toMatch(/^m[0-9a-f]{32}$/);
  });

  it('names tool nodes "tool:{callId}"', () => {
    const editor = SessionGraphEditor.empty();
    editor.appendMessage(message("m1"));
    const node = editor.appendToolCall(record("call-1"));
    expect(node).toMatchObject({
      nodeId: "tool:call-1",
      parentNodeId: "m1",
      payload: { kind: "tool_invocation", stableKey: "call-1", record: record("call-1") },
    });
  });

  it('names a tool call without id "tool:anon-<12 hex>" from a hash of tool, args and output', () => {
    const editor = SessionGraphEditor.empty();
    const anonymous = record(undefined);
    const node = editor.appendToolCall(anonymous);
    const expectedKey = `anon-${sha256Hex(stableStringify([anonymous.tool, anonymous.args, anonymous.output])).slice(0, 12)}`;
    expect(node.nodeId).toBe(`tool:${expectedKey}`);
    expect(node.nodeId).toMatch(/^tool:anon-[0-9a-f]{12}$/);
    expect(toolCallStableKey(anonymous)).toBe(expectedKey);
    // The key depends on the content, not on key order.
    expect(toolCallStableKey(record(undefined, "echo_tool", { b: 1, a: 2 }))).toBe(
      toolCallStableKey(record(undefined, "echo_tool", { a: 2, b: 1 })),
    );
    expect(toolCallStableKey(record(undefined, "other_tool"))).not.toBe(expectedKey);
  });

  it("treats an empty call id like a missing one", () => {
    expect(toolCallStableKey(record(""))).toMatch(/^anon-[0-9a-f]{12}$/);
  });

  it('gives a colliding tool node a "tool:{key}:{hex}" id', () => {
    const editor = SessionGraphEditor.empty();
    editor.appendToolCall(record("call-1"));
    const again = editor.appendToolCall(record("call-1"));
    expect(again.nodeId).toMatch(/^tool:call-1:[0-9a-f]{32}$/);
  });

  it('names mode and plugin records "mode:{hex}" and "plugin:{hex}"', () => {
    const editor = SessionGraphEditor.empty();
    expect(editor.appendRecord({ kind: "mode_event", event: { step: 1 } }).nodeId).toMatch(/^mode:[0-9a-f]{32}$/);
    expect(editor.appendRecord({ kind: "plugin", pluginType: "memory", body: {} }).nodeId).toMatch(/^plugin:[0-9a-f]{32}$/);
  });
});

describe("SessionGraphEditor active path and messages", () => {
  it("never stores transient messages", () => {
    const editor = SessionGraphEditor.empty();
    expect(editor.appendMessage(transient("t1"))).toBeUndefined();
    expect(editor.nodeCount).toBe(0);
    expect(editor.leafNodeId).toBeUndefined();
  });

  it("excludes transient messages found on the path and lists each message id once", () => {
    const graph: SessionGraph = {
      nodes: [
        { nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } },
        { nodeId: "t1", parentNodeId: "m1", timestamp: "t", payload: { kind: "message", message: transient("t1") } },
        { nodeId: "message:m1", parentNodeId: "t1", timestamp: "t", payload: { kind: "message", message: message("m1") } },
        {
          nodeId: "tool:c1",
          parentNodeId: "message:m1",
          timestamp: "t",
          payload: { kind: "tool_invocation", stableKey: "c1", record: record("c1") },
        },
        { nodeId: "m2", parentNodeId: "tool:c1", timestamp: "t", payload: { kind: "message", message: message("m2", "assistant") } },
      ],
      leafNodeId: "m2",
    };
    const editor = SessionGraphEditor.from(graph);
    expect(ids(editor)).toEqual(["m1", "t1", "message:m1", "tool:c1", "m2"]);
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "m2"]);
    expect(activeMessagesOf(graph).map((entry) => entry.id)).toEqual(["m1", "m2"]);
    expect(activeToolCallsOf(graph)).toEqual([record("c1")]);
  });

  it("answers the active messages anew as the path grows, moves to another branch and is renamed; the array handed out is the caller's", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    const first = editor.activeMessages();
    first.push(message("not-stored"));
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "m2"]);
    editor.appendMessage(message("m3"));
    editor.appendMessage(message("m2", "assistant"));
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "m2", "m3"]);
    editor.branchTo("m1");
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1"]);
    editor.appendMessage(message("b1"));
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "b1"]);
    editor.renameUncommittedNode("b1");
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "b1"]);
    editor.branchTo("m3");
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("follows the leaf: nodes of other branches are not on the active path", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.branchTo("m1");
    editor.appendMessage(message("m3"));
    expect(ids(editor)).toEqual(["m1", "m3"]);
    expect(editor.orphanedNodeIds()).toEqual(["m2"]);
  });

  it("stops the active path at a missing parent", () => {
    const editor = SessionGraphEditor.from({
      nodes: [{ nodeId: "m2", parentNodeId: "gone", timestamp: "t", payload: { kind: "message", message: message("m2") } }],
      leafNodeId: "m2",
    });
    expect(ids(editor)).toEqual(["m2"]);
  });

  it("has an empty active path without a leaf", () => {
    const editor = SessionGraphEditor.from({
      nodes: [{ nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } }],
    });
    expect(editor.activePath()).toEqual([]);
    expect(editor.orphanedNodeIds()).toEqual(["m1"]);
  });

  it("does not change the graph value it was built from", () => {
    const graph: SessionGraph = {
      nodes: [{ nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } }],
      leafNodeId: "m1",
    };
    const editor = SessionGraphEditor.from(graph);
    editor.appendMessage(message("m2"));
    expect(graph.nodes).toHaveLength(1);
    expect(graph.leafNodeId).toBe("m1");
    expect(editor.toGraph().nodes).toHaveLength(2);
  });
});

describe("SessionGraphEditor.replaceActiveReadState", () => {
  it("does nothing when the active messages already read as the target", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.replaceActiveReadState([message("m1"), message("m2", "assistant")]);
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "m2" });
  });

  it("appends the new tail when the active path is a prefix of the target", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.replaceActiveReadState([message("m1"), message("m2", "assistant"), message("m3")]);
    expect(ids(editor)).toEqual(["m1", "m2", "m3"]);
    expect(editor.orphanedNodeIds()).toEqual([]);
  });

  it("keeps the common prefix, branches off for the rest and keeps the replaced nodes as orphans", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"), message("m3"), message("m4", "assistant"));
    editor.replaceActiveReadState([message("m1"), message("m2", "assistant"), message("summary", "system")]);
    expect(ids(editor)).toEqual(["m1", "m2", "summary"]);
    expect(editor.node("summary")?.parentNodeId).toBe("m2");
    expect(editor.orphanedNodeIds()).toEqual(["m3", "m4"]);
    expect(editor.nodeCount).toBe(5);
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m1", "m2", "summary"]);
  });

  it("starts a new root branch when nothing matches", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.replaceActiveReadState([message("compacted", "system"), message("m3")]);
    expect(ids(editor)).toEqual(["compacted", "m3"]);
    expect(editor.node("compacted")?.parentNodeId).toBeUndefined();
    expect(editor.orphanedNodeIds()).toEqual(["m1", "m2"]);
  });

  it("moves the leaf back when the target is a strict prefix", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"), message("m3"));
    editor.replaceActiveReadState([message("m1")]);
    expect(ids(editor)).toEqual(["m1"]);
    expect(editor.orphanedNodeIds()).toEqual(["m2", "m3"]);
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "m1" });
  });

  it("keeps tool nodes riding along in the common prefix", () => {
    const editor = SessionGraphEditor.empty();
    editor.appendMessage(message("m1"));
    editor.appendMessage(message("m2", "assistant"));
    editor.appendToolCall(record("c1"));
    editor.appendMessage(message("m3"));
    editor.replaceActiveReadState([message("m1"), message("m2", "assistant"), message("m4")]);
    expect(ids(editor)).toEqual(["m1", "m2", "tool:c1", "m4"]);
  });

  it("ignores transient messages of the target", () => {
    const editor = editorWith(message("m1"));
    editor.replaceActiveReadState([message("m1"), transient("t1"), message("m2", "assistant")]);
    expect(ids(editor)).toEqual(["m1", "m2"]);
  });

  it("re-appends a message whose id already exists elsewhere under a collision id", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.replaceActiveReadState([message("m2", "assistant")]);
    expect(ids(editor)).toEqual(["message:m2"]);
    expect(editor.activeMessages().map((entry) => entry.id)).toEqual(["m2"]);
  });
});

describe("SessionGraphEditor branches and repairs", () => {
  it("branchTo moves the leaf to an existing node, and refuses an unknown one", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"), message("m3"));
    editor.branchTo("m2");
    expect(editor.leafNodeId).toBe("m2");
    expect(ids(editor)).toEqual(["m1", "m2"]);
    expect(() => editor.branchTo("nope")).toThrow(/nope/);
    expect(editor.leafNodeId).toBe("m2");
  });

  it("healOrphanedLeaf points a dangling leaf at the last message node", () => {
    const editor = SessionGraphEditor.from({
      nodes: [
        { nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } },
        { nodeId: "m2", parentNodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m2", "assistant") } },
        {
          nodeId: "tool:c1",
          parentNodeId: "m2",
          timestamp: "t",
          payload: { kind: "tool_invocation", stableKey: "c1", record: record("c1") },
        },
      ],
      leafNodeId: "deleted",
    });
    expect(editor.healOrphanedLeaf()).toBe(true);
    expect(editor.leafNodeId).toBe("m2");
    expect(ids(editor)).toEqual(["m1", "m2"]);
  });

  it("healOrphanedLeaf leaves a valid leaf (or no leaf) alone", () => {
    const editor = editorWith(message("m1"));
    expect(editor.healOrphanedLeaf()).toBe(false);
    expect(editor.leafNodeId).toBe("m1");
    expect(SessionGraphEditor.empty().healOrphanedLeaf()).toBe(false);
  });

  it("healOrphanedLeaf clears the leaf when no node carries a message", () => {
    const editor = SessionGraphEditor.from({
      nodes: [{ nodeId: "tool:c1", timestamp: "t", payload: { kind: "tool_invocation", stableKey: "c1", record: record("c1") } }],
      leafNodeId: "deleted",
    });
    expect(editor.healOrphanedLeaf()).toBe(true);
    expect(editor.leafNodeId).toBeUndefined();
  });

  it("clone() is independent", () => {
    const editor = editorWith(message("m1"));
    const copy = editor.clone();
    copy.appendMessage(message("m2"));
    expect(editor.nodeCount).toBe(1);
    expect(copy.nodeCount).toBe(2);
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "m1" });
  });
});

describe("SessionGraphEditor commit deltas", () => {
  it("starts unchanged (no leaf on an empty graph, the leaf otherwise)", () => {
    expect(SessionGraphEditor.empty().pendingDelta()).toEqual({ type: "unchanged" });
    expect(
      SessionGraphEditor.from({
        nodes: [{ nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } }],
        leafNodeId: "m1",
      }).pendingDelta(),
    ).toEqual({
      type: "unchanged",
      leafNodeId: "m1",
    });
  });

  it("appends the nodes added since the last commit, and nothing after markCommitted", () => {
    const editor = editorWith(message("m1"));
    const node = editor.appendMessage(message("m2", "assistant"));
    const tool = editor.appendToolCall(record("c1"));
    expect(editor.pendingDelta()).toEqual({ type: "append", nodes: [node, tool], leafNodeId: "tool:c1" });
    editor.markCommitted();
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "tool:c1" });
  });

  it("a branch move without new nodes is an unchanged delta with the new leaf", () => {
    const editor = editorWith(message("m1"), message("m2", "assistant"));
    editor.branchTo("m1");
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "m1" });
  });

  it("replaces the full graph after requireFullReplace, until committed", () => {
    const editor = editorWith(message("m1"));
    editor.appendMessage(message("m2", "assistant"));
    editor.requireFullReplace();
    const delta = editor.pendingDelta();
    expect(delta).toEqual({ type: "replace_full", graph: editor.toGraph() });
    if (delta.type !== "replace_full") throw new Error("expected replace_full");
    expect(delta.graph.nodes.map((node) => node.nodeId)).toEqual(["m1", "m2"]);
    expect(delta.graph.leafNodeId).toBe("m2");
    editor.markCommitted();
    expect(editor.pendingDelta()).toEqual({ type: "unchanged", leafNodeId: "m2" });
  });

  it("nodes loaded with from() count as committed", () => {
    const editor = SessionGraphEditor.from({
      nodes: [{ nodeId: "m1", timestamp: "t", payload: { kind: "message", message: message("m1") } }],
      leafNodeId: "m1",
    });
    const node = editor.appendMessage(message("m2"));
    expect(editor.pendingDelta()).toEqual({ type: "append", nodes: [node], leafNodeId: "m2" });
  });

  it("a delta is a copy: appending after taking it does not change it", () => {
    const editor = editorWith(message("m1"));
    editor.appendMessage(message("m2"));
    const delta = editor.pendingDelta();
    editor.appendMessage(message("m3"));
    expect(delta.type === "append" ? delta.nodes.map((node) => node.nodeId) : []).toEqual(["m2"]);
  });
});
