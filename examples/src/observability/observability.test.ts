import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool, LashRuntime, textInput } from "@lash/core";
import { observeTurn } from "@lash/core/rxjs";
import { createJsonlTraceSink, runningUsageTotals, timeToFirstToken, toolCallDurations } from "@lash/observability";
import { type TraceRecord, traceRecordSchema } from "@lash/protocol";
import { firstValueFrom, last, toArray } from "rxjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";

const examples = fileURLToPath(new URL("../..", import.meta.url));

function runExample(script: string, ...args: string[]): string {
  return execFileSync("pnpm", ["exec", "tsx", "--conditions=@lash/source", script, ...args], { cwd: examples, encoding: "utf8" });
}

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "lash-observability-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("the observability README example", () => {
  // Child processes that load TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("prints the usage table with cost, the cost JSON and the trace file of a scripted session", { timeout: 120_000 }, () => {
    const tracePath = join(directory, "trace.jsonl");
    const output = runExample("src/observability/usage-and-trace.ts", tracePath);
    // 3 calls: 1200+1300+1400 input (1024 cached), 40+12+20 output; gpt-4o at 2.50 / 1.25 / 10 per million.
    expect(output).toContain("turn    gpt-4o   3900    1024      72          0   3972     4996  $0.009190");
    expect(output).toContain("prices in USD as of 2025-10-01");
    expect(output).toContain(
      '{"currency":"USD","priceTableDate":"2025-10-01","priceBasis":"report_time","totalMicroUsd":9190,"totalUsd":"0.009190","unpricedModels":[]}',
    );
    expect(output).toContain(`== trace ${tracePath} (16 records)`);
    const records = readFileSync(tracePath, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => traceRecordSchema.parse(JSON.parse(line)));
    expect(records.map((record) => record.type)).toEqual([
      "turn_started",
      "prompt_built",
      "llm_call_started",
      "llm_call_completed",
      "tool_call_started",
      "tool_call_completed",
      "llm_call_started",
      "llm_call_completed",
      "commit",
      "turn_completed",
      "turn_started",
      "prompt_built",
      "llm_call_started",
      "llm_call_completed",
      "commit",
      "turn_completed",
    ]);
  });

  it("turns a real scripted turn with a tool call into an OpenTelemetry span tree", { timeout: 120_000 }, () => {
    const spans = runExample("src/observability/opentelemetry-spans.ts")
      .trim()
      .split("\n")
      .map(
        (line) =>
          JSON.parse(line) as {
            name: string;
            spanId: string;
            traceId: string;
            parentSpanId: string | null;
            kind: number;
            attributes: Record<string, unknown>;
            status: { code: number };
          },
      );
    const root = spans.find((span) => span.parentSpanId === null);
    expect(root?.name).toBe("invoke_agent calculator");
    expect(root?.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.conversation.id": "otel-demo",
      "gen_ai.usage.input_tokens": 220,
      "gen_ai.usage.output_tokens": 12,
    });
    const children = spans.filter((span) => span.parentSpanId === root?.spanId);
    expect(children.map((span) => span.name)).toEqual(["chat gpt-4o", "execute_tool add", "chat gpt-4o"]);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(children[0]?.attributes).toMatchObject({
      "gen_ai.provider.name": "openai",
      "gen_ai.usage.input_tokens": 100,
      "gen_ai.response.finish_reasons": ["tool_use"],
    });
    expect(children[1]?.attributes).toMatchObject({
      "gen_ai.tool.name": "add",
      "gen_ai.tool.call.id": "call-1",
      "lash.tool.status": "success",
    });
    expect(children[2]?.attributes).toMatchObject({
      "gen_ai.usage.cache_read.input_tokens": 64,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    expect(children[2]?.attributes["lash.time_to_first_token_ms"]).toEqual(expect.any(Number));
    expect(spans.every((span) => span.status.code !== 2)).toBe(true);
  });
});

describe("a JSONL trace under concurrent turns", () => {
  it("keeps every line whole when many sessions' turns write to one file at once", async () => {
    const path = join(directory, "shared.jsonl");
    const shared = createJsonlTraceSink(path);
    const own = Array.from({ length: 3 }, () => createJsonlTraceSink(path));
    const sinks = [shared, shared, shared, ...own];
    const runtimes = await Promise.all(
      sinks.map((sink, index) =>
        LashRuntime.builder()
          .withSessionId(`session-${index}`)
          .withPolicy({ model: "mock-model", maxContextTokens: 200_000 })
          .withProvider(new ScriptedProvider([textStep("x".repeat(5000), { chunks: 50 }), textStep("second answer", { chunks: 5 })]))
          .withTraceSink(sink, "extended")
          .build(),
      ),
    );
    await Promise.all(
      runtimes.map(async (runtime) => {
        await runtime.runTurn("first");
        await runtime.runTurn("second");
      }),
    );
    await Promise.all([shared, ...own].map((sink) => sink.close()));

    const records: TraceRecord[] = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => traceRecordSchema.parse(JSON.parse(line)));
    const byTurn = new Map<string, TraceRecord[]>();
    for (const record of records) byTurn.set(record.turnId, [...(byTurn.get(record.turnId) ?? []), record]);
    expect(byTurn.size).toBe(runtimes.length * 2);
    for (const turn of byTurn.values()) {
      expect(turn[0]?.type).toBe("turn_started");
      expect(turn.at(-1)?.type).toBe("turn_completed");
      expect(new Set(turn.map((record) => record.sessionId)).size).toBe(1);
      expect(turn.filter((record) => record.type === "runtime_stream_event").length).toBeGreaterThan(0);
    }
    const sessions = new Set(records.map((record) => record.sessionId));
    expect(sessions.size).toBe(runtimes.length);
  });
});

describe("a JSONL trace written by several processes", () => {
  it("keeps every line whole and every writer's records in order", { timeout: 120_000 }, async () => {
    const path = join(directory, "multi-process.jsonl");
    const writers = ["w0", "w1", "w2", "w3"];
    await Promise.all(
      writers.map((writer) =>
        promisify(execFile)("pnpm", ["exec", "tsx", "--conditions=@lash/source", "src/observability/trace-writer.ts", path, writer, "60"], {
          cwd: examples,
        }),
      ),
    );
    const records = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => traceRecordSchema.parse(JSON.parse(line)));
    expect(records).toHaveLength(writers.length * 60);
    for (const writer of writers) {
      const indexes = records
        .filter((record) => record.sessionId === writer)
        .map((record) => (record.type === "commit" ? Number(record.commitId.split(":")[0]) : -1));
      expect(indexes).toEqual(Array.from({ length: 60 }, (_, index) => index));
    }
  });
});

describe("rxjs operators over a real turn", () => {
  it("give the running usage, the tool durations and one time to first token per call that showed text", async () => {
    const add = defineTool({
      name: "add",
      description: "Add two numbers.",
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => ({ sum: a + b }),
    });
    const runtime = await LashRuntime.builder()
      .withSessionId("operators")
      .withPolicy({ model: "mock-model", maxContextTokens: 200_000 })
      .withProvider(
        new ScriptedProvider([
          toolCallStep([{ callId: "call-1", name: "add", args: { a: 2, b: 3 } }], { text: "Adding.", usage: usage(100, 10) }),
          textStep("2 + 3 = 5.", { chunks: 3, usage: usage(120, 6, 64) }),
        ]),
      )
      .withTools([add])
      .build();
    const observed = observeTurn(runtime, textInput("What is 2 + 3?"));
    const [totals, durations, firstTokens, turn] = await Promise.all([
      firstValueFrom(observed.activities$.pipe(runningUsageTotals(), last())),
      firstValueFrom(observed.activities$.pipe(toolCallDurations(), toArray())),
      firstValueFrom(observed.activities$.pipe(timeToFirstToken(), toArray())),
      observed.result,
    ]);
    expect(totals).toMatchObject({ inputTokens: 220, outputTokens: 16, cachedInputTokens: 64, totalTokens: 236, contextTotalTokens: 300 });
    expect(totals.inputTokens).toBe(turn.tokenUsage.inputTokens);
    expect(durations).toEqual([{ callId: "call-1", name: "add", status: "success", durationMs: expect.any(Number) }]);
    expect(firstTokens.map((entry) => entry.modeIteration)).toEqual([0, 1]);
    expect(firstTokens.every((entry) => entry.ms >= 0)).toBe(true);
  });
});
