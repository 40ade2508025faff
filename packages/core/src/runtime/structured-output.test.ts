import type { StandardSchemaV1 } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createRuntime, echoTool } from "../../test/fixtures.js";

const forecast = z.object({ city: z.string(), celsius: z.number(), rain: z.boolean().default(false) });

describe("structured output", () => {
  it("sends the schema with every model call and gives the validated, typed output", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [
        toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "Paris" } }], { usage: usage(10, 2) }),
        textStep('{"city":"Paris","celsius":14}', { chunks: 3, usage: usage(20, 5) }),
      ],
      tools: [echoTool],
    });
    const turn = runtime.streamTurn("Weather in Paris?", { output: forecast });
    const result = await turn;

    expectTypeOf(result.output).toEqualTypeOf<{ city: string; celsius: number; rain: boolean } | undefined>();
    expect(result.output).toEqual({ city: "Paris", celsius: 14, rain: false });
    expect(result.outcome.type).toBe("finished");
    expect(provider.requests).toHaveLength(2);
    for (const request of provider.requests) {
      expect(request.outputSpec).toMatchObject({ type: "json_schema", name: "output", strict: false });
      expect(request.outputSpec?.type === "json_schema" && request.outputSpec.schema).toMatchObject({
        type: "object",
        properties: { city: { type: "string" }, celsius: { type: "number" } },
      });
    }
  });

  it("sends an answer the schema refuses back to the model once, then takes the fixed one", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [textStep('{"city":"Paris"}', { usage: usage(10, 3) }), textStep('{"city":"Paris","celsius":14}', { usage: usage(30, 4) })],
    });
    const result = await runtime.runTurn("Weather in Paris?", { output: { schema: forecast, name: "forecast" } });

    expect(result.outcome.type).toBe("finished");
    expect(result.output).toEqual({ city: "Paris", celsius: 14, rain: false });
    expect(provider.requests[1]?.outputSpec).toMatchObject({ name: "forecast" });
    const repair = provider.requests[1]?.messages.at(-1);
    expect(repair?.role).toBe("user");
    expect(JSON.stringify(repair)).toMatch(/does not match the required output schema: .*celsius/);
    expect(result.errors).toEqual([expect.objectContaining({ code: "invalid_output" })]);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 40, outputTokens: 7 });
  });

  it("ends stopped invalid_output when the repairs run out, with the usage and the issue kept", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [textStep("It will be sunny.", { usage: usage(10, 3) }), textStep('{"celsius":"warm"}', { usage: usage(12, 3) })],
    });
    const result = await runtime.runTurn("Weather?", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });
    expect(result.output).toBeUndefined();
    expect(provider.callCount).toBe(2);
    expect(result.errors.at(-1)).toMatchObject({ kind: "output_validation", code: "invalid_output" });
    expect(result.errors.at(-1)?.message).toMatch(/city|celsius/);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 22, outputTokens: 6 });
  });

  it("stops at once with repairAttempts 0, and unwraps a lone fenced JSON block", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("not json")] });
    const stopped = await runtime.runTurn("Weather?", { output: { schema: forecast, repairAttempts: 0 } });
    expect(stopped.outcome).toEqual({ type: "stopped", stop: { type: "invalid_output" } });

    const { runtime: fenced } = await createRuntime({ steps: [textStep('```json\n{"city":"Oslo","celsius":-3,"rain":true}\n```')] });
    expect((await fenced.runTurn("Weather?", { output: forecast })).output).toEqual({ city: "Oslo", celsius: -3, rain: true });
  });

  it("refuses an output schema that gives no JSON Schema before the turn starts", async () => {
    const opaque: StandardSchemaV1<unknown, string> = {
      "~standard": { version: 1, vendor: "opaque", validate: (value) => ({ value: String(value) }) },
    };
    const { runtime, provider } = await createRuntime({ steps: [textStep("never")] });
    const error = await runtime.runTurn("hi", { output: opaque }).catch((caught: unknown) => caught);
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    expect(String((error as Error).message)).toMatch(/output schema/);
    expect(provider.callCount).toBe(0);
  });
});

describe("provider refusals and unknown finish reasons", () => {
  it("ends a refused answer stopped, with the refusal text in a content_filter issue and its usage counted", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [
        {
          response: {
            fullText: "",
            parts: [],
            usage: usage(9, 4),
            terminalReason: "content_filter",
            terminalDiagnostic: "I'm sorry, I cannot help with that.",
          },
        },
      ],
    });
    const result = await runtime.runTurn("Do something bad", { output: forecast });

    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toEqual([
      expect.objectContaining({ kind: "llm_provider", code: "content_filter", message: "I'm sorry, I cannot help with that." }),
    ]);
    expect(provider.callCount).toBe(1);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 9, outputTokens: 4 });
  });

  it("does not take the text of a call with an unknown finish reason as the answer", async () => {
    const { runtime } = await createRuntime({
      steps: [
        {
          response: {
            fullText: "Half an ans",
            parts: [{ type: "text", text: "Half an ans" }],
            usage: usage(5, 2),
            terminalReason: "unknown",
          },
        },
      ],
    });
    const result = await runtime.runTurn("Explain");
    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(result.errors).toEqual([expect.objectContaining({ kind: "llm_provider", code: "unknown" })]);
  });
});
