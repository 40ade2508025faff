import { LashRuntime } from "@lash/core";
import type { ModelProvider, ProviderRetryPolicy, ToolDefinition, TurnActivity } from "@lash/protocol";
import { z } from "zod";

/**
 * Retries on, with waits of a millisecond: a test that expects one request proves the call was not
 * retried, instead of passing because retries were off.
 */
export const FAST_RETRIES: ProviderRetryPolicy = {
  enabled: true,
  maxAttempts: 3,
  baseDelayMs: 1,
  maxDelayMs: 1,
  jitterMs: 0,
  retryAfterCapMs: 1,
};

/** The structured output the runtime tests ask for. */
export const forecast = z.object({ city: z.string(), celsius: z.number() });

/** A runtime of one session over `provider`, with its model named `m` and `tools`. */
export function runtimeOver(provider: ModelProvider, tools: readonly ToolDefinition<unknown>[] = []): Promise<LashRuntime> {
  return LashRuntime.builder().withSessionId("s").withModel("m").withProvider(provider).withTools(tools).build();
}

/** Collects a turn's activities. */
export function activityLog(): { readonly activities: TurnActivity[]; readonly sink: { emit(activity: TurnActivity): void } } {
  const activities: TurnActivity[] = [];
  return { activities, sink: { emit: (activity) => void activities.push(activity) } };
}

/** The streamed prose of a turn. */
export function proseOf(activities: readonly TurnActivity[]): string {
  return activities.flatMap((activity) => (activity.type === "text_delta" ? [activity.text] : [])).join("");
}

/** The text of the last message of a recorded Chat or Responses request (the repair message, in a repaired turn). */
export function lastMessageText(body: unknown): string {
  const record = body as { messages?: unknown[]; input?: unknown[] };
  const last = (record.messages ?? record.input ?? []).at(-1);
  return JSON.stringify(last ?? null);
}
