/**
 * A child process for the fault tests: runs real runtime turns on one session in a loop (each turn:
 * a model call asking for a tool, the tool, a model call answering) and prints `turn <n>` after
 * each, until it is killed. Every model call reports `CALL_USAGE`.
 *
 *   node runtime-turn-writer.js <backend> <location> <sessionId>
 */
import { defineTool, LashRuntime } from "@lash/core";
import type { LlmRequest, LlmResponse, ModelProvider } from "@lash/protocol";
import { z } from "zod";
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { CALL_USAGE } from "./runtime-turns.js";

/** A model that asks for the `note` tool on a user message and answers after the tool result. */
const provider: ModelProvider = {
  specificationVersion: "lash.provider.v1",
  providerId: "fault-model",
  defaultModel: "fault-model",
  async doComplete(request: LlmRequest): Promise<LlmResponse> {
    const last = request.messages.at(-1);
    const afterTool = last?.role === "user" && last.blocks.some((block) => block.type === "tool_result");
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

async function main(): Promise<void> {
  const [kind, location, sessionId] = process.argv.slice(2);
  if (!kind || !location || !sessionId) throw new Error("usage: runtime-turn-writer <backend> <location> <sessionId>");
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  const runtime = await LashRuntime.builder()
    .withProvider(provider)
    .withTools([note])
    .withStore(await backend.openSession(sessionId))
    .build();
  for (let turn = 1; ; turn += 1) {
    await runtime.runTurn(`question ${turn}`);
    process.stdout.write(`turn ${turn}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`runtime-turn-writer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
