// OpenAI Agents JS: `run(agent, prompt)` and `run(agent, prompt, { stream: true })` (every stream
// event consumed), with a custom `Model` that answers the workload's steps at once. Tracing is off,
// so that nothing is exported (there is no network here).
import type { AgentInputItem, AgentOutputItem, Model, ModelRequest, ModelResponse, StreamEvent } from "@openai/agents";
import { Agent, run, setTracingDisabled, tool, Usage } from "@openai/agents";
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

function outputOf(step: FakeStep, index: number): AgentOutputItem[] {
  const message: AgentOutputItem = {
    type: "message",
    role: "assistant",
    status: "completed",
    id: `msg-${index}`,
    content: [{ type: "output_text", text: step.text }],
  };
  if (!step.callsTool) return [message];
  return [
    message,
    {
      type: "function_call",
      name: TOOL_CALL.toolName,
      callId: TOOL_CALL.callId,
      id: TOOL_CALL.callId,
      status: "completed",
      arguments: TOOL_CALL.inputJson,
    },
  ];
}

function toolResultsIn(input: string | AgentInputItem[]): number {
  if (typeof input === "string") return 0;
  let count = 0;
  for (const item of input) if (item.type === "function_call_result") count += 1;
  return count;
}

/** A zero-latency `Model` playing `workload`: the step after as many tool results as its input has. */
class FakeAgentsModel implements Model {
  readonly #workload: WorkloadName;
  readonly #counter: CallCounter;

  constructor(workload: WorkloadName, counter: CallCounter) {
    this.#workload = workload;
    this.#counter = counter;
  }

  #respond(request: ModelRequest): ModelResponse {
    this.#counter.modelCalls += 1;
    const results = toolResultsIn(request.input);
    const step = stepAfterToolResults(this.#workload, results);
    return {
      usage: new Usage({
        requests: 1,
        inputTokens: step.usage.inputTokens,
        outputTokens: step.usage.outputTokens,
        totalTokens: step.usage.inputTokens + step.usage.outputTokens,
      }),
      output: outputOf(step, results),
      responseId: `response-${results}`,
    };
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    return this.#respond(request);
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const response = this.#respond(request);
    const step = stepAfterToolResults(this.#workload, toolResultsIn(request.input));
    yield { type: "response_started" };
    for (const delta of step.deltas) yield { type: "output_text_delta", delta };
    yield {
      type: "response_done",
      response: {
        id: response.responseId ?? "response",
        usage: {
          requests: 1,
          inputTokens: response.usage.inputTokens,
          outputTokens: response.usage.outputTokens,
          totalTokens: response.usage.totalTokens,
        },
        output: response.output as Extract<StreamEvent, { type: "response_done" }>["response"]["output"],
      },
    };
  }
}

function setup() {
  setTracingDisabled(true);
  const counter = new CallCounter();
  const add = tool({
    name: TOOL_CALL.toolName,
    description: TOOL_DESCRIPTION,
    parameters: z.object({ a: z.number(), b: z.number() }),
    execute: ({ a, b }) => {
      counter.toolCalls += 1;
      return a + b;
    },
  });
  const agent = (workload: WorkloadName) =>
    new Agent({ name: "bench", instructions: "You add numbers.", model: new FakeAgentsModel(workload, counter), tools: [add] });
  return { counter, agents: { W1: agent("W1"), W2: agent("W2") } };
}

/** The tool's result as the run recorded it (the SDK passes tool output on as text). */
function toolResultOf(items: readonly { type: string; rawItem?: unknown; output?: unknown }[]): number | undefined {
  for (const item of items) if (item.type === "tool_call_output_item") return Number(item.output);
  return undefined;
}

export const openAiAgentsStream: BenchRuntime = {
  id: "openai-agents.run-stream",
  name: "OpenAI Agents run, stream: true",
  kind: "peer",
  async open(): Promise<OpenRuntime> {
    const { counter, agents } = setup();
    return {
      async turn(workload): Promise<TurnCheck> {
        counter.reset();
        const result = await run(agents[workload], PROMPT, { stream: true, maxTurns: 5 });
        let consumed = 0;
        for await (const event of result) if (event.type) consumed += 1;
        await result.completed;
        return {
          modelCalls: counter.modelCalls,
          toolCalls: counter.toolCalls,
          toolResult: toolResultOf(result.newItems),
          finalText: String(result.finalOutput ?? ""),
          consumed,
        };
      },
      close: async () => {},
    };
  },
};

export const openAiAgentsRun: BenchRuntime = {
  id: "openai-agents.run",
  name: "OpenAI Agents run",
  kind: "peer",
  async open(): Promise<OpenRuntime> {
    const { counter, agents } = setup();
    return {
      async turn(workload): Promise<TurnCheck> {
        counter.reset();
        const result = await run(agents[workload], PROMPT, { maxTurns: 5 });
        return {
          modelCalls: counter.modelCalls,
          toolCalls: counter.toolCalls,
          toolResult: toolResultOf(result.newItems),
          finalText: String(result.finalOutput ?? ""),
          consumed: result.newItems.length,
        };
      },
      close: async () => {},
    };
  },
};
