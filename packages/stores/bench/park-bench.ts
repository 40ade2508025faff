// The heap held by parked sessions, and the time to resume a long session under each residency.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LashRuntime, type ParkedSession, type Residency, RuntimeEnvironment, textInput } from "@lash/core";
import type { SessionNodeRecord } from "@lash/protocol";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "../src/sql/index.js";
import { collectGarbage, median } from "./bench-stats.js";

const POLICY = { model: "scripted-model", maxContextTokens: 200_000 };

function environmentFor(residency: Residency): RuntimeEnvironment {
  return RuntimeEnvironment.builder()
    .withProvider(new ScriptedProvider([textStep("noted")], { repeat: true, recordRequests: false }))
    .withResidency(residency)
    .build();
}

export interface ParkedHeap {
  readonly sessions: number;
  readonly totalBytes: number;
  readonly bytesPerSession: number;
}

/**
 * Runs one turn on each of `count` sessions of one SQLite database, parks them, drops the runtimes
 * and measures the heap the `ParkedSession`s still hold (after a full collection on both sides).
 */
export async function measureParkedHeap(folder: string, count: number): Promise<ParkedHeap> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "parked.db")}` });
  await database.migrateToLatest();
  const environment = environmentFor("keep_all");
  const parked: ParkedSession[] = [];
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let index = 0; index < count; index += 1) {
    const sessionId = `parked-${index}`;
    const runtime = await LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId(sessionId)
      .withPolicy(POLICY)
      .withStore(database.openSession(sessionId))
      .build();
    await runtime.runTurn(textInput(`remember ${index}`));
    parked.push(await runtime.park());
  }
  collectGarbage();
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  // Verify the work: every session is parked and its turn is in the store.
  const sample = await parked[count - 1]?.store.loadSession({ type: "full_graph" });
  if (parked.length !== count || sample?.checkpoint?.turnState.turnIndex !== 1)
    throw new Error("the parked sessions were not all committed");
  const totalBytes = after - before;
  await database.destroy();
  return { sessions: parked.length, totalBytes, bytesPerSession: totalBytes / parked.length };
}

function messageNode(nodeId: string, parentNodeId: string | undefined, role: "user" | "assistant", content: string): SessionNodeRecord {
  const part =
    role === "user" ? { kind: "text" as const, id: `${nodeId}.p0`, content } : { kind: "prose" as const, id: `${nodeId}.p0`, content };
  return {
    nodeId,
    ...(parentNodeId === undefined ? {} : { parentNodeId }),
    timestamp: "2026-11-01T00:00:00.000Z",
    payload: { kind: "message", message: { id: nodeId, role, parts: [part] } },
  };
}

/** A session of `messages` messages on its active path plus an abandoned branch of the same size. */
async function seedLongSession(database: SqlSessionDatabase, sessionId: string, messages: number): Promise<void> {
  const nodes: SessionNodeRecord[] = [];
  const chain = (prefix: string, parent: string | undefined): string | undefined => {
    let leaf = parent;
    for (let index = 0; index < messages; index += 1) {
      const node = messageNode(
        `${prefix}-${index}`,
        leaf,
        index % 2 === 0 ? "user" : "assistant",
        `${prefix} message ${index}: ${"lorem ipsum ".repeat(8)}`,
      );
      nodes.push(node);
      leaf = node.nodeId;
    }
    return leaf;
  };
  chain("abandoned", undefined);
  const leaf = chain("active", undefined);
  await database.openSession(sessionId).commit({
    sessionId,
    expectedHeadRevision: undefined,
    commitId: "seed",
    config: { providerId: "scripted", model: "scripted-model", contextWindow: 200_000, executionMode: "standard" },
    graph: { type: "append", nodes, ...(leaf === undefined ? {} : { leafNodeId: leaf }) },
    checkpoint: {
      schemaVersion: 1,
      turnState: { turnIndex: messages / 2, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 } },
    },
    usageDeltas: [],
  });
}

export interface ResumeTiming {
  readonly residency: Residency;
  readonly medianMicros: number;
  readonly residentMessages: number;
}

/** Median time of `LashRuntime.resume` for a session of `messages` active messages, per residency. */
export async function measureResume(folder: string, messages: number, repetitions: number): Promise<ResumeTiming[]> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "resume.db")}` });
  await database.migrateToLatest();
  await seedLongSession(database, "long-session", messages);
  const timings: ResumeTiming[] = [];
  for (const residency of ["keep_all", "active_path_only"] as const) {
    const environment = environmentFor(residency);
    const parked: ParkedSession = {
      sessionId: "long-session",
      store: database.openSession("long-session"),
      policy: { ...POLICY, sessionId: "long-session" } as ParkedSession["policy"],
    };
    const samples: number[] = [];
    let residentMessages = 0;
    for (let repetition = 0; repetition < repetitions; repetition += 1) {
      collectGarbage();
      const started = performance.now();
      const runtime = await LashRuntime.resume(parked, environment);
      samples.push((performance.now() - started) * 1000);
      residentMessages = runtime.activeMessages().length;
    }
    if (residentMessages !== messages) throw new Error(`${residency}: resumed ${residentMessages} active messages, expected ${messages}`);
    timings.push({ residency, medianMicros: median(samples), residentMessages });
  }
  await database.destroy();
  return timings;
}
