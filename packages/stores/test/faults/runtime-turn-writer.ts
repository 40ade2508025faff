/**
 * A child process for the fault tests: runs real runtime turns on one session in a loop (each turn:
 * a model call asking for a tool, the tool, a model call answering) and prints `turn <n>` after
 * each, until it is killed. Every model call reports `CALL_USAGE`. Every commit the store accepted
 * is printed as `commit <commitId> <headRevision>`.
 *
 * With `<pauseAt>` (`tool-call`: the turn's first model call; `answer`: its second), the turn after
 * `<turnsBeforePause>` complete turns stops in that model call and prints `paused`, so a kill lands
 * between the turn's checkpoint commits and its final commit.
 *
 *   node runtime-turn-writer.js <backend> <location> <sessionId> [<pauseAt> <turnsBeforePause>]
 */
import { defineTool, LashRuntime } from "@lash/core";
import type { LlmRequest, LlmResponse, ModelProvider, SessionCommit, SessionStore } from "@lash/protocol";
import { z } from "zod";
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { CALL_USAGE } from "./runtime-turns.js";

const [kindArgument, locationArgument, sessionIdArgument, pauseAt, turnsBeforePause] = process.argv.slice(2);
let completedTurns = 0;

/** Stops this call for good (until the process is killed), once the turn has reached the pause. */
async function pauseIfDue(call: "tool-call" | "answer"): Promise<void> {
  if (pauseAt !== call || completedTurns < Number(turnsBeforePause)) return;
  process.stdout.write("paused\n");
  await new Promise(() => undefined);
}

/** A model that asks for the `note` tool on a user message and answers after the tool result. */
const provider: ModelProvider = {
  specificationVersion: "lash.provider.v1",
  providerId: "fault-model",
  defaultModel: "fault-model",
  async doComplete(request: LlmRequest): Promise<LlmResponse> {
    const last = request.messages.at(-1);
    const afterTool = last?.role === "user" && last.blocks.some((block) => block.type === "tool_result");
    await pauseIfDue(afterTool ? "answer" : "tool-call");
    if (!afterTool) {
      return {
        fullText: "",
        parts: [{ type: "tool_call", callId: `call-${request.messages.length}`, toolName: "note", inputJson: '{"text":"seen"}' }],
        usage: CALL_USAGE,
        terminalReason: "tool_use",
      };
    }
    const text = `Answer after ${request.messages.length} messages.`;
    return { fullText: text, parts: [{ type: "text", text }], usage: CALL_USAGE, terminalReason: "stop" };
  },
};

const note = defineTool({
  name: "note",
  description: "Notes a text.",
  inputSchema: z.object({ text: z.string() }),
  execute: ({ text }) => ({ noted: text }),
});

/** Prints every commit the store accepted, once it has returned (every other method goes to the store). */
function reportingCommits(store: SessionStore): SessionStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "commit") {
        return async (input: SessionCommit) => {
          const result = await target.commit(input);
          process.stdout.write(`commit ${input.commitId} ${result.headRevision}\n`);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const [kind, location, sessionId] = [kindArgument, locationArgument, sessionIdArgument];
  if (!kind || !location || !sessionId) throw new Error("usage: runtime-turn-writer <backend> <location> <sessionId>");
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  const runtime = await LashRuntime.builder()
    .withProvider(provider)
    .withTools([note])
    .withStore(reportingCommits(await backend.openSession(sessionId)))
    .build();
  for (let turn = 1; ; turn += 1) {
    await runtime.runTurn(`question ${turn}`);
    completedTurns = turn;
    process.stdout.write(`turn ${turn}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`runtime-turn-writer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
