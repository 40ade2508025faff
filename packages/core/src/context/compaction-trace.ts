import type { LlmRequest, LlmStreamEvent, TraceRecord, TraceSink } from "@lash/protocol";
import { type TraceRecordBody, traceModelCall } from "../tracing/model-call-trace.js";
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
  const emit = (body: TraceRecordBody): void => {
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
  const trace = traceModelCall(
    emit,
    { callId: identity.callId, modeIteration: identity.modeIteration, provider: identity.provider, extended: false },
    request,
  );
  return {
    onStreamEvent: trace.onStreamEvent,
    finished: (result) => trace.finished(result.ok ? result : { ok: false, error: result.failure }),
  };
}
