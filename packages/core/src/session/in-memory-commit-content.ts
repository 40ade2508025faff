import type { SessionCommit } from "@lash/protocol";
import { LashError, stableStringify } from "@lash/protocol";
import { sha256Hex } from "./ids.js";

/** What a commit writes: everything but `durability`, which says how it is written, not what (ADR 0030). */
export type CommitContent = Omit<SessionCommit, "durability">;

function isPlainRecord(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

/** `value` as JSON would give it back; what a plain walk cannot copy goes through JSON itself. */
function copyJsonValue(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const copy = new Array<unknown>(value.length);
        for (let index = 0; index < value.length; index += 1) {
          const entry = copyJsonValue(value[index]);
          copy[index] = entry === undefined ? null : entry;
        }
        return copy;
      }
      if (!isPlainRecord(value)) return JSON.parse(JSON.stringify(value)) as unknown;
      const record = value as Record<string, unknown>;
      const copy: Record<string, unknown> = {};
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        const entry = copyJsonValue(record[key]);
        if (entry !== undefined) copy[key] = entry;
      }
      return copy;
    }
    case "bigint":
      throw new TypeError("a bigint has no JSON form");
    default:
      // `undefined`, functions and symbols: left out of objects, `null` in arrays (as JSON does).
      return undefined;
  }
}

/**
 * A copy of plain data with JSON's meaning: keys whose value is `undefined` are left out, as a
 * stored document has no `undefined`. A plain walk, several times cheaper than a JSON round trip
 * or `structuredClone` for the small objects a commit carries.
 *
 * @throws LashError `invalid_argument` for data JSON cannot hold (a cycle, a bigint).
 */
export function jsonCopy<Value>(value: Value, what: string): Value {
  try {
    return copyJsonValue(value) as Value;
  } catch (error) {
    throw new LashError("invalid_argument", `${what} is not JSON data: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The content of `commit`, copied (the store keeps this copy: later changes by the caller do not
 * reach it). A config or checkpoint that is the same JSON as the one `stored` at the head is not
 * copied again: the head's own copy is kept instead (most commits change neither, or only the
 * checkpoint).
 */
export function copiedCommitContent(
  commit: SessionCommit,
  stored?: { readonly config: unknown; readonly checkpoint: unknown },
): CommitContent {
  const { durability: _durability, config, checkpoint, ...rest } = commit;
  return {
    ...jsonCopy(rest, "the commit"),
    config:
      stored !== undefined && sameJson(config, stored.config) ? (stored.config as typeof config) : jsonCopy(config, "the commit's config"),
    checkpoint:
      stored !== undefined && sameJson(checkpoint, stored.checkpoint)
        ? (stored.checkpoint as typeof checkpoint)
        : jsonCopy(checkpoint, "the commit's checkpoint"),
  };
}

/**
 * Whether two values are the same JSON content: key order does not matter, as in the canonical
 * form the other stores hash. Only plain data is compared: a value that `jsonCopy` would change (an
 * object with a `toJSON` or a prototype of its own, a key holding `undefined`, a number JSON has no
 * form for) is never the same as a stored copy, so a caller's value that is the same as a copy the
 * store keeps can be stored as that copy.
 */
export function sameJson(left: unknown, right: unknown): boolean {
  if (left === right) return left !== undefined && (typeof left !== "number" || Number.isFinite(left));
  if (typeof left !== "object" || typeof right !== "object" || left === null || right === null) return false;
  if (Array.isArray(left)) {
    if (!Array.isArray(right) || left.length !== right.length) return false;
    for (let index = 0; index < left.length; index += 1) if (!sameJson(left[index], right[index])) return false;
    return true;
  }
  if (Array.isArray(right) || !isPlainRecord(left) || !isPlainRecord(right)) return false;
  const leftRecord = left as Record<string, unknown>;
  const rightRecord = right as Record<string, unknown>;
  let keys = 0;
  for (const key in leftRecord) {
    if (!Object.hasOwn(leftRecord, key)) continue;
    if (!Object.hasOwn(rightRecord, key) || !sameJson(leftRecord[key], rightRecord[key])) return false;
    keys += 1;
  }
  for (const key in rightRecord) if (Object.hasOwn(rightRecord, key)) keys -= 1;
  return keys === 0;
}

/** The hash of a commit's canonical content: what a compacted commit record keeps instead of the content. */
export function contentFingerprint(content: CommitContent): string {
  return sha256Hex(stableStringify(content));
}

/**
 * What the store remembers of an applied commit, to answer a re-send: its result, and its content
 * (compared as it is on a re-send, with no hashing on the commit path) or, once maintenance compacted
 * the record, the hash of that content.
 */
export interface StoredCommit {
  readonly result: { readonly headRevision: number; readonly commitId: string; readonly replayed: false };
  content: CommitContent | undefined;
  fingerprint: string | undefined;
}

/** Whether a re-sent commit has the content the stored one had. */
export function isSameCommit(stored: StoredCommit, content: CommitContent): boolean {
  if (stored.content !== undefined) return sameJson(stored.content, content);
  return stored.fingerprint === contentFingerprint(content);
}

/** Replaces a stored commit's content by its hash, so the record no longer holds the data alive. */
export function compactCommit(stored: StoredCommit): void {
  if (stored.content === undefined) return;
  stored.fingerprint = contentFingerprint(stored.content);
  stored.content = undefined;
}
