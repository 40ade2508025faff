import { randomUUID } from "node:crypto";
import type { Message, TokenUsage } from "@lash/protocol";
import { LashError, RuntimeError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import { watchSignal } from "../turn/turn-abort.js";
import { awaitingApprovalError } from "../turn/turn-suspension.js";
import { compactConversation } from "./compaction.js";
import type { CompactionPlan } from "./context-manager.js";
import { contextManagerOf } from "./context-settings.js";
import { rollingHistorySettings } from "./rolling-history.js";

/** Options of `runtime.compact()`. */
export interface CompactOptions {
  /** Cancels the summarizing model call (the session is then left as it was). */
  readonly signal?: AbortSignal;
  /** Tokens of the newest conversation kept verbatim (default: the context manager's, else min(20,000, 25% of the window)). */
  readonly keepRecentTokens?: number;
}

/** What `runtime.compact()` did: a value, also when there was nothing to do or the model call failed. */
export type CompactResult =
  | {
      readonly type: "compacted";
      /** The summary message, now the first message of the active path. */
      readonly summary: Message;
      /** Its node id; the summarized nodes stay readable with `runtime.getHistoricNode`. */
      readonly summaryNodeId: string;
      readonly summarizedMessages: number;
      readonly keptMessages: number;
      /** Estimated tokens of the conversation before and after. */
      readonly tokensBefore: number;
      readonly tokensAfter: number;
      /** What the summary cost (in the ledger under source `compaction`). */
      readonly usage: TokenUsage;
    }
  | { readonly type: "skipped"; readonly reason: "nothing_to_compact" | "too_little_to_compact" }
  | { readonly type: "failed"; readonly message: string; readonly code?: string | undefined };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function planFor(core: SessionCore, options: CompactOptions): CompactionPlan {
  const window = core.policy.maxContextTokens;
  // A session whose manager never summarizes (or has none) still compacts by hand, with the defaults.
  const plan = contextManagerOf(core)?.compactionPlan(window) ?? (rollingHistorySettings({}, window).compaction as CompactionPlan);
  const keep = options.keepRecentTokens;
  if (keep === undefined) return plan;
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new LashError("invalid_argument", `keepRecentTokens must be a non-negative integer, got ${String(keep)}`);
  }
  return { ...plan, keepRecentTokens: keep };
}

/**
 * `runtime.compact()`: summarizes the session's older history now, with the session's model, and
 * commits the summary (`compact:<uuid>`, durable like a turn) with the usage it cost. Refuses while
 * a turn runs (`turn_in_progress`) or waits for approval (`turn_awaiting_approval`); a failed commit
 * throws `store_commit_failed` (the summary stays in memory and the next commit carries it).
 */
export async function compactSession(core: SessionCore, options: CompactOptions = {}): Promise<CompactResult> {
  if (core.turnRunning) throw new LashError("turn_in_progress", `cannot compact session \`${core.sessionId}\` while it runs a turn`);
  const plan = planFor(core, options);
  // Holding the turn flag keeps a turn from starting while the summary is written and committed.
  core.turnRunning = true;
  try {
    try {
      await core.refreshFromStore();
    } catch {
      // A store that cannot be read now may still take the commit; a moved head surfaces as a conflict then.
    }
    if (core.suspendedTurn) throw awaitingApprovalError(core.sessionId, core.suspendedTurn);
    const id = `compact:${randomUUID()}`;
    const model = core.provider.resolveModel?.(core.policy.model) ?? core.policy.model;
    const outcome = await compactConversation({
      core,
      provider: core.provider,
      model,
      modelVariant: core.policy.modelVariant,
      maxContextTokens: core.policy.maxContextTokens,
      plan,
      conversation: core.graph.activeMessages(),
      abort: watchSignal(options.signal ?? new AbortController().signal),
      turnId: id,
      modeIteration: 0,
      callNumber: 1,
      commitId: id,
      durability: "turn",
      force: true,
    });
    if (outcome.type !== "compacted") return outcome;
    if (outcome.commitError !== undefined) {
      throw new RuntimeError(
        "store_commit_failed",
        `the compaction commit of session \`${core.sessionId}\` failed: ${errorMessage(outcome.commitError)}`,
        {
          cause: outcome.commitError,
        },
      );
    }
    const { commitError: _commitError, keptFromMessageId: _kept, ...result } = outcome;
    return result;
  } finally {
    core.turnRunning = false;
  }
}
