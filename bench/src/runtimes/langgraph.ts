// LangGraph.js: the prebuilt ReAct agent (`createReactAgent`) with `SqliteSaver` (a checkpoint per
// superstep, WAL, SQLite file in a temp folder, opened with `SqliteSaver.fromConnString` as shipped),
// a new thread per turn, streamed token by token (`streamMode: "messages"`, every chunk consumed).
// The chat model is a minimal `BaseChatModel` playing the workload's steps at once.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { z } from "zod";
import type { BenchRuntime, OpenRuntime } from "../bench-runtime.js";
import {
  CallCounter,
  type FakeStep,
  PROMPT,
  stepAfterToolResults,
  TOOL_CALL,
  TOOL_DESCRIPTION,
  type TurnCheck,
  type WorkloadName,
} from "../workload.js";

const usageMetadata = (step: FakeStep) => ({
  input_tokens: step.usage.inputTokens,
  output_tokens: step.usage.outputTokens,
  total_tokens: step.usage.inputTokens + step.usage.outputTokens,
});

/** A zero-latency chat model playing `workload`: the step after as many tool messages as it is sent. */
class FakeToolCallingChatModel extends BaseChatModel {
  readonly #workload: WorkloadName;
  readonly #counter: CallCounter;

  constructor(workload: WorkloadName, counter: CallCounter) {
    super({});
    this.#workload = workload;
    this.#counter = counter;
  }

  _llmType(): string {
    return "bench-fake";
  }

  /** The tools are the agent's; the fake model knows its script already. */
  override bindTools(): this {
    return this;
  }

  #step(messages: BaseMessage[]): FakeStep {
    this.#counter.modelCalls += 1;
    let toolResults = 0;
    for (const message of messages) if (message.getType() === "tool") toolResults += 1;
    return stepAfterToolResults(this.#workload, toolResults);
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const step = this.#step(messages);
    const message = new AIMessage({
      content: step.text,
      tool_calls: step.callsTool
        ? [{ name: TOOL_CALL.toolName, args: { ...TOOL_CALL.input }, id: TOOL_CALL.callId, type: "tool_call" }]
        : [],
      usage_metadata: usageMetadata(step),
    });
    return { generations: [{ text: step.text, message }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const step = this.#step(messages);
    for (const delta of step.deltas) {
      const chunk = new ChatGenerationChunk({ text: delta, message: new AIMessageChunk({ content: delta }) });
      yield chunk;
      await runManager?.handleLLMNewToken(delta, undefined, undefined, undefined, undefined, { chunk });
    }
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        tool_call_chunks: step.callsTool
          ? [{ name: TOOL_CALL.toolName, args: TOOL_CALL.inputJson, id: TOOL_CALL.callId, index: 0, type: "tool_call_chunk" }]
          : [],
        usage_metadata: usageMetadata(step),
      }),
    });
  }
}

export const langGraphSqlite: BenchRuntime = {
  id: "langgraph.sqlite-saver.stream",
  name: "LangGraph ReAct + SqliteSaver, stream",
  kind: "peer",
  async open(): Promise<OpenRuntime> {
    const folder = await mkdtemp(join(tmpdir(), "lash-bench-langgraph-"));
    const checkpointer = SqliteSaver.fromConnString(join(folder, "checkpoints.db"));
    const counter = new CallCounter();
    const add = tool(
      async ({ a, b }: { a: number; b: number }) => {
        counter.toolCalls += 1;
        return a + b;
      },
      { name: TOOL_CALL.toolName, description: TOOL_DESCRIPTION, schema: z.object({ a: z.number(), b: z.number() }) },
    );
    const agents = {
      W1: createReactAgent({ llm: new FakeToolCallingChatModel("W1", counter), tools: [add], checkpointer }),
      W2: createReactAgent({ llm: new FakeToolCallingChatModel("W2", counter), tools: [add], checkpointer }),
    };
    let threads = 0;
    const runtime: OpenRuntime = {
      async turn(workload): Promise<TurnCheck> {
        counter.reset();
        threads += 1;
        const stream = await agents[workload].stream(
          { messages: [new HumanMessage(PROMPT)] },
          { configurable: { thread_id: `thread-${threads}` }, streamMode: "messages" },
        );
        let consumed = 0;
        let lastAiId: string | undefined;
        let text = "";
        let toolResult: number | undefined;
        for await (const [message] of stream) {
          consumed += 1;
          const type = message.getType();
          if (type === "tool") {
            toolResult = Number(message.content);
          } else if (type === "ai") {
            if (message.id !== lastAiId) {
              lastAiId = message.id;
              text = "";
            }
            if (typeof message.content === "string") text += message.content;
          }
        }
        return { modelCalls: counter.modelCalls, toolCalls: counter.toolCalls, toolResult, finalText: text, consumed };
      },
      async close() {
        checkpointer.db.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
    // SqliteSaver prepares its database (WAL) on first use: one turn, then the settings are read back.
    await runtime.turn("W1");
    const journal = String(checkpointer.db.pragma("journal_mode", { simple: true }));
    const synchronous = Number(checkpointer.db.pragma("synchronous", { simple: true }));
    return {
      ...runtime,
      note: `SqliteSaver as shipped: journal_mode ${journal}, synchronous ${SYNCHRONOUS_NAMES[synchronous] ?? synchronous}`,
    };
  },
};

const SYNCHRONOUS_NAMES: Record<number, string> = { 0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA" };
