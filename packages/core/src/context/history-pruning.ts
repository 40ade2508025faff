import type { Message, MessagePart } from "@lash/protocol";
import { isUserTurnStart, lastAssistantIndex } from "./context-messages.js";
import { estimateMessageTokens } from "./token-estimate.js";

/** What pruning protects and how much it must free at once. */
export interface PruningSettings {
  /** Tokens of the newest conversation never pruned. */
  readonly protectRecentTokens: number;
  /** The newest user turns never pruned (from the user's message to the end). */
  readonly protectUserTurns: number;
  /** A prune happens only when it frees at least this many tokens, and then in steps of this size. */
  readonly minimumPruneTokens: number;
}

/** A view of the conversation with old tool outputs and images replaced, and what that saved. */
export interface PrunedHistory {
  readonly messages: readonly Message[];
  /** Estimated tokens freed (0 when nothing was pruned; `messages` is then the input array). */
  readonly savedTokens: number;
  /** Messages changed in the view. */
  readonly prunedMessages: number;
}

const PRUNED_PREFIX = "[tool output pruned";
const READ_HINT = /read_tool_output\(\{"id":"([^"]+)"/;

/** What the model reads instead of a pruned tool output. */
export function prunedToolOutputText(content: string, toolName: string | undefined): string {
  const from = toolName === undefined ? "" : ` from \`${toolName}\``;
  const read = READ_HINT.exec(content);
  const hint = read === null ? "Run the tool again if you need it." : `read_tool_output({"id":"${read[1]}"}) still reads the full output.`;
  return `${PRUNED_PREFIX} to save context: ${content.length} characters${from}. ${hint}]`;
}

/** What the model reads instead of an omitted image. */
export function omittedImageText(mediaType: string, byteLength: number): string {
  return `[image omitted to save context: ${mediaType}, ${byteLength} bytes]`;
}

function prunedPart(part: MessagePart): MessagePart | undefined {
  if (part.kind === "tool_result") {
    if (part.content.startsWith(PRUNED_PREFIX)) return undefined;
    const replacement = prunedToolOutputText(part.content, part.toolName);
    return replacement.length < part.content.length ? { ...part, content: replacement } : undefined;
  }
  if (part.kind === "image")
    return { kind: "text", id: part.id, content: omittedImageText(part.attachment.mediaType, part.attachment.byteLength) };
  return undefined;
}

// `null`: nothing in the message can be pruned. Messages are immutable, so the answer never changes.
const prunedVersions = new WeakMap<Message, Message | null>();

/** The message with its tool outputs and images replaced by placeholders, or `undefined` when none is. */
export function prunedMessage(message: Message): Message | undefined {
  const cached = prunedVersions.get(message);
  if (cached !== undefined) return cached ?? undefined;
  let parts: MessagePart[] | undefined;
  message.parts.forEach((part, index) => {
    const replacement = prunedPart(part);
    if (replacement === undefined) return;
    parts ??= [...message.parts];
    parts[index] = replacement;
  });
  const pruned = parts === undefined ? undefined : { ...message, parts };
  prunedVersions.set(message, pruned ?? null);
  return pruned;
}

/**
 * The index from which nothing is pruned: the newest `protectRecentTokens` tokens, the newest
 * `protectUserTurns` user turns, and everything after the last assistant message (the results of
 * the open tool batch, which the coming call answers, and the user's new message).
 */
export function protectedFrom(
  messages: readonly Message[],
  settings: Pick<PruningSettings, "protectRecentTokens" | "protectUserTurns">,
): number {
  let from = messages.length;
  let seen = 0;
  for (let index = messages.length - 1; index >= 0 && seen < settings.protectRecentTokens; index -= 1) {
    from = index;
    seen += estimateMessageTokens(messages[index] as Message);
  }
  let turns = 0;
  for (let index = messages.length - 1; index >= 0 && turns < settings.protectUserTurns; index -= 1) {
    if (!isUserTurnStart(messages[index] as Message)) continue;
    turns += 1;
    from = Math.min(from, index);
  }
  return Math.min(from, lastAssistantIndex(messages) + 1);
}

interface Candidate {
  readonly index: number;
  readonly pruned: Message;
  readonly savedTokens: number;
}

/**
 * Prunes old tool outputs and images, oldest first, never in the protected part. Nothing is pruned
 * unless at least `minimumPruneTokens` can be freed; then the pruned part grows in steps of that
 * size (so consecutive calls send the same prefix and the provider's prompt cache keeps hitting),
 * unless `neededTokens` calls for more, in which case everything prunable is pruned.
 */
export function pruneHistory(messages: readonly Message[], settings: PruningSettings, neededTokens: number): PrunedHistory {
  const limit = protectedFrom(messages, settings);
  const candidates: Candidate[] = [];
  let prunable = 0;
  for (let index = 0; index < limit; index += 1) {
    const message = messages[index] as Message;
    const pruned = prunedMessage(message);
    if (pruned === undefined) continue;
    const savedTokens = estimateMessageTokens(message) - estimateMessageTokens(pruned);
    if (savedTokens <= 0) continue;
    candidates.push({ index, pruned, savedTokens });
    prunable += savedTokens;
  }
  const step = Math.max(1, settings.minimumPruneTokens);
  if (prunable < step) return { messages, savedTokens: 0, prunedMessages: 0 };
  const stepped = Math.floor(prunable / step) * step;
  const target = stepped >= neededTokens ? stepped : prunable;
  const view = [...messages];
  let saved = 0;
  let count = 0;
  for (const candidate of candidates) {
    if (saved >= target) break;
    view[candidate.index] = candidate.pruned;
    saved += candidate.savedTokens;
    count += 1;
  }
  return { messages: view, savedTokens: saved, prunedMessages: count };
}
