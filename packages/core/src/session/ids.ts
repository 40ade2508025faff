import { createHash, randomUUID } from "node:crypto";

/** A fresh message id: `"m"` followed by a UUID's 32 hex digits. */
export function freshMessageId(): string {
  return `m${randomUUID().replaceAll("-", "")}`;
}

/** The id of part `index` of a message. */
export function partId(messageId: string, index: number): string {
  return `${messageId}.p${index}`;
}

/** A fresh UUID's 32 hex digits. */
export function freshHexId(): string {
  return randomUUID().replaceAll("-", "");
}

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The current time as an ISO-8601 UTC string. */
export function nowIso(): string {
  return new Date().toISOString();
}
