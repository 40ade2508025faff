/**
 * A child process for the approval tests: one step of a session whose turn waits for approval,
 * then exits. The model asks for a `read` (no approval) and two `write`s (approval needed) in one
 * call, and answers once it has the results; every model call reports `APPROVAL_CALL_USAGE`. A
 * `write` appends its path to `<markerFile>`, so the test can count how often each call ran.
 *
 *   node approval-process.js <backend> <location> <sessionId> <markerFile> suspend [expiresInMs]
 *   node approval-process.js <backend> <location> <sessionId> <markerFile> decide <decisions JSON> <decidedBy>
 *
 * Prints one JSON line: the turn's outcome and tool calls, or `{ "error": <code> }`.
 */
import { appendFileSync } from "node:fs";
import { defineTool, LashRuntime } from "@lash/core";
import type { ApprovalDecision, LlmRequest, LlmResponse, ModelProvider } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { z } from "zod";
import { type FaultBackendKind, openFaultBackend } from "../faults/fault-backends.js";
import { APPROVAL_CALL_USAGE } from "./approval-usage.js";

const provider: ModelProvider = {
  specificationVersion: "lash.provider.v1",
  providerId: "approval-model",
  defaultModel: "approval-model",
  async doComplete(request: LlmRequest): Promise<LlmResponse> {
    const last = request.messages.at(-1);
    const results = last?.role === "user" ? last.blocks.flatMap((block) => (block.type === "tool_result" ? [block.content] : [])) : [];
    if (results.length === 0) {
      return {
        fullText: "",
        parts: [
          { type: "tool_call", callId: "call-read", toolName: "read", inputJson: '{"path":"notes.md"}' },
          { type: "tool_call", callId: "call-a", toolName: "write", inputJson: '{"path":"a.txt"}' },
          { type: "tool_call", callId: "call-b", toolName: "write", inputJson: '{"path":"b.txt"}' },
        ],
        usage: APPROVAL_CALL_USAGE,
        terminalReason: "tool_use",
      };
    }
    const text = `Results: ${results.join(" | ")}`;
    return { fullText: text, parts: [{ type: "text", text }], usage: APPROVAL_CALL_USAGE, terminalReason: "stop" };
  },
};

function tools(markerFile: string) {
  return [
    defineTool({
      name: "read",
      description: "Reads a file.",
      inputSchema: z.object({ path: z.string() }),
      execute: ({ path }) => `contents of ${path}`,
    }),
    defineTool({
      name: "write",
      description: "Writes a file.",
      inputSchema: z.object({ path: z.string() }),
      needsApproval: true,
      describeApproval: ({ path }) => `write ${path}`,
      execute: ({ path }) => {
        appendFileSync(markerFile, `${path}\n`);
        return `wrote ${path}`;
      },
    }),
  ];
}

async function main(): Promise<void> {
  const [kind, location, sessionId, markerFile, mode, argument, decidedBy] = process.argv.slice(2);
  if (!kind || !location || !sessionId || !markerFile || !mode)
    throw new Error("usage: approval-process <backend> <location> <session> <marker> <mode>");
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  try {
    let builder = LashRuntime.builder()
      .withProvider(provider)
      .withTools(tools(markerFile))
      .withStore(await backend.openSession(sessionId));
    if (mode === "suspend" && argument !== undefined) builder = builder.withApprovals({ expiresInMs: Number(argument) });
    const runtime = await builder.build();
    const turn =
      mode === "suspend"
        ? await runtime.runTurn("update the files")
        : await runtime.resumeTurn({ decisions: JSON.parse(argument ?? "[]") as ApprovalDecision[], decidedBy });
    const report = {
      outcome: turn.outcome,
      text: turn.assistantOutput.safeText,
      toolCalls: turn.toolCalls.map((record) => ({
        callId: record.callId,
        status: record.output.outcome.status,
        approval: record.approval,
      })),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (error) {
    if (!LashError.isInstance(error)) throw error;
    process.stdout.write(`${JSON.stringify({ error: error.code, message: error.message })}\n`);
  } finally {
    await backend.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`approval-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
