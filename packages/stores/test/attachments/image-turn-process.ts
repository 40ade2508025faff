/**
 * A child process for the restart tests: one turn of a session on a durable store, then exit.
 *
 *   node image-turn-process.js <backend> <location> <sessionId> first          a turn with an image
 *   node image-turn-process.js <backend> <location> <sessionId> next           the next turn (text only)
 *   node image-turn-process.js <backend> <location> <sessionId> next-in-memory the next turn with an
 *                                                                               in-memory attachment store
 *
 * The runtime is built fresh in every process, with no attachment store unless the step says so: the
 * store's own attachments must be picked by default. Prints one JSON line (`ImageTurnReport`).
 */
import { InMemoryAttachmentStore, LashRuntime } from "@lash/core";
import { LashError } from "@lash/protocol";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { type FaultBackendKind, openFaultBackend } from "../faults/fault-backends.js";
import { type ImageTurnReport, sha256Hex, turnImage } from "./image-turn-fixtures.js";

async function main(): Promise<void> {
  const [kind, location, sessionId, step] = process.argv.slice(2);
  if (!kind || !location || !sessionId || !step) throw new Error("usage: image-turn-process <backend> <location> <session> <step>");
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  try {
    const provider = new ScriptedProvider([textStep(step === "first" ? "A test pattern." : "Still the test pattern.")]);
    let builder = LashRuntime.builder()
      .withProvider(provider)
      .withStore(await backend.openSession(sessionId));
    if (step === "next-in-memory") builder = builder.withAttachmentStore(new InMemoryAttachmentStore());
    const runtime = await builder.build();
    const turn =
      step === "first"
        ? await runtime.runTurn({
            items: [
              { type: "text", text: "What is in this picture? " },
              { type: "image_ref", id: "photo.png" },
            ],
            imageBlobs: { "photo.png": turnImage() },
          })
        : await runtime.runTurn("And what colour is it?");
    const request = provider.requests[0];
    const report: ImageTurnReport = {
      outcome: turn.outcome.type,
      ...(turn.outcome.type === "stopped" ? { stop: turn.outcome.stop.type } : {}),
      errorCodes: turn.errors.flatMap((issue) => (issue.code === undefined ? [] : [issue.code])),
      attachments: (request?.attachments ?? []).map((attachment) => ({
        mediaType: attachment.mediaType,
        byteLength: attachment.data.byteLength,
        sha256: sha256Hex(attachment.data),
      })),
      imageBlocks: (request?.messages ?? []).flatMap((message) => message.blocks).filter((block) => block.type === "image").length,
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
  process.stderr.write(`image-turn-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
