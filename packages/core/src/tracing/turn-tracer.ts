import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { AssembledTurn, LlmRequest, TraceError, TraceLevel, TraceRecord, TraceSink, TurnActivity } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { nowIso } from "../session/ids.js";
import { type ModelCallTrace, type TraceRecordBody, traceModelCall } from "./model-call-trace.js";

/**
 * The SHA-256 of the last system prompts digested. A session sends the same prompt with every model
 * call, and a server's sessions of one profile share it: the digest is computed once, not per call.
 */
const promptDigests = new Map<string, string>();
const MAX_PROMPT_DIGESTS = 16;

function systemPromptDigest(systemPrompt: string): string {
  const known = promptDigests.get(systemPrompt);
  if (known !== undefined) return known;
  const digest = createHash("sha256").update(systemPrompt).digest("hex");
  if (promptDigests.size >= MAX_PROMPT_DIGESTS) promptDigests.delete(promptDigests.keys().next().value ?? "");
  promptDigests.set(systemPrompt, digest);
  return digest;
}

/** Which turn the records belong to. */
export interface TurnTraceIdentity {
  readonly sessionId: string;
  readonly turnId: string;
  readonly turnIndex: number;
  readonly provider: string;
  readonly model: string;
}

type RecordBody = TraceRecordBody;

function errorOf(error: unknown): TraceError {
  if (LashError.isInstance(error)) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error) };
}

function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<void>).then === "function";
}

/** The tracing of one model call of a turn: feed it the stream, then its result. */
export type LlmCallTrace = ModelCallTrace;

/**
 * Turns what happens in one turn into trace records for the runtime's `TraceSink`. Only created
 * when a sink is configured, so a runtime without one builds no records at all. A sink that throws
 * or rejects is ignored: tracing never changes how a turn runs or ends.
 */
export class TurnTracer {
  readonly #sink: TraceSink;
  readonly #level: TraceLevel;
  readonly #identity: TurnTraceIdentity;
  readonly #startedAt = performance.now();
  #llmCalls = 0;
  #toolCalls = 0;
  readonly #toolCallIds = new Map<string, string>();

  private constructor(sink: TraceSink, level: TraceLevel, identity: TurnTraceIdentity) {
    this.#sink = sink;
    this.#level = level;
    this.#identity = identity;
  }

  /** A tracer for the turn, or `undefined` when no sink is configured. */
  static start(sink: TraceSink | undefined, level: TraceLevel, identity: TurnTraceIdentity): TurnTracer | undefined {
    if (!sink) return undefined;
    const tracer = new TurnTracer(sink, level, identity);
    tracer.#emit({ type: "turn_started", turnIndex: identity.turnIndex, provider: identity.provider, model: identity.model });
    return tracer;
  }

  /**
   * Runs tracing work so that nothing it throws reaches the turn (a record that cannot be built is
   * lost, like one a sink drops): tracing never changes how a turn runs or ends.
   */
  #guarded(work: () => void): void {
    try {
      work();
    } catch {
      // Deliberately dropped: see the TraceSink contract.
    }
  }

  /** `body` is always a fresh object of the caller's: it becomes the record, rather than being copied into one. */
  #emit(body: RecordBody): void {
    const record = body as RecordBody & { timestamp: string; sessionId: string; turnId: string };
    record.timestamp = nowIso();
    record.sessionId = this.#identity.sessionId;
    record.turnId = this.#identity.turnId;
    try {
      const pending = this.#sink.record(record as TraceRecord);
      // A rejected write must not become an unhandled rejection; the sink's flush reports it.
      if (isPromiseLike(pending)) pending.then(undefined, () => undefined);
    } catch {
      // A throwing sink is the host's problem, never the turn's (see the TraceSink contract).
    }
  }

  promptBuilt(systemPrompt: string, messageCount: number, toolCount: number): void {
    this.#emit({
      type: "prompt_built",
      systemPromptSha256: systemPromptDigest(systemPrompt),
      systemPromptChars: systemPrompt.length,
      messageCount,
      toolCount,
    });
  }

  llmCall(modeIteration: number, request: LlmRequest): LlmCallTrace {
    this.#llmCalls += 1;
    return traceModelCall(
      (body) => this.#emit(body),
      {
        callId: `${this.#identity.turnId}:llm:${this.#llmCalls}`,
        modeIteration,
        provider: this.#identity.provider,
        extended: this.#level === "extended",
      },
      request,
    );
  }

  /** Traces tool calls from their `tool_call_started` / `tool_call_completed` activities. */
  onActivity(activity: TurnActivity): void {
    // Most activities are text: they leave before the guard's closure is made.
    if (activity.type !== "tool_call_started" && activity.type !== "tool_call_completed") return;
    this.#guarded(() => {
      if (activity.type === "tool_call_started") {
        // Started and completed share a correlation id (`tool:{callId}`), also for calls without an id.
        this.#toolCalls += 1;
        const callId = activity.callId ?? `${this.#identity.turnId}:tool:${this.#toolCalls}`;
        this.#toolCallIds.set(activity.correlationId, callId);
        this.#emit({
          type: "tool_call_started",
          callId,
          toolName: activity.name,
          ...(this.#level === "extended" ? { args: activity.args } : {}),
        });
      } else if (activity.type === "tool_call_completed") {
        const callId =
          this.#toolCallIds.get(activity.correlationId) ?? activity.callId ?? `${this.#identity.turnId}:tool:${activity.correlationId}`;
        this.#toolCallIds.delete(activity.correlationId);
        this.#emit({
          type: "tool_call_completed",
          callId,
          toolName: activity.name,
          status: activity.output.outcome.status,
          durationMs: activity.durationMs,
        });
      }
    });
  }

  /** Runs a commit and records how it went (the error still propagates). */
  async commit(commitId: string, run: () => Promise<void>): Promise<void> {
    const startedAt = performance.now();
    try {
      await run();
    } catch (error) {
      this.#emit({ type: "commit", commitId, ok: false, durationMs: Math.max(0, performance.now() - startedAt), error: errorOf(error) });
      throw error;
    }
    this.#emit({ type: "commit", commitId, ok: true, durationMs: Math.max(0, performance.now() - startedAt) });
  }

  turnCompleted(turn: AssembledTurn): void {
    this.#emit({
      type: "turn_completed",
      turnIndex: this.#identity.turnIndex,
      model: this.#identity.model,
      durationMs: Math.max(0, performance.now() - this.#startedAt),
      outcome: turn.outcome,
      usage: { ...turn.tokenUsage },
    });
  }

  turnFailed(error: unknown, usage: AssembledTurn["tokenUsage"]): void {
    this.#emit({
      type: "turn_completed",
      turnIndex: this.#identity.turnIndex,
      model: this.#identity.model,
      durationMs: Math.max(0, performance.now() - this.#startedAt),
      usage: { ...usage },
      error: errorOf(error),
    });
  }
}
