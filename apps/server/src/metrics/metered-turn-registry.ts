import { addTokenUsage, emptyTokenUsage, subtractTokenUsage, type TokenUsage } from "@lash/protocol";
import type { TurnRecord, TurnSettlement } from "../turns/turn-record.js";
import { TurnRegistry, type TurnRegistryLimits } from "../turns/turn-registry.js";
import { codeLabel, type ServerMetrics, type TurnOutcomeLabel } from "./server-metrics.js";

/**
 * How many turns that wait for approval remember the tokens already counted, so that their resumed
 * segment counts only what it adds. One that is forgotten (or resumed by another process) counts
 * its earlier segments' tokens again when it ends.
 */
const MAX_REMEMBERED_SUSPENDED_TURNS = 10_000;

function clampedDifference(total: TokenUsage, counted: TokenUsage): TokenUsage {
  const difference = subtractTokenUsage(total, counted);
  return {
    inputTokens: Math.max(0, difference.inputTokens),
    outputTokens: Math.max(0, difference.outputTokens),
    cachedInputTokens: Math.max(0, difference.cachedInputTokens),
    reasoningTokens: Math.max(0, difference.reasoningTokens),
  };
}

function outcomeOf(settlement: TurnSettlement | undefined): { outcome: TurnOutcomeLabel; reason: string } {
  if (settlement === undefined) return { outcome: "failed", reason: "none" };
  if (settlement.type === "error") return { outcome: "failed", reason: codeLabel(settlement.error.code) };
  const outcome = settlement.result.outcome;
  switch (outcome.type) {
    case "finished":
      return { outcome: "finished", reason: codeLabel(outcome.finish.type) };
    case "handoff":
      return { outcome: "handoff", reason: "none" };
    case "stopped":
      return { outcome: "stopped", reason: codeLabel(outcome.stop.type) };
  }
}

/**
 * The turn registry, counting as it goes: every turn of every route (turns, approvals, the OpenAI
 * and UI chat routes) opens and ends here, so the counts need no hook in the routes. A segment is
 * timed from `open` (its turn slot was granted: time spent queued behind another turn is not
 * counted) to `finish`.
 */
export class MeteredTurnRegistry extends TurnRegistry {
  readonly #metrics: ServerMetrics;
  /** When each open segment started; every segment that opens ends in `finish` or `abandon`, which drop it. */
  readonly #startedAt = new Map<TurnRecord, number>();
  /** The turn's own usage counted so far, for turns whose last segment ended waiting for approval (oldest first). */
  readonly #countedOwnUsage = new Map<string, TokenUsage>();
  readonly #now: () => number;

  constructor(limits: TurnRegistryLimits, metrics: ServerMetrics, now: () => number = () => performance.now()) {
    super(limits);
    this.#metrics = metrics;
    this.#now = now;
  }

  override open(sessionId: string, turnId: string): TurnRecord {
    // A record this registry still holds is a turn that goes on: its resumed segment starts.
    const resumed = this.find(sessionId, turnId) !== undefined;
    const record = super.open(sessionId, turnId);
    this.#startedAt.set(record, this.#now());
    this.#metrics.turnsStarted.add([resumed ? "true" : "false"]);
    return record;
  }

  override abandon(record: TurnRecord): void {
    super.abandon(record);
    this.#startedAt.delete(record);
    this.#metrics.turnsFinished.add(["refused", "none"]);
  }

  override finish(record: TurnRecord): void {
    super.finish(record);
    const settlement = record.settlement;
    const { outcome, reason } = outcomeOf(settlement);
    this.#metrics.turnsFinished.add([outcome, reason]);
    const startedAt = this.#startedAt.get(record);
    this.#startedAt.delete(record);
    if (startedAt !== undefined) this.#metrics.turnLatency.observe([outcome], (this.#now() - startedAt) / 1000);
    if (settlement?.type === "result") this.#countTokens(record.turnId, settlement.result, reason === "awaiting_approval");
  }

  /**
   * A result's `usage` is the whole turn's (a resumed turn starts from its earlier segments' usage),
   * its `childrenUsage` the subagents' of this segment: the own usage counts what it adds since the
   * turn's earlier segments, the children's as it is.
   */
  #countTokens(
    turnId: string,
    result: { readonly usage: TokenUsage; readonly childrenUsage: readonly { readonly usage: TokenUsage }[] },
    suspended: boolean,
  ): void {
    const counted = this.#countedOwnUsage.get(turnId) ?? emptyTokenUsage();
    this.#countedOwnUsage.delete(turnId);
    let added = clampedDifference(result.usage, counted);
    for (const child of result.childrenUsage) added = addTokenUsage(added, child.usage);
    this.#metrics.addTokens(added);
    if (!suspended) return;
    this.#countedOwnUsage.set(turnId, result.usage);
    while (this.#countedOwnUsage.size > MAX_REMEMBERED_SUSPENDED_TURNS) {
      const oldest = this.#countedOwnUsage.keys().next().value;
      if (oldest === undefined) break;
      this.#countedOwnUsage.delete(oldest);
    }
  }
}
