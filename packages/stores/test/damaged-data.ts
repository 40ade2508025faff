import type { SessionMeta } from "@lash/protocol";

/** Builders of damaged stored values, shared by the SQL and filesystem damage tests. */

/** How deep the hostile documents nest: far beyond what a recursive walk of V8's stack survives. */
export const HOSTILE_DEPTH = 10_000;

/** `depth` arrays nested in one another, as JSON text. */
export function deeplyNestedJson(depth: number = HOSTILE_DEPTH): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A node record whose plugin body (opaque JSON, validated recursively) nests `depth` levels. */
export function deeplyNestedNodeJson(nodeId: string, parentNodeId: string | undefined, depth: number = HOSTILE_DEPTH): string {
  const parent = parentNodeId === undefined ? "" : `,"parentNodeId":${JSON.stringify(parentNodeId)}`;
  return `{"nodeId":${JSON.stringify(nodeId)}${parent},"timestamp":"2025-01-01T00:00:00.000Z","payload":{"kind":"plugin","pluginType":"probe","body":${deeplyNestedJson(depth)}}}`;
}

/** A checkpoint whose execution state nests `depth` levels. */
export function deeplyNestedCheckpointJson(depth: number = HOSTILE_DEPTH): string {
  return `{"schemaVersion":1,"turnState":{"turnIndex":1,"tokenUsage":{"inputTokens":0,"outputTokens":0,"cachedInputTokens":0,"reasoningTokens":0}},"executionState":${deeplyNestedJson(depth)}}`;
}

/** A JavaScript value nested `depth` levels (arrays), built without recursion. */
export function deeplyNestedValue(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level += 1) value = [value];
  return value;
}

export function rootMeta(sessionId: string, overrides: Partial<SessionMeta> = {}): SessionMeta {
  return {
    sessionId,
    sessionName: sessionId,
    createdAt: "2025-01-01T00:00:00.000Z",
    model: "mock-model",
    relation: { type: "root" },
    ...overrides,
  };
}
