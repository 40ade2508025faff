/**
 * A child process for the compaction restart test: the session on a durable store, then exit.
 *
 *   node compaction-process.js <backend> <location> <sessionId> first
 *       three turns; the third is refused with context_overflow, compacts and is retried
 *   node compaction-process.js <backend> <location> <sessionId> next <first user message id>
 *       a fresh runtime reads the session back and runs one more turn
 *
 * Prints one JSON line (`CompactionReport`).
 */
import { isSummaryMessage, LashRuntime } from "@lash/core";
import type { LlmRequest, Message } from "@lash/protocol";
import { ScriptedProvider, textStep, usage } from "@lash/testkit";
import { type FaultBackendKind, openFaultBackend } from "../faults/fault-backends.js";

/** What one step saw. */
export interface CompactionReport {
  readonly outcome: string;
  /** The texts of the active path's messages, oldest first. */
  readonly active: readonly string[];
  readonly activeStartsWithSummary: boolean;
  readonly firstUserMessageId: string | undefined;
  /** The text of the first user message, read back as a historic node (`next` only). */
  readonly historicFirstUser?: string | undefined;
  readonly compactionUsage: { readonly inputTokens: number; readonly outputTokens: number } | undefined;
  /** The text blocks of the step's last model request. */
  readonly lastRequest: readonly string[];
}

function messageText(message: Message): string {
  return message.parts.flatMap((part) => ("content" in part ? [part.content] : [])).join("");
}

function requestTexts(request: LlmRequest | undefined): string[] {
  return (request?.messages ?? []).flatMap((message) => message.blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])));
}

async function main(): Promise<void> {
  const [kind, location, sessionId, step, firstUserId] = process.argv.slice(2);
  if (!kind || !location || !sessionId || !step) throw new Error("usage: compaction-process <backend> <location> <session> <step>");
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  try {
    const provider = new ScriptedProvider(
      step === "first"
        ? [
            textStep("Noted: blue."),
            textStep("Noted: Tom."),
            { error: { kind: "validation", message: "prompt is too long", retryable: false, terminalReason: "context_overflow" } },
            textStep("The user's colour is blue.", { usage: usage(200, 9) }),
            textStep("You live in Oslo, your cat is Tom, your colour is blue."),
          ]
        : [textStep("Oslo.")],
    );
    const runtime = await LashRuntime.builder()
      .withProvider(provider)
      .withStore(await backend.openSession(sessionId))
      .build();
    let outcome = "";
    if (step === "first") {
      await runtime.runTurn("My colour is blue.");
      const first = runtime.activeMessages()[0];
      await runtime.runTurn("My cat is Tom.");
      outcome = (await runtime.runTurn("I live in Oslo. What do you know about me?")).outcome.type;
      process.stdout.write(`${JSON.stringify(report(runtime, outcome, provider, first?.id))}\n`);
    } else {
      const historic = firstUserId === undefined ? undefined : await runtime.getHistoricNode(firstUserId);
      const before = report(runtime, "", provider, firstUserId);
      outcome = (await runtime.runTurn("Where do I live?")).outcome.type;
      process.stdout.write(
        `${JSON.stringify({
          ...before,
          outcome,
          historicFirstUser: historic?.payload.kind === "message" ? messageText(historic.payload.message) : undefined,
          lastRequest: requestTexts(provider.requests.at(-1)),
        })}\n`,
      );
    }
  } finally {
    await backend.close();
  }
}

function report(
  runtime: LashRuntime,
  outcome: string,
  provider: ScriptedProvider,
  firstUserMessageId: string | undefined,
): CompactionReport {
  const active = runtime.activeMessages();
  const compaction = runtime.tokenLedger().find((entry) => entry.source === "compaction");
  return {
    outcome,
    active: active.map(messageText),
    activeStartsWithSummary: active[0] !== undefined && isSummaryMessage(active[0]),
    firstUserMessageId,
    compactionUsage:
      compaction === undefined ? undefined : { inputTokens: compaction.usage.inputTokens, outputTokens: compaction.usage.outputTokens },
    lastRequest: requestTexts(provider.requests.at(-1)),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`compaction-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
