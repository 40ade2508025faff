import { z } from "zod";

/**
 * Any value that survives a JSON round trip. Tool arguments, tool values and submitted values are
 * JSON values; anything else (functions, `undefined`, class instances) is rejected at the boundary.
 */
export const jsonValueSchema = z.json();

/** A JSON value: `null`, boolean, finite number, string, array or plain object of JSON values. */
export type JsonValue = z.infer<typeof jsonValueSchema>;

/** A JSON object (string keys, JSON values). */
export type JsonObject = { [key: string]: JsonValue };

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      const entry = record[key];
      if (entry !== undefined) sorted[key] = sortKeysDeep(entry);
    }
    return sorted;
  }
  return value;
}

/**
 * Renders a value as JSON with object keys sorted at every depth, so that the same value always
 * renders to the same bytes (what the model sees must not depend on key insertion order).
 *
 * @param indent - spaces of indentation; `undefined` renders compact JSON.
 * @example
 * stableStringify({ b: 1, a: [true] }) // '{"a":[true],"b":1}'
 */
export function stableStringify(value: unknown, indent?: number): string {
  const rendered = JSON.stringify(sortKeysDeep(value), null, indent);
  // JSON.stringify(undefined) is undefined; the model and the store always get a string.
  return rendered ?? "null";
}

/**
 * Orders strings by code point, the byte order of their UTF-8 (what SQLite's BINARY and PostgreSQL's
 * "C" collations give, so every backend sorts alike): `localeCompare` depends on the machine's
 * locale, and `<` compares UTF-16 code units, which puts astral characters before U+E000..U+FFFF.
 */
export function compareCodePoints(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const leftPoint = left.codePointAt(index) ?? 0;
    const rightPoint = right.codePointAt(index) ?? 0;
    if (leftPoint !== rightPoint) return leftPoint < rightPoint ? -1 : 1;
    if (leftPoint > 0xffff) index += 1;
  }
  return left.length - right.length;
}

/**
 * The nesting depth of JSON text: the most `[` and `{` open at once, counted outside strings. Scans
 * the text once without recursion, so any text can be measured; stops as soon as the depth passes
 * `limit` (and returns that depth). Invalid JSON is measured all the same; `JSON.parse` rejects it
 * afterwards.
 */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      // 0x5c: a backslash escapes the next character (a quote inside the string included).
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return deepest;
}
