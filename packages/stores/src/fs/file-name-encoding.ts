import { createHash } from "node:crypto";
import { LashError } from "@lash/protocol";

/**
 * Ids (session ids, commit ids) become file names here, and ids are data, never paths: `../x`, `/abs`,
 * `C:\x`, NUL bytes, names that differ only in case (case-insensitive filesystems) or only in Unicode
 * normalisation must all stay inside the root and never collide. An encoded name is therefore built
 * from lowercase hex digits and `-` only.
 *
 * - Short form (at most {@link SHORT_FORM_MAX_BYTES} bytes): the hex of the id's bytes.
 * - Long form: the hex of the first {@link SHORT_FORM_MAX_BYTES} bytes, `-`, and the SHA-256 of all the
 *   bytes, so that every name stays under common file name limits (at most 193 characters).
 *
 * The bytes are the id's generalised UTF-8 (WTF-8): a lone surrogate is encoded as its own code point
 * instead of being replaced by U+FFFD, which would make `"\uD800"` and `"\uFFFD"` collide. Byte order
 * of that encoding is code-point order, and hex keeps byte order, so sorting short names sorts ids the
 * way `compareCodePoints` does; only long names sharing their prefix need their stored ids to be
 * ordered. Names are decoded back into ids only to name a listed session whose files are all
 * unreadable (see {@link decodeShortFileName}): otherwise the stored files carry the exact id.
 */
export const SHORT_FORM_MAX_BYTES = 64;

const HEX_DIGITS = "0123456789abcdef";
const SHORT_NAME = /^(?:[0-9a-f]{2})+$/;
const LONG_NAME = /^(?:[0-9a-f]{2})+-[0-9a-f]{64}$/;

/** The generalised UTF-8 bytes of `id` (lone surrogates kept as their own code point). */
export function idBytes(id: string): Uint8Array {
  const bytes: number[] = [];
  // `for...of` walks code points: a surrogate pair gives one astral code point, a lone surrogate itself.
  for (const character of id) {
    const point = character.codePointAt(0) ?? 0;
    if (point < 0x80) {
      bytes.push(point);
    } else if (point < 0x800) {
      bytes.push(0xc0 | (point >> 6), 0x80 | (point & 0x3f));
    } else if (point < 0x10000) {
      bytes.push(0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f));
    } else {
      bytes.push(0xf0 | (point >> 18), 0x80 | ((point >> 12) & 0x3f), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f));
    }
  }
  return Uint8Array.from(bytes);
}

function hexOf(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += HEX_DIGITS[byte >> 4] + (HEX_DIGITS[byte & 0x0f] ?? "");
  return hex;
}

/** The hex of the id's bytes, unabridged: what listing compares names with. */
export function idHex(id: string): string {
  return hexOf(idBytes(id));
}

/**
 * The file name that stands for `id` (see the module comment). Throws `LashError("invalid_argument")`
 * for an empty id, which no stored object may have.
 *
 * @param kind - what the id names, for the error message (`"session id"`, `"commit id"`).
 */
export function encodeIdAsFileName(id: string, kind: string): string {
  if (typeof id !== "string" || id.length === 0) {
    throw new LashError("invalid_argument", `a ${kind} must be a non-empty string`);
  }
  const bytes = idBytes(id);
  if (bytes.length <= SHORT_FORM_MAX_BYTES) return hexOf(bytes);
  const digest = createHash("sha256").update(bytes).digest("hex");
  return `${hexOf(bytes.subarray(0, SHORT_FORM_MAX_BYTES))}-${digest}`;
}

/**
 * The id behind a short-form name (the inverse of {@link encodeIdAsFileName} for ids of at most
 * {@link SHORT_FORM_MAX_BYTES} bytes), or `undefined` for a long-form name or one that no id encodes
 * to. Listing uses it to name a session whose files cannot be read; the answer is checked by
 * encoding it again, so a malformed name never yields a wrong id.
 */
export function decodeShortFileName(name: string): string | undefined {
  if (!SHORT_NAME.test(name) || name.length > SHORT_FORM_MAX_BYTES * 2) return undefined;
  const bytes: number[] = [];
  for (let index = 0; index < name.length; index += 2) bytes.push(Number.parseInt(name.slice(index, index + 2), 16));
  let id = "";
  for (let index = 0; index < bytes.length; ) {
    const lead = bytes[index] ?? 0;
    // Generalised UTF-8: the lead byte says how many continuation bytes follow.
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length === 0 || index + length > bytes.length) return undefined;
    let point = length === 1 ? lead : lead & (0xff >> (length + 1));
    for (let offset = 1; offset < length; offset += 1) point = (point << 6) | ((bytes[index + offset] ?? 0) & 0x3f);
    if (point > 0x10ffff) return undefined;
    id += String.fromCodePoint(point);
    index += length;
  }
  return id !== "" && encodeIdAsFileName(id, "session id") === name ? id : undefined;
}

/** What a directory entry's name says about where its id sorts, for listing without reading it. */
export interface EncodedNameOrder {
  /** The hex of the id (short form) or of its first bytes (long form). */
  readonly prefixHex: string;
  /** True for the long form: ids sharing `prefixHex` sort by their stored ids, not their names. */
  readonly isLong: boolean;
}

/** The ordering information of an encoded name, or `undefined` when the name is not one. */
export function encodedNameOrder(name: string): EncodedNameOrder | undefined {
  if (SHORT_NAME.test(name) && name.length <= SHORT_FORM_MAX_BYTES * 2) return { prefixHex: name, isLong: false };
  if (LONG_NAME.test(name)) {
    const prefixHex = name.slice(0, name.indexOf("-"));
    if (prefixHex.length === SHORT_FORM_MAX_BYTES * 2) return { prefixHex, isLong: true };
  }
  return undefined;
}

/**
 * True when the id behind an encoded name certainly sorts at or before the id whose hex is
 * `cursorHex`, so listing can skip it without reading its files. A long name whose prefix is a
 * prefix of the cursor is undecided (false): its stored id settles it.
 */
export function sortsAtOrBeforeCursor(order: EncodedNameOrder, cursorHex: string): boolean {
  if (!order.isLong) return order.prefixHex <= cursorHex;
  return order.prefixHex < cursorHex && !cursorHex.startsWith(order.prefixHex);
}
