// Appends `count` large trace records to a JSONL file through `createJsonlTraceSink`, for the test
// of several processes tracing into one file at once.
//
//   pnpm exec tsx --conditions=@lash/source src/observability/trace-writer.ts <file> <writer-id> <count>
import { createJsonlTraceSink } from "@lash/observability";

const [path, writer, countText] = process.argv.slice(2);
if (path === undefined || writer === undefined || countText === undefined)
  throw new Error("usage: trace-writer <file> <writer-id> <count>");
const sink = createJsonlTraceSink(path);
for (let index = 0; index < Number(countText); index += 1) {
  void sink.record({
    type: "commit",
    timestamp: new Date().toISOString(),
    sessionId: writer,
    turnId: `${writer}-turn`,
    commitId: `${index}:${"y".repeat((index * 7919) % 150_000)}`,
    ok: true,
    durationMs: 0,
  });
  if (index % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await sink.close();
