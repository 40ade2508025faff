import type { JsonValue, ReasoningReplay, ToolCallReplay } from "@lash/protocol";
import type { AiSdkJsonObject, AiSdkProviderOptionsRecord } from "./language-model-types.js";
import type { AiSdkProviderMetadata } from "./model-output-types.js";

/**
 * AI SDK providers return what they need to replay a reasoning block or a tool call (an item id,
 * encrypted reasoning, a signature) as `providerMetadata`, and read it back from the prompt part's
 * `providerOptions`, both keyed by the provider's namespace (`openai`, `anthropic`, `google`, ...).
 * This module stores that metadata in lash's replay records without interpreting it, so any
 * provider's replay data survives persistence, and turns it back into `providerOptions`.
 */

/**
 * `ReasoningReplay` has no field for opaque data, so the metadata travels as JSON in
 * `encryptedContent` behind this prefix: that field is what replay-aware code treats as the
 * opaque payload to send back, and the prefix tells this adapter's data from another adapter's.
 */
export const REASONING_METADATA_PREFIX = "ai-sdk-provider-metadata:";

/** The key under which a tool call's metadata is kept in `ToolCallReplay.opaque`. */
export const TOOL_CALL_METADATA_KEY = "aiSdkProviderMetadata";

type MetadataRecord = Record<string, Record<string, JsonValue>>;

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A JSON-clean copy of provider metadata (the AI SDK's `JSONObject` allows `undefined` members,
 * which a persisted record must not hold), or `undefined` when nothing is left.
 */
export function cleanProviderMetadata(metadata: AiSdkProviderMetadata | undefined): MetadataRecord | undefined {
  if (metadata === undefined) return undefined;
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(metadata)) as unknown;
  } catch {
    // Metadata that cannot be serialized (a cycle, a BigInt) cannot be persisted or replayed either.
    return undefined;
  }
  if (!isPlainRecord(copy)) return undefined;
  const result: MetadataRecord = {};
  for (const [namespace, entries] of Object.entries(copy)) {
    if (isPlainRecord(entries) && Object.keys(entries).length > 0) result[namespace] = entries as Record<string, JsonValue>;
  }
  return Object.keys(result).length === 0 ? undefined : result;
}

/** Merges metadata that arrives in pieces (start, deltas, end of a block): later keys win per namespace. */
export function mergeProviderMetadata(
  existing: AiSdkProviderMetadata | undefined,
  incoming: AiSdkProviderMetadata | undefined,
): AiSdkProviderMetadata | undefined {
  if (incoming === undefined) return existing;
  if (existing === undefined) return incoming;
  const merged: Record<string, AiSdkProviderMetadata[string]> = { ...existing };
  for (const [namespace, entries] of Object.entries(incoming)) {
    merged[namespace] = { ...existing[namespace], ...entries };
  }
  return merged;
}

function firstString(metadata: MetadataRecord, keys: readonly string[]): string | undefined {
  for (const entries of Object.values(metadata)) {
    for (const key of keys) {
      const value = entries[key];
      if (typeof value === "string" && value !== "") return value;
    }
  }
  return undefined;
}

/**
 * The replay record of a reasoning block, or `undefined` for display-only reasoning (no metadata,
 * which lash never sends back). `itemId`, `signature` and `redacted` are read from the usual
 * metadata keys so they show in sessions and traces; the replayed data is the full metadata.
 */
export function reasoningReplayFromMetadata(metadata: AiSdkProviderMetadata | undefined): ReasoningReplay | undefined {
  const clean = cleanProviderMetadata(metadata);
  if (clean === undefined) return undefined;
  const replay: ReasoningReplay = {
    encryptedContent: `${REASONING_METADATA_PREFIX}${JSON.stringify(clean)}`,
    redacted: firstString(clean, ["redactedData"]) !== undefined,
    summary: [],
  };
  const itemId = firstString(clean, ["itemId"]);
  if (itemId !== undefined) replay.itemId = itemId;
  const signature = firstString(clean, ["signature", "thoughtSignature"]);
  if (signature !== undefined) replay.signature = signature;
  return replay;
}

function parseMetadata(text: string): AiSdkProviderOptionsRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  if (!isPlainRecord(parsed)) return undefined;
  const options: AiSdkProviderOptionsRecord = {};
  for (const [namespace, entries] of Object.entries(parsed)) {
    // Parsed JSON: every member is a JSON value.
    if (isPlainRecord(entries)) options[namespace] = entries as AiSdkJsonObject;
  }
  return Object.keys(options).length === 0 ? undefined : options;
}

/**
 * The `providerOptions` to send with a replayed reasoning part, or `undefined` when the replay was
 * not written by this adapter (another adapter's encrypted content means nothing to this model).
 */
export function reasoningProviderOptions(replay: ReasoningReplay | undefined): AiSdkProviderOptionsRecord | undefined {
  const content = replay?.encryptedContent;
  if (content === undefined || !content.startsWith(REASONING_METADATA_PREFIX)) return undefined;
  return parseMetadata(content.slice(REASONING_METADATA_PREFIX.length));
}

/** The replay record of a tool call, or `undefined` when the model sent no metadata. */
export function toolCallReplayFromMetadata(metadata: AiSdkProviderMetadata | undefined): ToolCallReplay | undefined {
  const clean = cleanProviderMetadata(metadata);
  if (clean === undefined) return undefined;
  const replay: ToolCallReplay = { opaque: { [TOOL_CALL_METADATA_KEY]: clean } };
  const itemId = firstString(clean, ["itemId"]);
  if (itemId !== undefined) replay.itemId = itemId;
  return replay;
}

/** The `providerOptions` to send with a replayed tool call, when the replay came from this adapter. */
export function toolCallProviderOptions(replay: ToolCallReplay | undefined): AiSdkProviderOptionsRecord | undefined {
  const opaque = replay?.opaque;
  if (!isPlainRecord(opaque)) return undefined;
  const metadata = opaque[TOOL_CALL_METADATA_KEY];
  if (!isPlainRecord(metadata)) return undefined;
  return parseMetadata(JSON.stringify(metadata));
}
