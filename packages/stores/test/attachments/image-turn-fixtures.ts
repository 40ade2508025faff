import { createHash } from "node:crypto";

/** The image of the first turn: a PNG signature and 600 KB of pattern, so the SQL store keeps it in three chunks. */
export function turnImage(): Uint8Array {
  const bytes = new Uint8Array(600_000);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  for (let index = 8; index < bytes.length; index += 1) bytes[index] = (index * 7 + (index >> 10)) & 0xff;
  return bytes;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What a step process prints. */
export interface ImageTurnReport {
  /** The turn's outcome type, and its stop type when it stopped. */
  readonly outcome?: string;
  readonly stop?: string;
  /** The turn's errors (codes), for a turn that stopped on one. */
  readonly errorCodes?: readonly string[];
  /** The attachments the model call of the turn carried: media type, length and digest of the bytes. */
  readonly attachments?: readonly { readonly mediaType: string; readonly byteLength: number; readonly sha256: string }[];
  /** The image blocks of the request's messages. */
  readonly imageBlocks?: number;
  readonly error?: string;
  readonly message?: string;
}
