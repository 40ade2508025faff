import { performance } from "node:perf_hooks";
import type { LlmRequest, LlmStreamEvent, TraceRecord, TraceSink } from "@lash/protocol";
import { StreamSummaryBuilder } from "../tracing/stream-summary.js";
import type { ProviderCallResult } from "../turn/provider-call.js";

/** Which call a compaction trace belongs to. */
export interface CompactionTraceIdentity {
  readonly sessionId: string;
  /** The turn the compaction ran in, or `compact:<uuid>` for `runtime.compact()`. */
  readonly turnId: string;
  /** `{turnId}:compaction:{n}`: apart from the turn's own `{turnId}:llm:{n}` calls. */
  readonly callId: string;
  readonly modeIteration: number;
  readonly provider: string;
}

/** The tracing of one compaction call: feed it the stream, then its result. */
export interface CompactionTrace {
  readonly onStreamEvent: (event: LlmStreamEvent) => void;
  finished(result: ProviderCallResult): void;
}

type Body = TraceRecord extends infer R ? (R extends TraceRecord ? Omit<R, "timestamp" | "sessionId" | "turnId"> : never) : never;

/**
 * Traces a compaction's model call with the records of any model call (`llm_call_started`, then
 * `llm_call_completed` or `llm_call_failed`, with retries), so usage and latency reports see it.
 * A sink that throws is ignored, as for every trace record.
 */
export function traceCompactionCall(
  sink: TraceSink | undefined,
  identity: CompactionTraceIdentity,
  request: LlmRequest,
): CompactionTrace | undefined {
  if (sink === undefined) return undefined;
  const emit = (body: Body): void => {
    try {
      const pending = sink.record({
        ...body,
        timestamp: new Date().toISOString(),
        sessionId: identity.sessionId,
        turnId: identity.turnId,
      } as TraceRecord);
      if (pending !== undefined && typeof (pending as Promise<void>).then === "function")
        (pending as Promise<void>).then(undefined, () => undefined);
    } catch {
      // A throwing sink never changes what the runtime does (see the TraceSink contract).
    }
  };
  const { callId, modeIteration } = identity;
  const startedAt = performance.now();
  const summary = new StreamSummaryBuilder(startedAt);
  emit({
    type: "llm_call_started",
    callId,
    modeIteration,
    request: { provider: identity.provider, model: request.model, messageCount: request.messages.length, toolCount: request.tools.length },
  });
  return {
    onStreamEvent(event) {
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
    },
    finished(result) {
      const durationMs = Math.max(0, performance.now() - startedAt);
      if (result.ok) {
        emit({
          type: "llm_call_completed",
          callId,
          modeIteration,
          model: request.model,
          durationMs,
          usage: { ...result.response.usage },
          terminalReason: result.response.terminalReason,
          streamSummary: summary.summary(),
        });
        return;
      }
      const { failure } = result;
      emit({
        type: "llm_call_failed",
        callId,
        modeIteration,
        model: request.model,
        durationMs,
        error: {
          message: failure.message,
          ...(failure.code === undefined ? {} : { code: failure.code }),
          retryable: failure.retryable,
          terminalReason: failure.terminalReason,
        },
        streamSummary: summary.summary(),
      });
    },
  };
}
