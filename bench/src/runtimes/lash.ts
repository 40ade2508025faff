// lash: `streamTurn` with no store, with the in-memory store, with the SQLite store as shipped and
// with PostgreSQL when a server answers. Like packages/core/bench, each turn builds its runtime
// (and, with a store, starts a new session), then streams the turn with `for await`.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTool, InMemorySessionDatabase, LashRuntime } from "@lash/core";
import type { AssembledTurn, LlmStreamEvent, SessionStore } from "@lash/protocol";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "@lash/stores/sql";
import { dropSchema, freshSchemaName, POSTGRES_URL, postgresUnavailableReason } from "@lash/test-infrastructure/postgres";
import { ScriptedProvider, type ScriptedStep } from "@lash/testkit";
import { z } from "zod";
import type { BenchRuntime, OpenRuntime } from "../bench-runtime.js";
import { CallCounter, fakeSteps, PROMPT, TOOL_CALL, TOOL_DESCRIPTION, type TurnCheck, type WorkloadName } from "../workload.js";

const MODEL = "bench-model";

/** The scripted steps of a workload for lash's `ScriptedProvider` (built once, replayed per turn). */
export function lashSteps(workload: WorkloadName): ScriptedStep[] {
  return fakeSteps(workload).map((step) => ({
    events: step.deltas.map((text): LlmStreamEvent => ({ type: "delta", text })),
    response: {
      fullText: step.text,
      parts: step.callsTool
        ? [
            { type: "text", text: step.text },
            { type: "tool_call", callId: TOOL_CALL.callId, toolName: TOOL_CALL.toolName, inputJson: TOOL_CALL.inputJson },
          ]
        : [{ type: "text", text: step.text }],
      usage: { ...step.usage, cachedInputTokens: 0, reasoningTokens: 0 },
      ...(step.callsTool ? { terminalReason: "tool_use" as const } : {}),
    },
  }));
}

const STEPS: Record<WorkloadName, ScriptedStep[]> = { W1: lashSteps("W1"), W2: lashSteps("W2") };

function addTool(counter: CallCounter) {
  return defineTool({
    name: TOOL_CALL.toolName,
    description: TOOL_DESCRIPTION,
    inputSchema: z.object({ a: z.number(), b: z.number() }),
    execute: ({ a, b }) => {
      counter.toolCalls += 1;
      return a + b;
    },
  });
}

/**
 * The fake model and the tool of one cell, built once as the peers build theirs (both are
 * configuration, stateless across turns): a scripted provider per workload that starts its script
 * over for every turn, and the tool `add` counting its calls in `counter`. Each turn still builds
 * its runtime.
 */
export class LashTurnParts {
  readonly counter = new CallCounter();
  readonly providers: Record<WorkloadName, ScriptedProvider> = {
    W1: new ScriptedProvider(STEPS.W1, { defaultModel: MODEL, recordRequests: false, repeat: true }),
    W2: new ScriptedProvider(STEPS.W2, { defaultModel: MODEL, recordRequests: false, repeat: true }),
  };
  readonly tools = [addTool(this.counter)];
}

function checkOf(modelCalls: number, counter: CallCounter, turn: AssembledTurn, consumed: number): TurnCheck {
  const outcome = turn.toolCalls[0]?.output.outcome;
  return {
    modelCalls,
    toolCalls: counter.toolCalls,
    toolResult: outcome?.status === "success" && typeof outcome.payload === "number" ? outcome.payload : undefined,
    finalText: turn.assistantOutput.rawText,
    consumed,
  };
}

/**
 * One lash turn: a runtime built for `sessionId` (on `store` when given), streamed with `for await`.
 * Without `parts`, the turn builds its own fake model and tool.
 */
export async function lashTurn(
  workload: WorkloadName,
  sessionId: string,
  store: SessionStore | undefined,
  parts: LashTurnParts = new LashTurnParts(),
): Promise<TurnCheck> {
  parts.counter.reset();
  const provider = parts.providers[workload];
  const callsBefore = provider.callCount;
  const builder = LashRuntime.builder().withSessionId(sessionId).withModel(MODEL).withProvider(provider).withTools(parts.tools);
  if (store) builder.withStore(store);
  const runtime = await builder.build();
  let consumed = 0;
  const turn = runtime.streamTurn(PROMPT);
  for await (const activity of turn) consumed += activity.type.length > 0 ? 1 : 0;
  return checkOf(provider.callCount - callsBefore, parts.counter, await turn.result, consumed);
}

/** A runtime whose turns each start a new session of `open(sessionId)`. */
function storeRuntime(prefix: string, open: (sessionId: string) => SessionStore, close: () => Promise<void>, note?: string): OpenRuntime {
  let sessions = 0;
  const parts = new LashTurnParts();
  return {
    turn(workload) {
      sessions += 1;
      const sessionId = `${prefix}-${workload}-${sessions}`;
      return lashTurn(workload, sessionId, open(sessionId), parts);
    },
    close,
    ...(note === undefined ? {} : { note }),
  };
}

export const lashNoStore: BenchRuntime = {
  id: "lash.no-store",
  name: "lash streamTurn, no store",
  kind: "lash",
  async open() {
    const parts = new LashTurnParts();
    return { turn: (workload) => lashTurn(workload, "bench", undefined, parts), close: async () => {} };
  },
};

export const lashInMemory: BenchRuntime = {
  id: "lash.in-memory",
  name: "lash streamTurn, in-memory store",
  kind: "lash",
  async open() {
    const database = new InMemorySessionDatabase();
    return storeRuntime(
      "memory",
      (sessionId) => database.openSession(sessionId),
      async () => {},
    );
  },
};

/** A migrated SQLite database of the SQL store in a new temporary folder. */
export async function temporarySqliteDatabase(
  name: string,
): Promise<{ database: SqlSessionDatabase; file: string; release: () => Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), `lash-bench-${name}-`));
  const file = join(folder, "lash.db");
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  try {
    await database.migrateToLatest();
  } catch (error) {
    await database.destroy();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    database,
    file,
    release: async () => {
      await database.destroy();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

export const lashSqlite: BenchRuntime = {
  id: "lash.sqlite",
  name: "lash streamTurn, SQLite store (as shipped)",
  kind: "lash",
  async open() {
    const { database, release } = await temporarySqliteDatabase("sqlite");
    return storeRuntime(
      "sqlite",
      (sessionId) => database.openSession(sessionId),
      release,
      "temp file, the store's own connection settings",
    );
  },
};

/** A migrated PostgreSQL schema of its own, or why there is none. */
export async function temporaryPostgresDatabase(): Promise<
  { database: SqlSessionDatabase; schema: string; release: () => Promise<void> } | { readonly skipped: string }
> {
  const reason = await postgresUnavailableReason();
  if (reason !== undefined) return { skipped: reason };
  const schema = freshSchemaName("lash_bench_");
  const database = createSqlSessionDatabase({ connection: POSTGRES_URL, schema, maxConnections: 4 });
  const release = async () => {
    await database.destroy();
    await dropSchema(schema);
  };
  try {
    await database.migrateToLatest();
  } catch (error) {
    await release();
    throw error;
  }
  return { database, schema, release };
}

export const lashPostgres: BenchRuntime = {
  id: "lash.postgres",
  name: "lash streamTurn, PostgreSQL store (local)",
  kind: "lash",
  async open() {
    const opened = await temporaryPostgresDatabase();
    if ("skipped" in opened) return opened;
    const { database, release } = opened;
    return storeRuntime("postgres", (sessionId) => database.openSession(sessionId), release, "127.0.0.1, schema of its own");
  },
};
