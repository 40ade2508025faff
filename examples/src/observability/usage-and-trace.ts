// A scripted session with usage, cost and a trace file: two turns (the first calls a tool) against
// a scripted model, traced to a JSONL file. It prints the usage report as a table with costs, the
// cost as JSON, and a one-line summary of every trace record. No network, no API key.
//
//   pnpm exec tsx --conditions=@lash/source src/observability/usage-and-trace.ts [trace-file]
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool, LashRuntime } from "@lash/core";
import { computeCostReport, createJsonlTraceSink, formatUsageReportTable, type TraceRecord, usageReportToJson } from "@lash/observability";
import { z } from "zod";

const tracePath = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), "lash-trace-")), "trace.jsonl");

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

// The "model": gpt-4o calls `add`, answers, then answers a second question (with a cache hit).
const provider = new ScriptedProvider([
  toolCallStep([{ callId: "call-1", name: "add", args: { a: 2, b: 3 } }], { usage: usage(1200, 40) }),
  textStep("2 + 3 = 5.", { chunks: 3, usage: usage(1300, 12) }),
  textStep("Yes, addition is commutative.", { chunks: 4, usage: usage(1400, 20, 1024) }),
]);

const trace = createJsonlTraceSink(tracePath, { truncate: true });
const runtime = await LashRuntime.builder()
  .withSessionId("usage-demo")
  .withModel("gpt-4o")
  .withProvider(provider)
  .withTools([add])
  .withTraceSink(trace)
  .build();

await runtime.runTurn("What is 2 + 3?");
await runtime.runTurn("Is 3 + 2 the same?");
await trace.close();

const report = runtime.usageReport();
const cost = computeCostReport(report);
console.log("== usage");
console.log(formatUsageReportTable(report, { cost }));
console.log("== cost json");
console.log(JSON.stringify(usageReportToJson(report, cost).cost));

function summary(record: TraceRecord): string {
  switch (record.type) {
    case "turn_started":
      return `turn ${record.turnIndex} on ${record.model}`;
    case "prompt_built":
      return `system prompt ${record.systemPromptChars} chars, sha256 ${record.systemPromptSha256.slice(0, 12)}`;
    case "llm_call_completed":
      return `${record.usage.inputTokens} in / ${record.usage.outputTokens} out, ${record.streamSummary.visibleChunkCount} chunks, ${record.terminalReason}`;
    case "tool_call_started":
    case "tool_call_completed":
      return record.toolName;
    case "commit":
      return `${record.commitId.split(":").at(-1)} ${record.ok ? "ok" : "failed"}`;
    case "turn_completed":
      return record.outcome?.type ?? `error ${record.error?.message ?? ""}`;
    default:
      return "";
  }
}

const lines = (await readFile(tracePath, "utf8")).trimEnd().split("\n");
console.log(`== trace ${tracePath} (${lines.length} records)`);
for (const line of lines) {
  const record = JSON.parse(line) as TraceRecord;
  console.log(`${record.type.padEnd(20)} ${summary(record)}`.trimEnd());
}
