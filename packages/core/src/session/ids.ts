import { createHash, randomFillSync } from "node:crypto";

/** Random bytes drawn ahead, 16 per id: one draw from the system's generator for many ids, as `randomUUID` does. */
const IDS_PER_DRAW = 256;
const randomBytes = Buffer.allocUnsafe(16 * IDS_PER_DRAW);
let nextRandomOffset = randomBytes.length;

/**
 * A random (version 4) UUID's 32 hex digits, written as one string from the random bytes (no UUID
 * with dashes to cut up and join again, which left a string of five pieces per id).
 */
function uuidHex(): string {
  if (nextRandomOffset === randomBytes.length) {
    randomFillSync(randomBytes);
    nextRandomOffset = 0;
  }
  const offset = nextRandomOffset;
  nextRandomOffset += 16;
  // The version and variant bits, as in every random UUID.
  randomBytes[offset + 6] = ((randomBytes[offset + 6] ?? 0) & 0x0f) | 0x40;
  randomBytes[offset + 8] = ((randomBytes[offset + 8] ?? 0) & 0x3f) | 0x80;
  return randomBytes.toString("hex", offset, offset + 16);
}

/**
 * The last message ids drawn by `freshMessageId` that no graph has appended yet, in a small ring: a
 * message is appended soon after its id is drawn, and an id that dropped out only costs a look-up
 * in the store later. Compared by value, with no hash of the id (a fresh id is a concatenated
 * string, which a set would flatten and hash).
 */
const unappendedMessageIds: (string | undefined)[] = new Array(16).fill(undefined);
let nextUnappendedSlot = 0;

/**
 * A fresh message id: `"m"` followed by a UUID's 32 hex digits. No store holds a node with it, so
 * the first graph that appends a message with it need not look it up (`takeUnappendedMessageId`).
 */
export function freshMessageId(): string {
  const id = `m${uuidHex()}`;
  unappendedMessageIds[nextUnappendedSlot] = id;
  nextUnappendedSlot = (nextUnappendedSlot + 1) % unappendedMessageIds.length;
  return id;
}

/**
 * True once for an id `freshMessageId` drew lately, false after that and for every other id: a
 * message appended again (a branch that replays it) may have been stored meanwhile.
 */
export function takeUnappendedMessageId(messageId: string): boolean {
  for (let slot = 0; slot < unappendedMessageIds.length; slot += 1) {
    if (unappendedMessageIds[slot] === messageId) {
      unappendedMessageIds[slot] = undefined;
      return true;
    }
  }
  return false;
}

/** The id of part `index` of a message. */
export function partId(messageId: string, index: number): string {
  return `${messageId}.p${index}`;
}

/** A fresh UUID's 32 hex digits. */
export function freshHexId(): string {
  return uuidHex();
}

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

let formattedMillisecond = Number.NaN;
let formatted = "";

/**
 * The current time as an ISO-8601 UTC string. Every node of a turn gets one, often several in the
 * same millisecond: the string of the last millisecond formatted is reused.
 */
export function nowIso(): string {
  const now = Date.now();
  if (now !== formattedMillisecond) {
    formattedMillisecond = now;
    formatted = new Date(now).toISOString();
  }
  return formatted;
}
