import type { Message } from "@lash/protocol";
import { LashError } from "@lash/protocol";

/** What a context manager sees before a model call. */
export interface ContextFitRequest {
  readonly sessionId: string;
  /** The context window of the model the call goes to, in tokens. */
  readonly maxContextTokens: number;
  /**
   * The conversation the call would send, oldest first: the turn's messages, with the summary of
   * a compaction in place of the messages it covers.
   */
  readonly messages: readonly Message[];
  /** Estimated tokens of the rest of the request: the system prompt and the tool specs. */
  readonly fixedTokens: number;
  /**
   * Provider tokens per estimated token, from the last model call of the session (at least 1; 1
   * before any call reported usage): multiply an estimate by it to get what the provider will count.
   */
  readonly calibration: number;
}

/** A context manager's answer for one model call. */
export interface ContextFit {
  /**
   * The messages to send: the request's own (the same array when nothing changed), or a view with
   * some contents replaced. Every message keeps its id; the session graph keeps the originals.
   */
  readonly messages: readonly Message[];
  /**
   * The estimated prompt of what is sent, in provider tokens: the estimate (fixed tokens plus the
   * messages') times `calibration`. The runtime divides it by the calibration again to learn, from
   * the provider's count of this call, the calibration of the next one.
   */
  readonly promptTokens: number;
  /** True when the prompt is still over the manager's limit: older history should be summarized first. */
  readonly compact: boolean;
}

/** How to summarize older history. */
export interface CompactionPlan {
  /** Tokens of the newest conversation kept verbatim after the summary. */
  readonly keepRecentTokens: number;
  /** How long the summary may be, in tokens (the prompt asks for it; a longer one is cut). */
  readonly summaryTokens: number;
  /** Compaction by threshold happens only when it summarizes at least this many tokens (not on overflow or by hand). */
  readonly minimumSummarizedTokens: number;
  /** The instructions the model summarizes with (`COMPACTION_PROMPT` by default). */
  readonly prompt: string;
}

/**
 * Keeps every model call's prompt within the context window. The runtime asks it before each
 * model call (`fitModelCall`), summarizes older history when it says `compact` (with the
 * `compactionPlan`), and after a `context_overflow` failure compacts once and retries the call
 * once. `rollingHistory()` is the built-in one (installed by default); `withContextManager(false)`
 * switches context management off. A manager holds no per-session state: the runtime passes what
 * it needs with each call.
 */
export interface ContextManager {
  /** Names the manager in traces and events. */
  readonly id: string;
  /** The messages to send for one model call (a view: originals stay in the session). */
  fitModelCall(request: ContextFitRequest): ContextFit;
  /** How to compact for a model with this window, or `undefined` when this manager never summarizes. */
  compactionPlan(maxContextTokens: number): CompactionPlan | undefined;
}

/** Checks what a host gives `withContextManager`. */
export function checkContextManager(manager: ContextManager | false): ContextManager | false {
  if (manager === false) return false;
  if (
    typeof manager !== "object" ||
    manager === null ||
    typeof manager.fitModelCall !== "function" ||
    typeof manager.compactionPlan !== "function"
  ) {
    throw new LashError(
      "invalid_configuration",
      "withContextManager takes a ContextManager (`rollingHistory(options)`, or an object with fitModelCall and compactionPlan) or false",
    );
  }
  return manager;
}
