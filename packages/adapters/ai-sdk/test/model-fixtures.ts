// Shared fixtures for the adapter's tests: V3 stream parts, usage records, and a way to drive a
// provider's `doStream` to its end.
import type {
  LanguageModelV3FinishReason,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";
import type { LlmRequest, LlmResponse, LlmStreamEvent, ModelProvider } from "@lash/protocol";
import { llmRequestSchema } from "@lash/protocol";
import { convertArrayToReadableStream, MockLanguageModelV3 } from "ai/test";

/** A V3 usage record with every field set (cache writes and text tokens derived). */
export function usageV3(
  input: number,
  output: number,
  details: { cacheRead?: number; cacheWrite?: number; reasoning?: number } = {},
): LanguageModelV3Usage {
  const cacheRead = details.cacheRead ?? 0;
  const cacheWrite = details.cacheWrite ?? 0;
  const reasoning = details.reasoning ?? 0;
  return {
    inputTokens: { total: input, noCache: input - cacheRead - cacheWrite, cacheRead, cacheWrite },
    outputTokens: { total: output, text: output - reasoning, reasoning },
  };
}

export function finishReason(unified: LanguageModelV3FinishReason["unified"], raw?: string): LanguageModelV3FinishReason {
  return { unified, raw };
}

/** A `finish` part. */
export function finishPart(
  unified: LanguageModelV3FinishReason["unified"] = "stop",
  usage: LanguageModelV3Usage = usageV3(10, 5),
): LanguageModelV3StreamPart {
  return { type: "finish", finishReason: finishReason(unified), usage };
}

/** The parts of one text block streamed in `pieces`. */
export function textParts(id: string, pieces: readonly string[]): LanguageModelV3StreamPart[] {
  return [
    { type: "text-start", id },
    ...pieces.map((delta): LanguageModelV3StreamPart => ({ type: "text-delta", id, delta })),
    { type: "text-end", id },
  ];
}

/** A mock model that answers its n-th `doStream` call with the n-th list of parts. */
export function streamingModel(
  calls: ReadonlyArray<readonly LanguageModelV3StreamPart[]>,
  settings: { provider?: string; modelId?: string } = {},
): MockLanguageModelV3 {
  let index = 0;
  return new MockLanguageModelV3({
    provider: settings.provider ?? "mock-provider",
    modelId: settings.modelId ?? "mock-model-id",
    doStream: async () => {
      const parts = calls[index];
      index += 1;
      if (parts === undefined) throw new Error(`unexpected doStream call #${index}`);
      return { stream: convertArrayToReadableStream([...parts]) };
    },
  });
}

/** A request as the runtime would send it (defaults filled in by the schema). */
export function lashRequest(partial: Partial<LlmRequest> = {}): LlmRequest {
  return llmRequestSchema.parse({
    model: "mock-model-id",
    messages: [{ role: "user", blocks: [{ type: "text", text: "Hello" }] }],
    ...partial,
  });
}

export interface StreamOutcome {
  readonly events: LlmStreamEvent[];
  readonly response: LlmResponse;
}

/** Drives `provider.doStream` to its end: the streamed events, and the final response. */
export async function runStream(provider: ModelProvider, request: LlmRequest, signal: AbortSignal = new AbortController().signal): Promise<StreamOutcome> {
  if (provider.doStream === undefined) throw new Error("the provider does not implement doStream");
  const events: LlmStreamEvent[] = [];
  let response: LlmResponse | undefined;
  for await (const part of provider.doStream(request, { signal })) {
    if (part.type === "response") response = part.response;
    else events.push(part);
  }
  if (response === undefined) throw new Error("the stream ended without a response");
  return { events, response };
}

/** What a call threw (fails the test when it did not throw). */
export async function thrownBy(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}
