import type { TokenUsage, TraceRecord, TraceSink } from "@lash/protocol";
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

export interface OpenTelemetryTraceSinkOptions {
  /** The agent name put in `gen_ai.agent.name` and in the turn span's name (default `"lash"`). */
  readonly agentName?: string;
}

type Of<T extends TraceRecord["type"]> = Extract<TraceRecord, { type: T }>;

function usageAttributes(usage: TokenUsage): Attributes {
  return {
    "gen_ai.usage.input_tokens": usage.inputTokens,
    "gen_ai.usage.output_tokens": usage.outputTokens + usage.reasoningTokens,
    "gen_ai.usage.cache_read.input_tokens": usage.cachedInputTokens,
    "lash.usage.reasoning_tokens": usage.reasoningTokens,
  };
}

/**
 * A `TraceSink` that turns trace records into OpenTelemetry spans following the GenAI semantic
 * conventions: one `invoke_agent` span per turn (`gen_ai.conversation.id` = session id), a child
 * `chat {model}` span per model call (request model, usage, finish reason, time to first token) and
 * a child `execute_tool {name}` span per tool call. Spans take their start and end times from the
 * records. Failed calls and turns that failed get an `ERROR` status and `error.type`.
 *
 * Only `@opentelemetry/api` is used: bring your own SDK and exporter, and pass its tracer. Lives in
 * the `@lash/observability/opentelemetry` entry so hosts without OpenTelemetry never load it.
 */
export function createOpenTelemetryTraceSink(tracer: Tracer, options: OpenTelemetryTraceSinkOptions = {}): TraceSink {
  const agentName = options.agentName ?? "lash";
  const turns = new Map<string, { span: Span; provider: string; children: Map<string, Span> }>();
  const turnKey = (record: TraceRecord): string => `${record.sessionId}\u0000${record.turnId}`;
  const time = (record: TraceRecord): Date => new Date(record.timestamp);

  const child = (record: TraceRecord, name: string, kind: SpanKind, attributes: Attributes, key: string): void => {
    const turn = turns.get(turnKey(record));
    const parent = turn ? trace.setSpan(ROOT_CONTEXT, turn.span) : ROOT_CONTEXT;
    const span = tracer.startSpan(name, { kind, attributes, startTime: time(record) }, parent);
    turn?.children.set(key, span);
  };
  const endChild = (record: TraceRecord, key: string, apply: (span: Span) => void): void => {
    const turn = turns.get(turnKey(record));
    const span = turn?.children.get(key);
    if (!turn || !span) return;
    turn.children.delete(key);
    apply(span);
    span.end(time(record));
  };

  const handlers: { [K in TraceRecord["type"]]?: (record: Of<K>) => void } = {
    turn_started: (record) => {
      const span = tracer.startSpan(
        `invoke_agent ${agentName}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: time(record),
          attributes: {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agentName,
            "gen_ai.conversation.id": record.sessionId,
            "gen_ai.provider.name": record.provider,
            "gen_ai.request.model": record.model,
            "lash.turn.id": record.turnId,
            "lash.turn.index": record.turnIndex,
          },
        },
        ROOT_CONTEXT,
      );
      turns.set(turnKey(record), { span, provider: record.provider, children: new Map() });
    },
    prompt_built: (record) => {
      turns.get(turnKey(record))?.span.addEvent(
        "lash.prompt_built",
        {
          "lash.prompt.sha256": record.systemPromptSha256,
          "lash.prompt.chars": record.systemPromptChars,
          "lash.prompt.tool_count": record.toolCount,
        },
        time(record),
      );
    },
    llm_call_started: (record) =>
      child(
        record,
        `chat ${record.request.model}`,
        SpanKind.CLIENT,
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": record.request.provider,
          "gen_ai.request.model": record.request.model,
          "lash.mode_iteration": record.modeIteration,
        },
        `llm:${record.callId}`,
      ),
    llm_call_completed: (record) =>
      endChild(record, `llm:${record.callId}`, (span) => {
        span.setAttributes({
          ...usageAttributes(record.usage),
          "gen_ai.response.model": record.model,
          "gen_ai.response.finish_reasons": [record.terminalReason],
          "lash.stream.chunk_count": record.streamSummary.visibleChunkCount,
        });
        if (record.streamSummary.firstTokenLatencyMs !== null)
          span.setAttribute("lash.time_to_first_token_ms", record.streamSummary.firstTokenLatencyMs);
      }),
    llm_call_failed: (record) =>
      endChild(record, `llm:${record.callId}`, (span) => {
        span.setAttribute("error.type", record.error.code ?? "provider_error");
        if (record.partialUsage) span.setAttributes(usageAttributes(record.partialUsage));
        span.setStatus({ code: SpanStatusCode.ERROR, message: record.error.message });
      }),
    llm_retry: (record) => {
      turns
        .get(turnKey(record))
        ?.children.get(`llm:${record.callId}`)
        ?.addEvent(
          "lash.retry",
          { "lash.retry.attempt": record.attempt, "lash.retry.max_attempts": record.maxAttempts, "lash.retry.reason": record.reason },
          time(record),
        );
    },
    tool_call_started: (record) =>
      child(
        record,
        `execute_tool ${record.toolName}`,
        SpanKind.INTERNAL,
        {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": record.toolName,
          "gen_ai.tool.call.id": record.callId,
        },
        `tool:${record.callId}`,
      ),
    tool_call_completed: (record) =>
      endChild(record, `tool:${record.callId}`, (span) => {
        span.setAttribute("lash.tool.status", record.status);
        if (record.status !== "success") {
          span.setAttribute("error.type", record.status);
          span.setStatus({ code: SpanStatusCode.ERROR, message: `tool call ${record.status}` });
        }
      }),
    commit: (record) => {
      turns
        .get(turnKey(record))
        ?.span.addEvent("lash.commit", { "lash.commit.id": record.commitId, "lash.commit.ok": record.ok }, time(record));
    },
    turn_completed: (record) => {
      const key = turnKey(record);
      const turn = turns.get(key);
      if (!turn) return;
      turns.delete(key);
      // A call or tool still open when its turn ended (the turn failed mid-way) ends with the turn.
      for (const span of turn.children.values()) span.end(time(record));
      turn.span.setAttributes({ ...usageAttributes(record.usage), "lash.turn.outcome": record.outcome?.type ?? "error" });
      if (record.outcome?.type === "stopped") turn.span.setAttribute("lash.turn.stop", record.outcome.stop.type);
      if (record.error) {
        turn.span.setAttribute("error.type", record.error.code ?? "error");
        turn.span.setStatus({ code: SpanStatusCode.ERROR, message: record.error.message });
      }
      turn.span.end(time(record));
    },
  };

  return {
    record(record: TraceRecord): void {
      const handler = handlers[record.type] as ((record: TraceRecord) => void) | undefined;
      handler?.(record);
    },
  };
}
