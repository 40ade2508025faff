import { LashError } from "@lash/protocol";
import { COMPACTION_PROMPT } from "./compaction-prompt.js";
import type { CompactionPlan, ContextFit, ContextFitRequest, ContextManager } from "./context-manager.js";
import { type PruningSettings, pruneHistory } from "./history-pruning.js";
import { estimateMessagesTokens } from "./token-estimate.js";

/** How `rollingHistory` summarizes (`false` in `compaction` switches summaries off: it then only prunes). */
export interface RollingHistoryCompactionOptions {
  /** Tokens of the newest conversation kept verbatim (default min(20,000, 25% of the window)). */
  readonly keepRecentTokens?: number;
  /** How long the summary may be, in tokens (default min(4,000, 10% of the window)). */
  readonly summaryTokens?: number;
  /**
   * A compaction by threshold happens only when it summarizes at least this many tokens (default
   * min(10,000, 10% of the window)), so a prompt that stays big because of its newest part does
   * not summarize again at every call. Overflow recovery and `runtime.compact()` ignore it.
   */
  readonly minimumSummarizedTokens?: number;
  /** The instructions the model summarizes with (default `COMPACTION_PROMPT`; `{words}` is replaced by the length). */
  readonly prompt?: string;
}

/**
 * Options of `rollingHistory`. Token figures left out scale with the model's context window, so the
 * same manager serves a 16,000-token model and a 1,000,000-token one; a figure given here is used
 * as is.
 */
export interface RollingHistoryOptions {
  /** Share of the context window the prompt may fill before old history is pruned (default 0.6). */
  readonly thresholdRatio?: number;
  /** Tokens of the newest conversation never pruned (default min(40,000, 25% of the window)). */
  readonly protectRecentTokens?: number;
  /** The newest user turns never pruned (default 2). */
  readonly protectUserTurns?: number;
  /**
   * Pruning happens only when it frees at least this many tokens, and then in steps of this size
   * (default min(20,000, 12.5% of the window)): small prunes would change the prompt's prefix, and
   * with it the provider's prompt cache, for little gain.
   */
  readonly minimumPruneTokens?: number;
  /** Summaries of older history, or `false` for none (default: on, with the defaults above). */
  readonly compaction?: RollingHistoryCompactionOptions | false;
}

/** The figures of `rollingHistory` for one context window. */
export interface RollingHistorySettings extends PruningSettings {
  readonly thresholdTokens: number;
  readonly compaction: CompactionPlan | undefined;
}

function scaled(given: number | undefined, cap: number, share: number, window: number): number {
  return given ?? Math.max(1, Math.min(cap, Math.floor(window * share)));
}

function checkCount(name: string, value: number | undefined, allowZero = false): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new LashError(
      "invalid_configuration",
      `rollingHistory: ${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${String(value)}`,
    );
  }
}

function checkOptions(options: RollingHistoryOptions): void {
  const ratio = options.thresholdRatio;
  if (ratio !== undefined && !(typeof ratio === "number" && ratio > 0 && ratio <= 1)) {
    throw new LashError("invalid_configuration", `rollingHistory: thresholdRatio must be in (0, 1], got ${String(ratio)}`);
  }
  checkCount("protectRecentTokens", options.protectRecentTokens, true);
  checkCount("protectUserTurns", options.protectUserTurns, true);
  checkCount("minimumPruneTokens", options.minimumPruneTokens, true);
  const compaction = options.compaction;
  if (compaction === false || compaction === undefined) return;
  checkCount("compaction.keepRecentTokens", compaction.keepRecentTokens, true);
  checkCount("compaction.summaryTokens", compaction.summaryTokens);
  checkCount("compaction.minimumSummarizedTokens", compaction.minimumSummarizedTokens, true);
  if (compaction.prompt !== undefined && (typeof compaction.prompt !== "string" || compaction.prompt.trim() === "")) {
    throw new LashError("invalid_configuration", "rollingHistory: compaction.prompt must be a non-empty string");
  }
}

/** The settings of `options` for a context window of `window` tokens. */
export function rollingHistorySettings(options: RollingHistoryOptions, window: number): RollingHistorySettings {
  const compaction = options.compaction === false ? undefined : (options.compaction ?? {});
  return {
    thresholdTokens: Math.floor(window * (options.thresholdRatio ?? 0.6)),
    protectRecentTokens: scaled(options.protectRecentTokens, 40_000, 0.25, window),
    protectUserTurns: options.protectUserTurns ?? 2,
    minimumPruneTokens: scaled(options.minimumPruneTokens, 20_000, 0.125, window),
    compaction:
      compaction === undefined
        ? undefined
        : {
            keepRecentTokens: scaled(compaction.keepRecentTokens, 20_000, 0.25, window),
            summaryTokens: scaled(compaction.summaryTokens, 4_000, 0.1, window),
            minimumSummarizedTokens: scaled(compaction.minimumSummarizedTokens, 10_000, 0.1, window),
            prompt: compaction.prompt ?? COMPACTION_PROMPT,
          },
  };
}

/**
 * The built-in context manager, installed by default. Before each model call it estimates the
 * prompt (see `token-estimate.ts`, calibrated with the provider's count of the previous call);
 * past `thresholdRatio` of the window it prunes old tool outputs and images (replaced by short
 * placeholders in what is sent; the session keeps the originals), and when that is not enough it
 * asks for a compaction: the model summarizes older history and the summary takes its place.
 */
export function rollingHistory(options: RollingHistoryOptions = {}): ContextManager {
  checkOptions(options);
  // Context windows are few per process (one per model): the settings of each are computed once.
  const settingsByWindow = new Map<number, RollingHistorySettings>();
  const settingsFor = (window: number): RollingHistorySettings => {
    let settings = settingsByWindow.get(window);
    if (settings === undefined) {
      settings = rollingHistorySettings(options, window);
      settingsByWindow.set(window, settings);
    }
    return settings;
  };
  return {
    id: "rolling-history",
    fitModelCall(request: ContextFitRequest): ContextFit {
      const settings = settingsFor(request.maxContextTokens);
      const calibration = Math.max(1, request.calibration);
      const estimated = request.fixedTokens + estimateMessagesTokens(request.messages);
      const promptTokens = Math.ceil(estimated * calibration);
      if (promptTokens <= settings.thresholdTokens) return { messages: request.messages, promptTokens, compact: false };
      const needed = Math.ceil((promptTokens - settings.thresholdTokens) / calibration);
      const pruned = pruneHistory(request.messages, settings, needed);
      const remaining = Math.ceil((estimated - pruned.savedTokens) * calibration);
      return { messages: pruned.messages, promptTokens: remaining, compact: remaining > settings.thresholdTokens };
    },
    compactionPlan(maxContextTokens: number): CompactionPlan | undefined {
      return settingsFor(maxContextTokens).compaction;
    },
  };
}
