import { type ApprovalRequest, addTokenUsage, type TokenUsage } from "@lash/protocol";
import type { TurnResult } from "@lash/remote-protocol";

/*
 * How a turn's result reads in formats that know less than lash does (OpenAI's finish reasons, the
 * AI SDK's): which stops are refusals, which are failures, what the turn cost.
 */

/** The turn's tokens, its subagents' included: what the request cost. */
export function turnTokenUsage(result: TurnResult): TokenUsage {
  return result.childrenUsage.reduce((total, entry) => addTokenUsage(total, entry.usage), result.usage);
}

/** The type of the turn's stop, or `undefined` when it finished (or handed off). */
export function stopType(result: TurnResult): string | undefined {
  return result.outcome.type === "stopped" ? result.outcome.stop.type : undefined;
}

/** True when the model refused: a model call ended with the terminal reason `content_filter`. */
export function isRefusal(result: TurnResult): boolean {
  return stopType(result) === "provider_error" && result.issues.some((issue) => issue.terminalReason === "content_filter");
}

/** True when the turn stopped at an output limit (the model's, or the turn's token budget). */
export function isLengthStop(result: TurnResult): boolean {
  const outcome = result.outcome;
  if (outcome.type !== "stopped") return false;
  return outcome.stop.type === "incomplete" || (outcome.stop.type === "budget_exhausted" && outcome.stop.budget === "tokens");
}

/** The requests a turn waits for, when it stopped `awaiting_approval`. */
export function awaitingApprovals(result: TurnResult): readonly ApprovalRequest[] {
  const outcome = result.outcome;
  return outcome.type === "stopped" && outcome.stop.type === "awaiting_approval" ? outcome.stop.approvals : [];
}

/** A stop that is a failure rather than an answer: which code it reads as, and why. */
export interface TurnFailure {
  readonly code: "provider_failure" | "internal_error";
  readonly message: string;
}

/**
 * The failure a stop amounts to: the model provider failed (not a refusal), or the runtime or a
 * plugin did. Other stops (cancelled, a limit, a tool's failure, waiting for approval) end with
 * what the turn produced. The message is the turn's last issue, which the lash API shows as well.
 */
export function turnFailure(result: TurnResult): TurnFailure | undefined {
  const type = stopType(result);
  const reason = result.issues.at(-1)?.message;
  if (type === "provider_error" && !isRefusal(result)) {
    return { code: "provider_failure", message: reason ?? "the model provider failed" };
  }
  if (type === "runtime_error" || type === "plugin_abort") {
    return { code: "internal_error", message: reason ?? `the turn stopped: ${type}` };
  }
  return undefined;
}
