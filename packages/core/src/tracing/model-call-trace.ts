import { performance } from "node:perf_hooks";
import type { LlmRequest, LlmResponse, LlmStreamEvent, TokenUsage, TraceRecord } from "@lash/protocol";
import type { LlmCallError } from "../turn/turn-machine-types.js";
import { StreamSummaryBuilder } from "./stream-summary.js";

/** A trace record without what the emitter adds (time, session and turn ids). */
export type TraceRecordBody = TraceRecord extends infer R
  ? R extends TraceRecord
    ? Omit<R, "timestamp" | "sessionId" | "turnId">
    : never
  : never;

/** How one model call ended, as its trace reads it (a turn's call result and a compaction's both fit). */
export type ModelCallOutcome =
  | { readonly ok: true; readonly response: LlmResponse }
  | { readonly ok: false; readonly error: LlmCallError; readonly partialUsage?: TokenUsage };

/** The tracing of one model call: feed it the stream, then its result. */
export interface ModelCallTrace {
  readonly onStreamEvent: (event: LlmStreamEvent) => void;
  finished(result: ModelCallOutcome): void;
}

/** Which call, and how much of its stream the records carry. */
export interface ModelCallTraceOptions {
  readonly callId: string;
  readonly modeIteration: number;
  readonly provider: string;
  /** `extended` trace level: every stream event as a `runtime_stream_event` record too. */
  readonly extended: boolean;
}

/** Runs tracing work so that nothing it throws reaches the caller: tracing never changes how a call runs. */
function guarded(work: () => void): void {
  try {
    work();
  } catch {
    // Deliberately dropped: see the TraceSink contract.
  }
}

/**
 * The records of one model call, the same for a turn's calls and a compaction's: `llm_call_started`
 * now, `llm_retry` per retry, then `llm_call_completed` or `llm_call_failed` with the stream's
 * summary. `emit` adds the record's time and ids and never throws.
 */
export function traceModelCall(emit: (body: TraceRecordBody) => void, options: ModelCallTraceOptions, request: LlmRequest): ModelCallTrace {
  const { callId, modeIteration, extended } = options;
  const startedAt = performance.now();
  const summary = new StreamSummaryBuilder(startedAt);
  const model = request.model;
  emit({
    type: "llm_call_started",
    callId,
    modeIteration,
    request: { provider: options.provider, model, messageCount: request.messages.length, toolCount: request.tools.length },
  });
  return {
    // Called for every event of the stream: the guard is written out rather than a closure per event.
    onStreamEvent: (event) => {
      try {
        const now = performance.now();
        if (event.type === "retry_status") {
          emit({
            type: "llm_retry",
            callId,
            attempt: event.attempt,
            maxAttempts: event.maxAttempts,
            waitSeconds: event.waitSeconds,
            reason: event.reason,
          });
          summary.reset(now);
          return;
        }
        summary.push(event, now);
        if (!extended) return;
        const name = event.type === "part" ? `${event.part.type}_part` : event.type;
        const raw =
          event.type === "delta" || event.type === "reasoning_delta"
            ? event.text
            : event.type === "part"
              ? event.part.type === "tool_call"
                ? event.part.inputJson
                : event.part.text
              : undefined;
        emit({
          type: "runtime_stream_event",
          callId,
          event: name,
          ...(raw === undefined ? {} : { raw }),
          offsetMs: Math.max(0, now - startedAt),
        });
      } catch {
        // Deliberately dropped: see the TraceSink contract.
      }
    },
    finished: (result) =>
      guarded(() => {
        const durationMs = Math.max(0, performance.now() - startedAt);
        if (result.ok) {
          emit({
            type: "llm_call_completed",
            callId,
            modeIteration,
            model,
            durationMs,
            usage: { ...result.response.usage },
            terminalReason: result.response.terminalReason,
            streamSummary: summary.summary(),
          });
          return;
        }
        const { error } = result;
        emit({
          type: "llm_call_failed",
          callId,
          modeIteration,
          model,
          durationMs,
          error: {
            message: error.message,
            ...(error.code === undefined ? {} : { code: error.code }),
            ...(error.raw === undefined ? {} : { raw: error.raw }),
            retryable: error.retryable,
            terminalReason: error.terminalReason,
          },
          ...(result.partialUsage ? { partialUsage: { ...result.partialUsage } } : {}),
          streamSummary: summary.summary(),
        });
      }),
  };
}
