// One scripted turn with a tool call, traced as OpenTelemetry spans through the SDK's in-memory
// exporter. Prints the finished spans as JSON (name, parent, kind, attributes, status), one per line.
//
//   pnpm exec tsx --conditions=@lash/source src/observability/opentelemetry-spans.ts

import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool, LashRuntime } from "@lash/core";
import { createOpenTelemetryTraceSink } from "@lash/observability/opentelemetry";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { z } from "zod";

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const add = defineTool({
  name: "add",
  description: "Add two numbers.",
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

const runtime = await LashRuntime.builder()
  .withSessionId("otel-demo")
  .withModel("gpt-4o")
  .withProvider(
    new ScriptedProvider(
      [
        toolCallStep([{ callId: "call-1", name: "add", args: { a: 2, b: 3 } }], { usage: usage(100, 10) }),
        textStep("5", { chunks: 1, usage: usage(120, 2, 64) }),
      ],
      { providerId: "openai" },
    ),
  )
  .withTools([add])
  .withTraceSink(createOpenTelemetryTraceSink(tracerProvider.getTracer("lash-example"), { agentName: "calculator" }))
  .build();

await runtime.runTurn("What is 2 + 3?");
await tracerProvider.forceFlush();

for (const span of exporter.getFinishedSpans()) {
  console.log(
    JSON.stringify({
      name: span.name,
      spanId: span.spanContext().spanId,
      traceId: span.spanContext().traceId,
      parentSpanId: span.parentSpanContext?.spanId ?? null,
      kind: span.kind,
      attributes: span.attributes,
      status: span.status,
    }),
  );
}
