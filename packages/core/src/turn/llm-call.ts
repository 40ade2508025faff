import type {
  AttachmentStore,
  LlmAttachment,
  LlmOutputPart,
  LlmOutputSpec,
  LlmResponse,
  LlmStreamEvent,
  LlmUsage,
  ModelProvider,
  TokenUsage,
} from "@lash/protocol";
import { emptyTokenUsage, isEmptyTokenUsage } from "@lash/protocol";
import { assistantTextSeparator } from "../modes/assistant-text.js";
import type { PluginHost } from "../plugins/plugin-host.js";
import type { TurnEventPipe } from "./event-pipe.js";
import { CallStop, callProvider, type ProviderCallSettings } from "./provider-call.js";
import { StandardStreamAccumulator } from "./stream-accumulator.js";
import { usageViolation } from "./stream-event-validation.js";
import { type AbortWatch, watchSignal } from "./turn-abort.js";
import type { LlmCallResult, TurnEffect } from "./turn-machine-types.js";

/** What one model call needs from the turn. */
export interface LlmCallEnvironment {
  readonly provider: ModelProvider;
  readonly settings: ProviderCallSettings;
  readonly attachmentStore: AttachmentStore;
  readonly pipe: TurnEventPipe;
  readonly plugins: PluginHost;
  readonly sessionId: string;
  readonly maxContextTokens: number;
  readonly signal: AbortSignal;
  /** Watches the turn's abort without a listener per call (a listener on `signal` when absent). */
  readonly abort?: AbortWatch | undefined;
  /** Sees every provider stream event first (the call's trace), when tracing is on. */
  readonly onStreamEvent?: ((event: LlmStreamEvent) => void) | undefined;
  /** The structured output every model call of the turn asks for (the turn's `output` option). */
  readonly outputSpec?: LlmOutputSpec | undefined;
  /**
   * The most characters of text and reasoning one call may produce; past it the call is ended and
   * the turn stops `incomplete` with what arrived (default `DEFAULT_MAX_OUTPUT_CHARACTERS`).
   */
  readonly maxOutputCharacters?: number | undefined;
}

/** 4 MiB of ASCII text: far beyond any real answer, far below what exhausts a process. */
export const DEFAULT_MAX_OUTPUT_CHARACTERS = 4 * 1024 * 1024;

type Delivery = void | Promise<void>;

function chain(first: Delivery, next: () => Delivery): Delivery {
  return first !== undefined ? first.then(next) : next();
}

function toTokenUsage(usage: LlmUsage): TokenUsage {
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    reasoningTokens: usage.reasoningTokens,
  };
}

/** The per-attempt view of a streaming call: what arrived, and the correlation ids of its blocks. */
class StreamState {
  readonly #pipe: TurnEventPipe;
  accumulator = new StandardStreamAccumulator();
  proseCorrelation: string;
  reasoningCorrelation: string;
  textStreamed = false;
  /** Reasoning already reached the sinks from the stream: the final response must not repeat it. */
  reasoningStreamed = false;
  streamedUsage: TokenUsage | undefined;
  /** Set when a streamed usage report could not be counted (see `usageViolation`). */
  usageProblem: string | undefined;
  /** Text and reasoning characters this attempt produced, against the per-call cap. */
  outputCharacters = 0;
  /** Set once the attempt passed the per-call cap: the call was ended, the rest dropped. */
  capped = false;

  constructor(pipe: TurnEventPipe) {
    this.#pipe = pipe;
    this.proseCorrelation = pipe.freshId();
    this.reasoningCorrelation = pipe.freshId();
  }

  /** A retried attempt starts over: new blocks, nothing accumulated. */
  reset(): void {
    this.accumulator = new StandardStreamAccumulator();
    this.proseCorrelation = this.#pipe.freshId();
    this.reasoningCorrelation = this.#pipe.freshId();
    this.textStreamed = false;
    this.reasoningStreamed = false;
    this.streamedUsage = undefined;
    this.usageProblem = undefined;
    this.outputCharacters = 0;
    this.capped = false;
  }

  /**
   * Counts `text` against the cap: returns what of it fits (all of it, usually), and marks the
   * attempt capped once the cap is reached.
   */
  admit(text: string, cap: number): string {
    if (this.capped) return "";
    const room = cap - this.outputCharacters;
    if (text.length < room) {
      this.outputCharacters += text.length;
      return text;
    }
    this.outputCharacters = cap;
    this.capped = true;
    return text.slice(0, Math.max(0, room));
  }
}

async function loadAttachments(
  effect: Extract<TurnEffect, { type: "llm_call" }>,
  store: AttachmentStore,
): Promise<LlmAttachment[] | string> {
  const attachments: LlmAttachment[] = [];
  for (const ref of effect.attachmentRefs) {
    const data = await store.get(ref.id);
    if (!data) return `attachment \`${ref.id}\` could not be loaded from the attachment store`;
    attachments.push({ mediaType: ref.mediaType, data, reference: ref.id });
  }
  return attachments;
}

/**
 * Runs one streaming model call: forwards the stream as semantic events (prose, reasoning, retry
 * status), accumulates it so an empty or partial final response is rebuilt, applies the plugins'
 * stream and response hooks, and returns the result for the turn machine.
 */
export async function performLlmCall(
  effect: Extract<TurnEffect, { type: "llm_call" }>,
  modeIteration: number,
  environment: LlmCallEnvironment,
): Promise<LlmCallResult> {
  const { pipe, plugins } = environment;
  const attachments = await loadAttachments(effect, environment.attachmentStore);
  if (typeof attachments === "string") {
    return {
      ok: false,
      error: { message: attachments, code: "attachment_resolution_failed", terminalReason: "provider_error", retryable: false },
    };
  }
  const withAttachments = attachments.length === 0 ? effect.request : { ...effect.request, attachments };
  const request = environment.outputSpec === undefined ? withAttachments : { ...withAttachments, outputSpec: environment.outputSpec };
  const stream = new StreamState(pipe);
  const cap = environment.maxOutputCharacters ?? DEFAULT_MAX_OUTPUT_CHARACTERS;
  // A stream hook may end the call early (it saw everything it needs), and so does the output cap:
  // that ends this call only, not the turn.
  const stop = new CallStop();
  /** What of `text` fits under the cap; reaching the cap ends the call. */
  const admit = (text: string): string => {
    const admitted = stream.admit(text, cap);
    if (stream.capped) stop.stop();
    return admitted;
  };

  // Once per delta: the activity follows its session event without a closure when nothing waits.
  const emitProse = (text: string, correlationId: string): Delivery => {
    const first = pipe.session({ type: "text_delta", text });
    if (first === undefined) return pipe.delta("text_delta", text, correlationId);
    return first.then(() => pipe.delta("text_delta", text, correlationId));
  };
  const emitReasoning = (text: string, correlationId: string): Delivery => {
    stream.reasoningStreamed = true;
    const first = pipe.session({ type: "reasoning_delta", text });
    if (first === undefined) return pipe.delta("reasoning_delta", text, correlationId);
    return first.then(() => pipe.delta("reasoning_delta", text, correlationId));
  };

  const onText = (whole: string, correlationId: string, responseMeta: Parameters<StandardStreamAccumulator["pushText"]>[1]): Delivery => {
    const text = admit(whole);
    if (text === "") return undefined;
    stream.textStreamed = true;
    if (!plugins.hasStreamHooks) {
      stream.accumulator.pushText(text, responseMeta);
      return emitProse(text, correlationId);
    }
    const transformed = plugins.transformAssistantStream({ sessionId: environment.sessionId, modeIteration, text });
    let delivery: Delivery = undefined;
    for (const { pluginId, event } of transformed.events)
      delivery = chain(delivery, () => pipe.session({ type: "plugin_event", pluginId, event }));
    for (const reasoning of transformed.reasoningDeltas) {
      stream.accumulator.pushReasoning(reasoning);
      delivery = chain(delivery, () => emitReasoning(reasoning, stream.reasoningCorrelation));
    }
    if (transformed.text !== "") {
      stream.accumulator.pushText(transformed.text, responseMeta);
      delivery = chain(delivery, () => emitProse(transformed.text, correlationId));
    }
    if (transformed.abortStream) stop.stop();
    return delivery;
  };

  const onEvent = (event: LlmStreamEvent): Delivery => {
    switch (event.type) {
      case "delta":
        return onText(event.text, stream.proseCorrelation, undefined);
      case "reasoning_delta": {
        const text = admit(event.text);
        if (text === "") return undefined;
        stream.accumulator.pushReasoning(text);
        return emitReasoning(text, stream.reasoningCorrelation);
      }
      case "part": {
        const { part } = event;
        if (part.type === "text") return onText(part.text, part.responseMeta?.id ?? stream.proseCorrelation, part.responseMeta);
        if (part.type === "reasoning") {
          const text = admit(part.text);
          if (stream.capped && text === "") return undefined;
          stream.accumulator.pushReasoning(text, part.replay);
          return text === "" ? undefined : emitReasoning(text, part.replay?.itemId ?? stream.reasoningCorrelation);
        }
        if (stream.capped) return undefined;
        stream.accumulator.pushToolCall(part);
        return undefined;
      }
      case "usage": {
        const problem = usageViolation(event.usage);
        if (problem !== undefined) {
          stream.usageProblem ??= problem;
          return undefined;
        }
        stream.streamedUsage = toTokenUsage({
          ...{ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 },
          ...event.usage,
        });
        return undefined;
      }
      case "retry_status":
        stream.reset();
        return pipe.session({
          type: "retry_status",
          waitSeconds: event.waitSeconds,
          attempt: event.attempt,
          maxAttempts: event.maxAttempts,
          reason: event.reason,
        });
    }
  };

  const observe = environment.onStreamEvent;
  const handler = observe
    ? (event: LlmStreamEvent): Delivery => {
        observe(event);
        return onEvent(event);
      }
    : onEvent;
  const abort = environment.abort ?? watchSignal(environment.signal);
  const result = await callProvider(environment.provider, request, abort, handler, environment.settings, stop);
  const partialUsage = stream.streamedUsage;
  if (!result.ok) {
    // Ended from inside (a stream hook, or the output cap), not by the turn or the provider.
    const stoppedByHook = result.cancelled && !environment.signal.aborted && stop.stopped;
    if (!stoppedByHook) {
      // A cancelled call's streamed prose stays in the history; a failed call's does not.
      const partialText = result.cancelled ? stream.accumulator.text() : "";
      const base = result.cancelled
        ? { error: { message: "cancelled", code: "cancelled", terminalReason: "cancelled" as const, retryable: false } }
        : {
            error: {
              message: result.failure.message,
              ...(result.failure.code === undefined ? {} : { code: result.failure.code }),
              terminalReason: result.failure.terminalReason,
              retryable: result.failure.retryable,
              ...(result.failure.raw === undefined ? {} : { raw: result.failure.raw }),
            },
          };
      return { ok: false, ...base, ...(partialText === "" ? {} : { partialText }), ...(partialUsage ? { partialUsage } : {}) };
    }
  }
  let response: LlmResponse = result.ok
    ? capResponse(result.response, stream, cap)
    : {
        // A stream hook or the cap ended the call: what streamed is the response.
        fullText: stream.accumulator.text(),
        parts: stream.accumulator.parts(),
        usage: partialUsage ?? emptyTokenUsage(),
        terminalReason: "stop",
      };
  const usageProblem = stream.usageProblem ?? usageViolation(response.usage);
  if (usageProblem !== undefined) {
    // The output is kept (the turn shows it), the numbers are not counted: a typed provider error.
    const text = response.fullText !== "" ? response.fullText : stream.accumulator.text();
    return {
      ok: false,
      error: { message: usageProblem, code: "invalid_usage", terminalReason: "provider_error", retryable: false },
      ...(text === "" ? {} : { partialText: text }),
      ...(partialUsage ? { partialUsage } : {}),
    };
  }
  if (isEmptyTokenUsage(response.usage) && partialUsage) response = { ...response, usage: partialUsage };
  response = stream.accumulator.applyToResponse(response);
  if (stream.capped) {
    response = {
      ...response,
      terminalReason: "output_limit",
      terminalDiagnostic: `The response passed the output cap of ${cap} characters per model call; the rest was dropped.`,
    };
  }
  if (plugins.hasResponseHooks) {
    response = await plugins.transformAssistantResponse(response, { sessionId: environment.sessionId, modeIteration });
  }
  response = refineTerminalReason(response, environment.maxContextTokens);
  return { ok: true, response, textStreamed: stream.textStreamed, reasoningStreamed: stream.reasoningStreamed };
}

/**
 * A whole response (not streamed) whose text or reasoning passes the cap: cut to the cap, and
 * marked so the call ends as an output limit. A streamed one was cut while it arrived.
 */
function capResponse(response: LlmResponse, stream: StreamState, cap: number): LlmResponse {
  if (stream.capped) return response;
  let length = 0;
  for (const part of response.parts) if (part.type === "text" || part.type === "reasoning") length += part.text.length;
  if (length <= cap && response.fullText.length <= cap) return response;
  let room = cap;
  const parts: LlmOutputPart[] = [];
  for (const part of response.parts) {
    if (part.type !== "text" && part.type !== "reasoning") {
      parts.push(part);
      continue;
    }
    const text = part.text.slice(0, Math.max(0, room));
    room -= text.length;
    if (text !== "") parts.push({ ...part, text });
  }
  stream.capped = true;
  return { ...response, fullText: response.fullText.slice(0, cap), parts };
}

/**
 * An output limit hit with no output while the prompt filled 95% of the context window is really a
 * context overflow: say so, so the host compacts instead of retrying with a larger output budget.
 */
function refineTerminalReason(response: LlmResponse, maxContextTokens: number): LlmResponse {
  if (response.terminalReason !== "output_limit" || response.usage.outputTokens !== 0) return response;
  const prompt = response.usage.inputTokens + response.usage.cachedInputTokens;
  if (prompt < maxContextTokens * 0.95) return response;
  return {
    ...response,
    terminalReason: "context_overflow",
    terminalDiagnostic: "Model produced no output because the prompt reached the configured context window.",
  };
}

/**
 * For a response that did not stream its text: the prose and reasoning activities it would have
 * streamed. Text parts with provider item ids get one block each; otherwise one block holds the
 * whole text (parts joined with blank lines, as the answer reads).
 */
export function emitResponseParts(
  response: LlmResponse,
  pipe: TurnEventPipe,
  options: { readonly reasoningStreamed?: boolean } = {},
): Delivery {
  let delivery: Delivery = undefined;
  const textParts = response.parts.filter((part) => part.type === "text");
  let emittedText = false;
  if (textParts.some((part) => part.responseMeta?.id !== undefined)) {
    for (const part of textParts) {
      if (part.text === "") continue;
      emittedText = true;
      delivery = chain(delivery, () => pipe.activity({ type: "text_delta", text: part.text }, part.responseMeta?.id ?? pipe.freshId()));
    }
  }
  for (const part of response.parts) {
    // Reasoning that streamed was already shown; only a call that streamed none replays it here.
    if (options.reasoningStreamed === true || part.type !== "reasoning" || part.text === "") continue;
    delivery = chain(delivery, () => pipe.activity({ type: "reasoning_delta", text: part.text }, part.replay?.itemId ?? pipe.freshId()));
  }
  if (!emittedText) {
    let text = response.fullText;
    if (text === "") {
      for (const part of textParts) text += assistantTextSeparator(text, part.text) + part.text;
    }
    if (text !== "") delivery = chain(delivery, () => pipe.activity({ type: "text_delta", text }));
  }
  return delivery;
}
