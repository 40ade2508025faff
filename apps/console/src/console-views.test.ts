import type { SessionGraphResponse, TurnTraceResponse } from "@lash/remote-protocol";
import { describe, expect, it } from "vitest";
import { waterfallRows } from "./trace-waterfall.js";
import { branchesOf } from "./transcript.js";

type GraphNode = SessionGraphResponse["nodes"][number];

function message(nodeId: string, parentNodeId: string | undefined, role: "user" | "assistant", text: string, timestamp: string): GraphNode {
  return {
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp,
    payload: {
      kind: "message",
      message: { id: nodeId, role, parts: [{ kind: role === "user" ? "text" : "prose", id: `${nodeId}:0`, content: text }] },
    },
  } as GraphNode;
}

describe("branchesOf", () => {
  it("finds every leaf, the active branch first, each labelled by its own first question", () => {
    const graph: SessionGraphResponse = {
      sessionId: "s",
      headRevision: 3,
      leafNodeId: "a3",
      children: [],
      nodes: [
        message("u1", undefined, "user", "First?", "2026-12-07T10:00:00Z"),
        message("a1", "u1", "assistant", "One.", "2026-12-07T10:00:01Z"),
        message("u2", "a1", "user", "Second?", "2026-12-07T10:01:00Z"),
        message("a2", "u2", "assistant", "Two.", "2026-12-07T10:01:01Z"),
        message("u3", "a1", "user", "Second, asked again?", "2026-12-07T10:02:00Z"),
        message("a3", "u3", "assistant", "Three.", "2026-12-07T10:02:01Z"),
      ],
    };
    const branches = branchesOf(graph);
    expect(branches.map((branch) => [branch.leafNodeId, branch.active, branch.label])).toEqual([
      ["a3", true, "First?"],
      ["a2", false, "Second?"],
    ]);
    expect(branches[1]?.path.map((node) => node.nodeId)).toEqual(["u1", "a1", "u2", "a2"]);
  });
});

describe("waterfallRows", () => {
  const base = { sessionId: "s", turnId: "t" };
  const at = (ms: number): string => new Date(Date.UTC(2026, 11, 7, 10, 0, 0, ms)).toISOString();
  const summary = {
    eventCount: 3,
    textDeltaCount: 2,
    reasoningDeltaCount: 0,
    visibleChunkCount: 2,
    chunkSizes: [3, 4],
    maxChunkChars: 4,
    avgChunkChars: 3.5,
    streamDurationMs: 40,
  };
  const usage = { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 };
  const records = [
    { ...base, type: "turn_started", timestamp: at(0), turnIndex: 1, provider: "scripted", model: "m" },
    {
      ...base,
      type: "llm_call_started",
      timestamp: at(5),
      callId: "t:llm:0",
      modeIteration: 0,
      request: { provider: "scripted", model: "m", messageCount: 2, toolCount: 1 },
    },
    { ...base, type: "llm_retry", timestamp: at(20), callId: "t:llm:0", attempt: 1, maxAttempts: 3, waitSeconds: 0, reason: "overloaded" },
    {
      ...base,
      type: "llm_call_completed",
      timestamp: at(105),
      callId: "t:llm:0",
      modeIteration: 0,
      model: "m",
      durationMs: 100,
      usage,
      terminalReason: "tool_calls",
      streamSummary: { ...summary, firstTokenLatencyMs: 30 },
    },
    { ...base, type: "tool_call_started", timestamp: at(110), callId: "c1", toolName: "lookup" },
    { ...base, type: "tool_call_completed", timestamp: at(150), callId: "c1", toolName: "lookup", status: "failure", durationMs: 40 },
    { ...base, type: "commit", timestamp: at(160), commitId: "t:final", ok: true, durationMs: 8 },
    {
      ...base,
      type: "turn_completed",
      timestamp: at(161),
      turnIndex: 1,
      model: "m",
      durationMs: 161,
      usage,
      outcome: { type: "finished", finish: { type: "assistant_message", text: "x" } },
    },
  ] as unknown as TurnTraceResponse["records"];

  it("puts each model call, retry, tool call and commit on the turn's time axis", () => {
    const rows = waterfallRows(records);
    expect(rows.map((row) => [row.kind, row.startMs, row.endMs, row.failed])).toEqual([
      ["turn", 0, 161, false],
      ["model", 5, 105, false],
      ["retry", 20, 20, true],
      ["tool", 110, 150, true],
      ["commit", 152, 160, false],
    ]);
    expect(rows[1]?.firstTokenMs).toBe(30);
    expect(rows[1]?.detail).toContain("first token 30 ms");
  });
});
