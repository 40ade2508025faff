/**
 * A child process for the fault tests: commits turns to one session in a loop and prints
 * `committed <revision>` after each commit returns, until it is killed (or `--turns` are done).
 *
 *   node --conditions=@lash/source --import tsx crash-writer.ts <backend> <location> <sessionId> <writer> [turns]
 */
import { type FaultBackendKind, openFaultBackend } from "./fault-backends.js";
import { commitTurnRebasing } from "./turn-commits.js";

async function main(): Promise<void> {
  const [kind, location, sessionId, writer, turnsArgument] = process.argv.slice(2);
  if (!kind || !location || !sessionId || !writer) throw new Error("usage: crash-writer <backend> <location> <sessionId> <writer> [turns]");
  const turns = turnsArgument === undefined ? Number.POSITIVE_INFINITY : Number(turnsArgument);
  const backend = await openFaultBackend(kind as FaultBackendKind, location);
  try {
    const store = await backend.openSession(sessionId);
    // Turn numbers continue from the head this process found, so node ids never repeat across the
    // processes that follow one another after a kill; concurrent writers differ by `writer`.
    const firstTurn = ((await store.loadSession({ type: "full_graph" }))?.headRevision ?? 0) + 1;
    let conflicts = 0;
    for (let done = 0; done < turns; done += 1) {
      const result = await commitTurnRebasing(store, sessionId, writer, firstTurn + done);
      conflicts += result.conflicts;
      process.stdout.write(`committed ${result.headRevision}\n`);
    }
    process.stdout.write(`conflicts ${conflicts}\n`);
  } finally {
    await backend.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`crash-writer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
