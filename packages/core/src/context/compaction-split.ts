import type { Message } from "@lash/protocol";
import { isToolResultMessage } from "../session/message-text.js";
import { isUserTurnStart, lastAssistantIndex } from "./context-messages.js";
import { estimateMessageTokens } from "./token-estimate.js";

/** Where a conversation is cut for a compaction: `messages[0..index)` are summarized, the rest kept. */
export interface CompactionSplit {
  readonly index: number;
  readonly summarizedTokens: number;
  readonly keptTokens: number;
}

/**
 * The latest index a compaction may keep from: the last message always stays, and so does the
 * open tool batch (the assistant message with the calls and their results) the coming call answers.
 */
function latestSplit(messages: readonly Message[]): number {
  const last = messages.at(-1);
  if (last === undefined) return -1;
  return isToolResultMessage(last) ? lastAssistantIndex(messages) : messages.length - 1;
}

/**
 * Indexes where the conversation may be cut: never between a tool call and its result (every call
 * before the cut has its result before the cut, and the kept part does not start with results).
 */
function validSplits(messages: readonly Message[], latest: number): number[] {
  const splits: number[] = [];
  const open = new Set<string>();
  let blocked = false;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index] as Message;
    if (index >= 1 && index <= latest && !blocked && open.size === 0 && !isToolResultMessage(message)) splits.push(index);
    for (const part of message.parts) {
      if (part.kind === "tool_call") {
        // A call without an id can never be paired with its result: nothing after it is a safe cut.
        if (part.callId === "") blocked = true;
        open.add(part.callId);
      } else if (part.kind === "tool_result") {
        open.delete(part.callId);
      }
    }
  }
  return splits;
}

/** Of the safe cuts, the one nearest `target` as `chooseCompactionSplit` prefers it, or `undefined`. */
function nearest(splits: readonly number[], target: number, suffix: readonly number[], keepRecentTokens: number): number | undefined {
  const low = splits.findLast((index) => index <= target);
  const high = splits.find((index) => index > target);
  const keepsTooMuch = low !== undefined && (suffix[low] as number) > 2 * keepRecentTokens;
  return low !== undefined && !(keepsTooMuch && high !== undefined) ? low : high;
}

/**
 * Chooses where to cut `messages` so that about `keepRecentTokens` of the newest conversation are
 * kept: the latest safe cut that keeps at least that much (unless that keeps more than twice as
 * much, then the next safe cut after it), preferring cuts where a user turn starts, so the kept
 * part opens with the user's own words. `limit` is the highest index the cut may have (the messages
 * after it are not in the session graph yet). `undefined` when no safe cut exists.
 */
export function chooseCompactionSplit(messages: readonly Message[], keepRecentTokens: number, limit: number): CompactionSplit | undefined {
  const latest = Math.min(latestSplit(messages), limit);
  if (latest < 1) return undefined;
  const splits = validSplits(messages, latest);
  if (splits.length === 0) return undefined;
  const suffix = new Array<number>(messages.length + 1).fill(0);
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    suffix[index] = (suffix[index + 1] as number) + estimateMessageTokens(messages[index] as Message);
  }
  let target = messages.length;
  while (target > 0 && (suffix[target - 1] as number) <= keepRecentTokens) target -= 1;
  const turnStarts = splits.filter((index) => isUserTurnStart(messages[index] as Message));
  const atTurnStart = nearest(turnStarts, target, suffix, keepRecentTokens);
  // A turn too long to keep whole (a long run of tool calls) is cut inside, at a safe point.
  const fits = atTurnStart !== undefined && (suffix[atTurnStart] as number) <= 2 * keepRecentTokens;
  const index = fits ? atTurnStart : (nearest(splits, target, suffix, keepRecentTokens) ?? atTurnStart);
  if (index === undefined) return undefined;
  const total = suffix[0] as number;
  const kept = suffix[index] as number;
  return { index, summarizedTokens: total - kept, keptTokens: kept };
}
