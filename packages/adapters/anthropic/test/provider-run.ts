import type { LlmRequest, LlmResponse, LlmStreamEvent, ModelProvider, ProviderFailure } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";

/** What one `doStream` call produced. */
export interface ProviderRun {
  readonly events: LlmStreamEvent[];
  readonly response: LlmResponse | undefined;
  /** The error the call threw, if any. */
  readonly error: unknown;
}

/** Consumes one `doStream` call completely, keeping what it streamed even when it fails. */
export async function runProvider(
  provider: ModelProvider,
  request: LlmRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<ProviderRun> {
  if (provider.doStream === undefined) throw new Error("the provider has no doStream");
  const events: LlmStreamEvent[] = [];
  let response: LlmResponse | undefined;
  try {
    for await (const part of provider.doStream(request, { signal })) {
      if (part.type === "response") response = part.response;
      else events.push(part);
    }
  } catch (error) {
    return { events, response, error };
  }
  return { events, response, error: undefined };
}

/** The classified failure of a run that must have failed with a `ProviderCallError`. */
export function failureOf(run: ProviderRun): ProviderFailure {
  if (!ProviderCallError.isInstance(run.error)) {
    throw new Error(
      `expected a ProviderCallError, got ${run.error instanceof Error ? `${run.error.name}: ${run.error.message}` : String(run.error)}`,
    );
  }
  return run.error.failure;
}

/** A one-message request. */
export function userRequest(text: string, overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    model: "claude-sonnet-4-20250514",
    messages: [{ role: "user", blocks: [{ type: "text", text }] }],
    attachments: [],
    tools: [],
    toolChoice: "auto",
    ...overrides,
  };
}
