// Shared fixtures for the adapter's tests: stream parts, usage records, mock models of both
// generations, and a way to drive a provider's `doStream` to its end.
//
// The parts built here have the shapes `"v3"` and `"v4"` share, typed narrowly enough to fit the
// stream part types of both (`LanguageModelV3StreamPart` from `@ai-sdk/provider-v3`,
// `LanguageModelV4StreamPart` from `@ai-sdk/provider`).
import type { LanguageModelV4StreamPart } from "@ai-sdk/provider";
import type { LanguageModelV3FinishReason, LanguageModelV3StreamPart, LanguageModelV3Usage } from "@ai-sdk/provider-v3";
import type { LlmRequest, LlmResponse, LlmStreamEvent, ModelProvider } from "@lash/protocol";
import { llmRequestSchema } from "@lash/protocol";
import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { MockLanguageModelV3 } from "ai-v6/test";

/** An AI SDK generation, by its models' specification version: AI SDK 7 is "v4", AI SDK 6 "v3". */
export type Generation = "v3" | "v4";

/**
 * A usage record. Its shape is the same in both generations; `"v3"`'s JSON type (for `raw`) is the
 * narrower one, so a `"v3"` record fits both.
 */
export type Usage = LanguageModelV3Usage;

/** A unified finish reason both generations know (`"v4"` adds `interrupted`). */
export type UnifiedFinishReason = LanguageModelV3FinishReason["unified"];

export interface FinishPart {
  type: "finish";
  finishReason: LanguageModelV3FinishReason;
  usage: Usage;
}

/** A stream part with a shape both generations share (assignable to the part types of both). */
export type SharedStreamPart = LanguageModelV3StreamPart & LanguageModelV4StreamPart;

export type TextPart =
  | { type: "text-start"; id: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "text-end"; id: string };

/** A usage record with every field set (cache writes and text tokens derived). */
export function usageOf(
  input: number,
  output: number,
  details: { cacheRead?: number; cacheWrite?: number; reasoning?: number } = {},
): Usage {
  const cacheRead = details.cacheRead ?? 0;
  const cacheWrite = details.cacheWrite ?? 0;
  const reasoning = details.reasoning ?? 0;
  return {
    inputTokens: { total: input, noCache: input - cacheRead - cacheWrite, cacheRead, cacheWrite },
    outputTokens: { total: output, text: output - reasoning, reasoning },
  };
}

export function finishReason(unified: UnifiedFinishReason, raw?: string): LanguageModelV3FinishReason {
  return { unified, raw };
}

/** A `finish` part. */
export function finishPart(unified: UnifiedFinishReason = "stop", usage: Usage = usageOf(10, 5)): FinishPart {
  return { type: "finish", finishReason: finishReason(unified), usage };
}

/** The parts of one text block streamed in `pieces`. */
export function textParts(id: string, pieces: readonly string[]): TextPart[] {
  return [{ type: "text-start", id }, ...pieces.map((delta): TextPart => ({ type: "text-delta", id, delta })), { type: "text-end", id }];
}

interface ModelSettings {
  provider?: string;
  modelId?: string;
}

/** Answers the n-th call with the n-th list of parts. */
function replies<Part>(calls: ReadonlyArray<readonly Part[]>): () => Promise<{ stream: ReadableStream<Part> }> {
  let index = 0;
  return async () => {
    const parts = calls[index];
    index += 1;
    if (parts === undefined) throw new Error(`unexpected doStream call #${index}`);
    return { stream: convertArrayToReadableStream([...parts]) };
  };
}

/** An AI SDK 7 (`"v4"`) mock model that answers its n-th `doStream` call with the n-th list of parts. */
export function streamingModel(
  calls: ReadonlyArray<readonly LanguageModelV4StreamPart[]>,
  settings: ModelSettings = {},
): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    provider: settings.provider ?? "mock-provider",
    modelId: settings.modelId ?? "mock-model-id",
    doStream: replies(calls),
  });
}

/** An AI SDK 6 (`"v3"`) mock model that answers its n-th `doStream` call with the n-th list of parts. */
export function streamingModelV3(
  calls: ReadonlyArray<readonly LanguageModelV3StreamPart[]>,
  settings: ModelSettings = {},
): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    provider: settings.provider ?? "mock-provider",
    modelId: settings.modelId ?? "mock-model-id",
    doStream: replies(calls),
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
export async function runStream(
  provider: ModelProvider,
  request: LlmRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<StreamOutcome> {
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
