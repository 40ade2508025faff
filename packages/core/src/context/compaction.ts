import type { Message, ModelProvider, SessionCommitDurability, SessionNodeRecord, TokenLedgerEntry, TokenUsage } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import type { SessionGraphEditor } from "../session/session-graph.js";
import { callProvider } from "../turn/provider-call.js";
import { usageViolation } from "../turn/stream-event-validation.js";
import type { AbortWatch } from "../turn/turn-abort.js";
import { providerSettings } from "../turn/turn-setup.js";
import { compactionRequest } from "./compaction-prompt.js";
import { chooseCompactionSplit } from "./compaction-split.js";
import { traceCompactionCall } from "./compaction-trace.js";
import type { CompactionPlan } from "./context-manager.js";
import { summaryMessage } from "./context-messages.js";
import { estimateTextTokens } from "./token-estimate.js";

/** The ledger source of compaction model calls. */
export const COMPACTION_USAGE_SOURCE = "compaction";

/** One compaction to run. */
export interface CompactionRequest {
  readonly core: SessionCore;
  readonly provider: ModelProvider;
  readonly model: string;
  readonly modelVariant: string | undefined;
  /** The context window of `model`: the transcript the summarizing call reads fits in it. */
  readonly maxContextTokens: number;
  readonly plan: CompactionPlan;
  /** The conversation as the next model call would send it (an earlier summary first, if any). */
  readonly conversation: readonly Message[];
  /** Cancels the summarizing call (the turn's abort, or the caller's signal). */
  readonly abort: AbortWatch;
  /** Trace identity: the turn (or `compact:<uuid>`), its round, and the call's number. */
  readonly turnId: string;
  readonly modeIteration: number;
  readonly callNumber: number;
  /** The id and durability of the commit that stores the summary with the usage it cost. */
  readonly commitId: string;
  readonly durability: SessionCommitDurability;
  /** False: only when the cut summarizes at least `plan.minimumSummarizedTokens` (a compaction by threshold). */
  readonly force: boolean;
  /** Usage to commit with the summary besides the compaction's own. */
  readonly extraUsage?: readonly TokenLedgerEntry[] | undefined;
}

/** What a compaction did. Failures of the model call are values: the caller goes on without a summary. */
export type CompactionOutcome =
  | {
      readonly type: "compacted";
      /** The summary message: the first message of the active path from now on. */
      readonly summary: Message;
      readonly summaryNodeId: string;
      /** The first message kept after the summary. */
      readonly keptFromMessageId: string;
      readonly summarizedMessages: number;
      readonly keptMessages: number;
      /** Estimated tokens before and after (the summary counted in). */
      readonly tokensBefore: number;
      readonly tokensAfter: number;
      /** What the summarizing call cost (also in the ledger under `compaction`). */
      readonly usage: TokenUsage;
      /** Set when the commit that stores the summary failed (the next commit carries it). */
      readonly commitError?: unknown;
    }
  | { readonly type: "skipped"; readonly reason: "nothing_to_compact" | "too_little_to_compact" }
  | { readonly type: "failed"; readonly message: string; readonly code?: string | undefined };

/**
 * The highest index of `conversation` a cut may have: the messages before it and at it are all in
 * the session graph's active path (transient ones aside), so the summary can take their place there.
 */
function graphLimit(conversation: readonly Message[], graph: SessionGraphEditor): number {
  const active = new Set<string>();
  for (const node of graph.activePath()) if (node.payload.kind === "message") active.add(node.payload.message.id);
  let limit = -1;
  for (let index = 0; index < conversation.length; index += 1) {
    const message = conversation[index] as Message;
    if (active.has(message.id)) limit = index;
    else if (message.origin?.transient !== true) break;
  }
  return limit;
}

/** Appends a copy of `node` under the graph's leaf (with a fresh node id when its own is taken). */
function reappend(graph: SessionGraphEditor, node: SessionNodeRecord): void {
  const payload = node.payload;
  switch (payload.kind) {
    case "message":
      graph.appendMessage(payload.message);
      return;
    case "tool_invocation":
      graph.appendToolCall(payload.record);
      return;
    case "mode_event":
    case "plugin":
      graph.appendRecord(payload);
      return;
    case "turn_stopped":
      graph.appendTurnStopped(payload.turnId, payload.turnIndex, payload.stop);
      return;
  }
}

/**
 * Makes the active path read `summary` followed by the nodes from the one holding message
 * `keptFromMessageId` to the leaf. The new branch starts at the root; the summarized nodes stay in
 * the graph off the active path (historic nodes, `runtime.getHistoricNode`), and the kept ones stay
 * there too, their copies on the new branch carrying the same messages and records.
 */
function branchWithSummary(graph: SessionGraphEditor, summary: Message, keptFromMessageId: string): SessionNodeRecord | undefined {
  const path = graph.activePath();
  const start = path.findIndex((node) => node.payload.kind === "message" && node.payload.message.id === keptFromMessageId);
  if (start < 0) return undefined;
  const kept = path.slice(start);
  graph.replaceActiveReadState([summary]);
  const summaryNode = graph.node(graph.leafNodeId ?? "");
  for (const node of kept) reappend(graph, node);
  return summaryNode;
}

function responseText(response: {
  readonly fullText: string;
  readonly parts: readonly { readonly type: string; readonly text?: string }[];
}): string {
  if (response.fullText.trim() !== "") return response.fullText.trim();
  return response.parts
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("\n")
    .trim();
}

/**
 * Summarizes the older part of `conversation` with the model and puts the summary in its place on
 * the session graph, then commits the summary with the usage it cost (ledger source `compaction`).
 * The graph is changed only once the summary is there: a failed or cancelled model call leaves the
 * session as it was.
 */
export async function compactConversation(request: CompactionRequest): Promise<CompactionOutcome> {
  const { core, plan, conversation } = request;
  const split = chooseCompactionSplit(conversation, plan.keepRecentTokens, graphLimit(conversation, core.graph));
  if (split === undefined) return { type: "skipped", reason: "nothing_to_compact" };
  if (!request.force && split.summarizedTokens < plan.minimumSummarizedTokens) return { type: "skipped", reason: "too_little_to_compact" };
  const summarized = conversation.slice(0, split.index);
  const keptFrom = conversation[split.index] as Message;

  // The summarizing call reads the transcript, the instructions and writes the summary: all within the window.
  const promptTokens = estimateTextTokens(plan.prompt);
  const transcriptTokens = Math.max(256, Math.floor(request.maxContextTokens * 0.6) - plan.summaryTokens - promptTokens);
  const llmRequest = compactionRequest({
    messages: summarized,
    prompt: plan.prompt,
    summaryTokens: plan.summaryTokens,
    transcriptTokens,
    model: request.model,
    modelVariant: request.modelVariant,
    sessionId: core.sessionId,
  });
  const trace = traceCompactionCall(
    core.environment.core.traceSink,
    {
      sessionId: core.sessionId,
      turnId: request.turnId,
      callId: `${request.turnId}:compaction:${request.callNumber}`,
      modeIteration: request.modeIteration,
      provider: request.provider.providerId,
    },
    llmRequest,
  );
  const result = await callProvider(
    request.provider,
    llmRequest,
    request.abort,
    (event) => trace?.onStreamEvent(event),
    providerSettings(core, request.provider),
  );
  trace?.finished(result);
  if (!result.ok) return { type: "failed", message: result.failure.message, code: result.failure.code };
  const text = responseText(result.response);
  if (text === "") return { type: "failed", message: "the model returned an empty summary", code: "empty_summary" };
  const usage = result.response.usage;

  const limit = plan.summaryTokens * 6;
  const summary = summaryMessage(text.length > limit ? `${text.slice(0, limit)}…` : text);
  const summaryNode = branchWithSummary(core.graph, summary, keptFrom.id);
  if (summaryNode === undefined) return { type: "skipped", reason: "nothing_to_compact" };

  const entries: TokenLedgerEntry[] = [...(request.extraUsage ?? [])];
  if (usageViolation(usage) === undefined) entries.push({ source: COMPACTION_USAGE_SOURCE, model: request.model, usage: { ...usage } });
  let commitError: unknown;
  try {
    await core.commit(request.commitId, entries, request.durability);
  } catch (error) {
    commitError = error;
  }
  const tokensAfter = split.keptTokens + estimateTextTokens(text);
  return {
    type: "compacted",
    summary,
    summaryNodeId: summaryNode.nodeId,
    keptFromMessageId: keptFrom.id,
    summarizedMessages: summarized.length,
    keptMessages: conversation.length - split.index,
    tokensBefore: split.summarizedTokens + split.keptTokens,
    tokensAfter,
    usage: { ...usage },
    ...(commitError === undefined ? {} : { commitError }),
  };
}
