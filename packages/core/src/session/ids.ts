import { createHash, randomFillSync } from "node:crypto";
import type { Message } from "@lash/protocol";

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

/** A fresh message id: `"m"` followed by a UUID's 32 hex digits. */
export function freshMessageId(): string {
  return `m${uuidHex()}`;
}

/**
 * Ids of the last messages built around an id from `freshMessageId` that no graph has appended yet,
 * in a small ring: a turn appends the messages it builds right away, and an id that dropped out
 * (or was never appended) only costs a look-up in the store later. Compared by value, with no hash
 * of the id (a fresh id is a concatenated string, which a set would flatten and hash).
 */
const mintedMessageIds: (string | undefined)[] = new Array(16).fill(undefined);
let nextMintedSlot = 0;

/**
 * `message`, recorded as built around an id just drawn from `freshMessageId`: no store can hold a
 * node with that id, so the first graph that appends it need not look the id up (`takeMintedMessageId`).
 */
export function mintedMessage(message: Message): Message {
  mintedMessageIds[nextMintedSlot] = message.id;
  nextMintedSlot = (nextMintedSlot + 1) % mintedMessageIds.length;
  return message;
}

/**
 * True once for the id of a message from `mintedMessage`, false after that and for every other id:
 * a message appended again (a branch that replays it) may have been stored meanwhile.
 */
export function takeMintedMessageId(messageId: string): boolean {
  for (let slot = 0; slot < mintedMessageIds.length; slot += 1) {
    if (mintedMessageIds[slot] === messageId) {
      mintedMessageIds[slot] = undefined;
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
