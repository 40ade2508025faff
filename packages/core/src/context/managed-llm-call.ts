import type { JsonValue, LlmRequest, Message, TokenLedgerEntry } from "@lash/protocol";
import { normalizePromptUsage } from "@lash/protocol";
import { projectRequest } from "../prompt/request-projection.js";
import type { SessionCore } from "../runtime/session-core.js";
import { type LlmCallEnvironment, performLlmCall } from "../turn/llm-call.js";
import { watchSignal } from "../turn/turn-abort.js";
import type { TurnContext } from "../turn/turn-context.js";
import type { LlmCallResult, TurnEffect } from "../turn/turn-machine-types.js";
import { type CompactionOutcome, compactConversation } from "./compaction.js";
import type { ContextFit, ContextManager } from "./context-manager.js";
import { CONTEXT_ORIGIN_ID } from "./context-messages.js";
import { contextManagerOf } from "./context-settings.js";
import { callContextWindow } from "./context-window.js";
import { estimateRequestOverheadTokens } from "./token-estimate.js";

export type LlmCallEffect = Extract<TurnEffect, { type: "llm_call" }>;

/** What a turn's compactions left: the summary that stands for the messages before `keptFromMessageId`. */
interface TurnCompactions {
  summary: Message | undefined;
  keptFromMessageId: string | undefined;
  count: number;
}

const turnCompactions = new WeakMap<TurnContext, TurnCompactions>();

/**
 * Provider tokens per estimated token, from each session's last model call. Kept in memory: after a
 * restart the first call of a session uses the estimate alone, and the calls after it are
 * calibrated again.
 */
const calibrations = new WeakMap<SessionCore, number>();

/** The most a provider's count may exceed the estimate by before it is taken as a bad report. */
const MAX_CALIBRATION = 4;

function compactionsOf(turn: TurnContext): TurnCompactions {
  let state = turnCompactions.get(turn);
  if (state === undefined) {
    state = { summary: undefined, keptFromMessageId: undefined, count: 0 };
    turnCompactions.set(turn, state);
  }
  return state;
}

/** The turn's conversation with this turn's summary, if any, in place of what it covers. */
function compactedView(messages: readonly Message[], state: TurnCompactions | undefined): readonly Message[] {
  if (state?.summary === undefined) return messages;
  const from = messages.findIndex((message) => message.id === state.keptFromMessageId);
  return from < 0 ? messages : [state.summary, ...messages.slice(from)];
}

/** How many of the request's first messages are not the conversation's (the system prompt: 0 or 1). */
function conversationHead(request: LlmRequest, messages: readonly Message[]): number {
  if (request.messages[0]?.role !== "system") return 0;
  if (messages[0]?.role !== "system") return 1;
  const projected = projectRequest({
    systemPrompt: "",
    messages,
    tools: [],
    useTools: false,
    model: "",
    modelVariant: undefined,
    sessionId: "",
  });
  return request.messages.length - projected.request.messages.length;
}

/** One fitted model call: what is sent, and what the estimate of it was. */
export interface FittedCall {
  readonly effect: LlmCallEffect;
  readonly fit: ContextFit;
  /** The conversation before the manager's view (what a compaction summarizes). */
  readonly conversation: readonly Message[];
  /** The uncalibrated estimate of what is sent. */
  readonly estimatedTokens: number;
}

/**
 * Fits one call: `conversation` is the turn's `messages` with this turn's summary applied; the
 * request is projected again only when what is sent differs from `messages`. Exported for the
 * benchmark of prompt preparation.
 */
export function fitCall(
  effect: LlmCallEffect,
  messages: readonly Message[],
  conversation: readonly Message[],
  manager: ContextManager,
  window: number,
  session: { readonly sessionId: string; readonly calibration: number },
): FittedCall {
  const head = conversationHead(effect.request, messages);
  const fixedTokens = estimateRequestOverheadTokens(effect.request, head);
  const fit = manager.fitModelCall({
    sessionId: session.sessionId,
    maxContextTokens: window,
    messages: conversation,
    fixedTokens,
    calibration: session.calibration,
  });
  // The manager's figure is calibrated; the calibration of the next call compares the plain estimate.
  const estimatedTokens = fit.promptTokens / Math.max(1, session.calibration);
  if (fit.messages === messages) return { effect, fit, conversation, estimatedTokens };
  const projected = projectRequest({
    systemPrompt: "",
    messages: fit.messages,
    tools: [],
    useTools: false,
    model: effect.request.model,
    modelVariant: undefined,
    sessionId: "",
  });
  const request: LlmRequest = { ...effect.request, messages: [...effect.request.messages.slice(0, head), ...projected.request.messages] };
  return { effect: { ...effect, request, attachmentRefs: projected.attachmentRefs }, fit, conversation, estimatedTokens };
}

function sessionOf(turn: TurnContext): { readonly sessionId: string; readonly calibration: number } {
  return { sessionId: turn.sessionId, calibration: calibrations.get(turn.core) ?? 1 };
}

/** Learns from the provider's count of a call how far the estimate is off, for the session's next calls. */
function calibrate(turn: TurnContext, call: FittedCall, result: LlmCallResult): void {
  if (!result.ok || call.estimatedTokens <= 0) return;
  const excludesCached = turn.selection.provider.inputUsageExcludesCachedTokens ?? false;
  const counted = normalizePromptUsage(result.response.usage, excludesCached)?.promptContextTokens ?? 0;
  if (counted <= 0) return;
  calibrations.set(turn.core, Math.min(MAX_CALIBRATION, Math.max(1, counted / call.estimatedTokens)));
}

/** A call the provider refused (or answered with nothing) because its prompt did not fit the window. */
function overflowed(result: LlmCallResult): boolean {
  if (!result.ok) return result.error.terminalReason === "context_overflow";
  const { response } = result;
  if (response.terminalReason !== "context_overflow" || response.fullText.trim() !== "") return false;
  return !response.parts.some((part) => part.type === "tool_call" || (part.type === "text" && part.text.trim() !== ""));
}

/** The usage an overflowed attempt cost: it is committed with the summary, since the retry's result replaces it. */
function attemptUsage(turn: TurnContext, result: LlmCallResult): TokenLedgerEntry[] {
  const usage = result.ok ? result.response.usage : result.partialUsage;
  return usage === undefined ? [] : [{ source: "turn", model: turn.selection.model, usage: { ...usage } }];
}

async function report(turn: TurnContext, reason: "threshold" | "overflow", outcome: CompactionOutcome): Promise<void> {
  let payload: JsonValue;
  let name: string;
  if (outcome.type === "compacted") {
    name = "history_compacted";
    payload = {
      reason,
      summaryNodeId: outcome.summaryNodeId,
      summarizedMessages: outcome.summarizedMessages,
      keptMessages: outcome.keptMessages,
      tokensBefore: outcome.tokensBefore,
      tokensAfter: outcome.tokensAfter,
    };
  } else if (outcome.type === "failed") {
    name = "history_compaction_failed";
    payload = { reason, message: outcome.message, ...(outcome.code === undefined ? {} : { code: outcome.code }) };
  } else {
    return;
  }
  const pending = turn.pipe.session({ type: "plugin_event", pluginId: CONTEXT_ORIGIN_ID, event: { kind: "custom", name, payload } });
  if (pending !== undefined) await pending;
}

/** Summarizes older history in the middle of a turn; true when the conversation now starts with a new summary. */
async function compactInTurn(
  turn: TurnContext,
  manager: ContextManager,
  window: number,
  conversation: readonly Message[],
  modeIteration: number,
  reason: "threshold" | "overflow",
  extraUsage: readonly TokenLedgerEntry[],
): Promise<boolean> {
  const plan = manager.compactionPlan(window);
  if (plan === undefined || turn.signal.aborted) return false;
  const state = compactionsOf(turn);
  state.count += 1;
  const outcome = await compactConversation({
    core: turn.core,
    provider: turn.selection.provider,
    model: turn.selection.model,
    modelVariant: turn.selection.modelVariant,
    maxContextTokens: window,
    plan,
    conversation,
    abort: turn.llm.abort ?? watchSignal(turn.signal),
    turnId: turn.turnId,
    modeIteration,
    callNumber: state.count,
    // A checkpoint, like the turn's progress commits: the turn's final commit makes it power-loss durable.
    commitId: turn.commitId(`compact:${state.count}`),
    durability: "checkpoint",
    force: reason === "overflow",
    extraUsage,
  });
  await report(turn, reason, outcome);
  if (outcome.type !== "compacted") return false;
  state.summary = outcome.summary;
  state.keptFromMessageId = outcome.keptFromMessageId;
  return true;
}

/**
 * One model call of a turn under the session's context manager: the conversation is fitted to the
 * window first (older tool outputs and images pruned in what is sent, older history summarized when
 * that is not enough), and a call the provider refuses with `context_overflow` is retried once
 * after one compaction. Without a context manager it is `performLlmCall` as is.
 */
export async function performManagedLlmCall(
  effect: LlmCallEffect,
  modeIteration: number,
  llm: LlmCallEnvironment,
  turn: TurnContext,
  messages: readonly Message[],
): Promise<LlmCallResult> {
  const manager = contextManagerOf(turn.core);
  if (manager === undefined) return await performLlmCall(effect, modeIteration, llm);
  // Read, not created: most turns never compact, and need no entry of their own.
  const window = callContextWindow(turn.core.policy, turn.selection.model);
  let call = fitCall(effect, messages, compactedView(messages, turnCompactions.get(turn)), manager, window, sessionOf(turn));
  if (call.fit.compact && (await compactInTurn(turn, manager, window, call.conversation, modeIteration, "threshold", []))) {
    call = fitCall(effect, messages, compactedView(messages, turnCompactions.get(turn)), manager, window, sessionOf(turn));
  }
  let result = await performLlmCall(call.effect, modeIteration, llm);
  calibrate(turn, call, result);
  if (!overflowed(result) || turn.signal.aborted) return result;
  if (!(await compactInTurn(turn, manager, window, call.conversation, modeIteration, "overflow", attemptUsage(turn, result))))
    return result;
  call = fitCall(effect, messages, compactedView(messages, turnCompactions.get(turn)), manager, window, sessionOf(turn));
  result = await performLlmCall(call.effect, modeIteration, llm);
  calibrate(turn, call, result);
  return result;
}
