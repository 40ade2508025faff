// Mastra: `Agent.stream` with `Memory` on `LibSQLStore` (a SQLite file in a temp folder, through
// libSQL's client as shipped), a new thread per turn, the full stream consumed. Mastra runs AI SDK
// language models, so the model is the same fake AI SDK model (spec v4) as the AI SDK rows.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { LibSQLStore } from "@mastra/libsql";
import { Memory } from "@mastra/memory";
import { z } from "zod";
import type { BenchRuntime, OpenRuntime } from "../bench-runtime.js";
import { CallCounter, PROMPT, TOOL_CALL, TOOL_DESCRIPTION, type TurnCheck } from "../workload.js";
import { fakeLanguageModel } from "./ai-sdk.js";

type AgentModel = ConstructorParameters<typeof Agent>[0]["model"];

export const mastraLibsql: BenchRuntime = {
  id: "mastra.libsql.stream",
  name: "Mastra Agent.stream + Memory on LibSQL",
  kind: "peer",
  async open(): Promise<OpenRuntime> {
    const folder = await mkdtemp(join(tmpdir(), "lash-bench-mastra-"));
    const storage = new LibSQLStore({ id: "bench", url: `file:${join(folder, "mastra.db")}` });
    const memory = new Memory({
      storage,
      options: { lastMessages: 10, semanticRecall: false, workingMemory: { enabled: false }, generateTitle: false },
    });
    const counter = new CallCounter();
    const add = createTool({
      id: TOOL_CALL.toolName,
      description: TOOL_DESCRIPTION,
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => {
        counter.toolCalls += 1;
        return a + b;
      },
    });
    const models = { W1: fakeLanguageModel("W1", counter), W2: fakeLanguageModel("W2", counter) };
    // The mock is an AI SDK `LanguageModelV4`; Mastra's own copy of that type (an older
    // @ai-sdk/provider 4.0.x) differs in how it spells the result types, not in what it accepts.
    const agent = (workload: "W1" | "W2") =>
      new Agent({
        id: `bench-${workload}`,
        name: "bench",
        instructions: "You add numbers.",
        model: models[workload] as unknown as AgentModel,
        tools: { add },
        memory,
      });
    const agents = { W1: agent("W1"), W2: agent("W2") };
    let threads = 0;
    return {
      async turn(workload): Promise<TurnCheck> {
        counter.reset();
        for (const model of [models.W1, models.W2]) model.doStreamCalls.length = 0;
        threads += 1;
        const output = await agents[workload].stream(PROMPT, {
          memory: { thread: `thread-${threads}`, resource: "bench-user" },
          maxSteps: 5,
        });
        let consumed = 0;
        let toolResult: number | undefined;
        for await (const chunk of output.fullStream) {
          consumed += 1;
          if (chunk.type === "tool-result") toolResult = Number((chunk.payload as { result?: unknown }).result);
        }
        return { modelCalls: counter.modelCalls, toolCalls: counter.toolCalls, toolResult, finalText: await output.text, consumed };
      },
      async close() {
        await rm(folder, { recursive: true, force: true });
      },
      note: "libSQL file database, Mastra's defaults",
    };
  },
};
