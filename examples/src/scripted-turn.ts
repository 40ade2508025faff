// The library demo (`pnpm --filter @lash/examples demo`): one turn against a scripted model that calls a tool, then answers. It prints
// every activity as it streams, then the assembled turn. No network, no API key.

import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool, InMemorySessionStore, LashRuntime, type TurnActivity } from "@lash/core";
import { z } from "zod";

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

// What the "model" will do: call `add`, then answer with the tool's result.
const provider = new ScriptedProvider([
  toolCallStep([{ callId: "call-1", name: "add", args: { a: 2, b: 3 } }], { text: "Let me add those.", usage: usage(120, 18) }),
  textStep("2 + 3 = 5.", { chunks: 4, usage: usage(160, 9, 100) }),
]);

const store = new InMemorySessionStore();
const runtime = await LashRuntime.builder()
  .withSessionId("demo-session")
  .withModel("scripted-model")
  .withProvider(provider)
  .withTools([add])
  .withStore(store)
  .build();

function describe(activity: TurnActivity): string {
  switch (activity.type) {
    case "text_delta":
    case "reasoning_delta":
      return JSON.stringify(activity.text);
    case "tool_call_started":
      return `${activity.name}(${JSON.stringify(activity.args)})`;
    case "tool_call_completed":
      return `${activity.name} -> ${JSON.stringify(activity.output.outcome)} in ${activity.durationMs} ms`;
    case "usage":
      return `call ${activity.modeIteration}: ${JSON.stringify(activity.usage)} (turn so far: ${JSON.stringify(activity.cumulative)})`;
    case "model_request_started":
      return `model call ${activity.modeIteration}`;
    default:
      return JSON.stringify(activity);
  }
}

console.log("== activities");
const running = runtime.streamTurn("What is 2 + 3?");
for await (const activity of running) console.log(`${activity.type.padEnd(22)} ${describe(activity)}`);
const turn = await running;

console.log("\n== assembled turn");
console.log(JSON.stringify(turn, null, 2));

const stored = await store.loadSession({ type: "full_graph" });
console.log(
  `\n== committed: head revision ${stored?.headRevision}, ${stored?.graph.nodes.length} nodes, ledger ${JSON.stringify(stored?.tokenLedger)}`,
);
