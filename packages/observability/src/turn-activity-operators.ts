import type { TokenUsage, TurnActivity } from "@lash/protocol";
import type { OperatorFunction } from "rxjs";
import { Observable } from "rxjs";
import { type UsageTotals, usageTotalsOf } from "./usage-report.js";

/**
 * Running token totals over a stream of activities (one turn or many): after each `usage` activity
 * (the call's own usage) and each `child_usage` activity (a child session's delta) it emits the sum
 * so far. Other activities emit nothing.
 */
export function runningUsageTotals(): OperatorFunction<TurnActivity, UsageTotals> {
  return (source) =>
    new Observable<UsageTotals>((subscriber) => {
      const sum: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
      return source.subscribe({
        next: (activity) => {
          if (activity.type !== "usage" && activity.type !== "child_usage") return;
          sum.inputTokens += activity.usage.inputTokens;
          sum.outputTokens += activity.usage.outputTokens;
          sum.cachedInputTokens += activity.usage.cachedInputTokens;
          sum.reasoningTokens += activity.usage.reasoningTokens;
          subscriber.next(usageTotalsOf(sum));
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/** One finished tool call and how long the tool ran. */
export interface ToolCallDuration {
  readonly callId: string | undefined;
  readonly name: string;
  readonly status: "success" | "failure" | "cancelled";
  /** The runtime's own measurement of the tool (from `tool_call_completed`). */
  readonly durationMs: number;
}

/** Emits one `ToolCallDuration` per `tool_call_completed` activity. */
export function toolCallDurations(): OperatorFunction<TurnActivity, ToolCallDuration> {
  return (source) =>
    new Observable<ToolCallDuration>((subscriber) =>
      source.subscribe({
        next: (activity) => {
          if (activity.type !== "tool_call_completed") return;
          subscriber.next({
            callId: activity.callId,
            name: activity.name,
            status: activity.output.outcome.status,
            durationMs: activity.durationMs,
          });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}

/** How long one model call took to show its first visible token. */
export interface TimeToFirstToken {
  readonly modeIteration: number;
  readonly ms: number;
}

export interface TimeToFirstTokenOptions {
  /** The clock in milliseconds (default `performance.now`); pass a fake one in tests. */
  readonly now?: () => number;
}

/**
 * Measures, on arrival, the time from each `model_request_started` activity to the first prose or
 * reasoning delta after it, and emits it once per model call. A call that shows no text emits
 * nothing. The measurement is the subscriber's view, so it includes sink delivery delays.
 */
export function timeToFirstToken(options: TimeToFirstTokenOptions = {}): OperatorFunction<TurnActivity, TimeToFirstToken> {
  const now = options.now ?? (() => performance.now());
  return (source) =>
    new Observable<TimeToFirstToken>((subscriber) => {
      let pending: { modeIteration: number; startedAt: number } | undefined;
      return source.subscribe({
        next: (activity) => {
          if (activity.type === "model_request_started") {
            pending = { modeIteration: activity.modeIteration, startedAt: now() };
            return;
          }
          if (pending && (activity.type === "text_delta" || activity.type === "reasoning_delta") && activity.text !== "") {
            const { modeIteration, startedAt } = pending;
            pending = undefined;
            subscriber.next({ modeIteration, ms: Math.max(0, now() - startedAt) });
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
