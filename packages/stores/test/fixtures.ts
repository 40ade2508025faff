import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphCommitDelta, Message, SessionCommit, SessionNodeRecord, TokenLedgerEntry, TokenUsage } from "@lash/protocol";

/** Small builders of store inputs shared by the SQL and filesystem tests. */

export interface TemporaryRoot {
  readonly path: string;
  remove(): Promise<void>;
}

/** A fresh empty directory under the OS temp directory. */
export async function temporaryRoot(): Promise<TemporaryRoot> {
  const path = await mkdtemp(join(tmpdir(), "lash-fs-store-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function usage(inputTokens: number, outputTokens: number, cachedInputTokens = 0, reasoningTokens = 0): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens, reasoningTokens };
}

export function message(id: string, role: Message["role"] = "user"): Message {
  return { id, role, parts: [{ kind: "text", id: `${id}.p0`, content: `content of ${id}` }] };
}

export function node(id: string, parent?: string): SessionNodeRecord {
  const record: SessionNodeRecord = {
    nodeId: id,
    timestamp: "2025-01-01T00:00:00.000Z",
    payload: { kind: "message", message: message(id) },
  };
  if (parent !== undefined) record.parentNodeId = parent;
  return record;
}

/** A chain of nodes `ids[0] ← ids[1] ← ...`, the first one's parent being `parent`. */
export function chain(ids: readonly string[], parent?: string): SessionNodeRecord[] {
  return ids.map((id, index) => node(id, index === 0 ? parent : ids[index - 1]));
}

export function append(nodes: SessionNodeRecord[], leafNodeId = nodes.at(-1)?.nodeId): GraphCommitDelta {
  return leafNodeId === undefined ? { type: "append", nodes } : { type: "append", nodes, leafNodeId };
}

export function turnUsage(value: TokenUsage, source = "turn", model = "mock-model"): TokenLedgerEntry {
  return { source, model, usage: value };
}

export function commit(overrides: Partial<SessionCommit> & Pick<SessionCommit, "commitId">): SessionCommit {
  return {
    sessionId: "s1",
    config: { providerId: "mock", model: "mock-model", contextWindow: 200_000, executionMode: "standard" },
    graph: { type: "unchanged" },
    checkpoint: { schemaVersion: 1, turnState: { turnIndex: 1, tokenUsage: usage(0, 0) } },
    usageDeltas: [],
    ...overrides,
  };
}

/** What a promise rejected with (fails when it resolves). */
export async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}
