import { z } from "zod";
import { AttachmentMediaTypeError, AttachmentTooLargeError } from "./errors/attachment-errors.js";
import { LashError } from "./errors/lash-error.js";

/*
 * The rules every `AttachmentStore` applies, in one place so the in-memory, SQL and filesystem
 * stores cannot drift apart: which bytes are accepted (a known image format, within the size limit),
 * what an id looks like, how a stream is chunked, and how stored session data names the attachments
 * it references.
 */

/** The default `maxAttachmentBytes` of every store: 20 MiB. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/**
 * The most bytes one chunk of `AttachmentStore.open` yields (256 KiB). The SQL store keeps blobs in
 * rows of this size, so reading or writing a large blob never holds more than one row in a driver
 * buffer.
 */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024;

/**
 * The default `minimumAgeMs` of `AttachmentStore.gc` (one hour): a blob stored (or stored again)
 * more recently is kept even when no session references it yet, because the commit that will
 * reference it may still be on its way (a turn stores its images before it commits its message).
 */
export const DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS = 60 * 60 * 1000;

const ATTACHMENT_ID = /^[0-9a-f]{64}$/;

/** True when `id` has the shape of an attachment id (64 lowercase hex digits, a SHA-256). */
export function isAttachmentId(id: unknown): id is string {
  return typeof id === "string" && ATTACHMENT_ID.test(id);
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

const ascii = (text: string): number[] => [...text].map((character) => character.charCodeAt(0));

/**
 * How many leading bytes `detectImageMediaType` reads: a reader that has only the start of a blob
 * (a file store's `stat`) passes this many.
 */
export const MEDIA_TYPE_SIGNATURE_BYTES = 12;

/** The image media type detected from the bytes' signature (PNG, JPEG, GIF, WebP), if any. */
export function detectImageMediaType(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  return undefined;
}

/** The media type of text attachments (a tool's full output, kept beside the excerpt the model reads). */
export const TEXT_ATTACHMENT_MEDIA_TYPE = "text/plain; charset=utf-8";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** True for `text/plain`, with or without `charset=utf-8` (any case, any spacing). */
function declaresPlainText(mediaType: string | undefined): boolean {
  if (mediaType === undefined) return false;
  const [type, ...parameters] = mediaType
    .toLowerCase()
    .split(";")
    .map((part) => part.trim());
  return type === "text/plain" && parameters.every((parameter) => parameter === "charset=utf-8" || parameter === 'charset="utf-8"');
}

/** True when the bytes are UTF-8 text: they decode strictly and hold no NUL (a binary file that happens to decode). */
function isUtf8Text(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks bytes offered to `AttachmentStore.put` and returns the media type to record (the one the
 * bytes show): an image format its signature names, or, when `text/plain` is declared, UTF-8 text
 * (`TEXT_ATTACHMENT_MEDIA_TYPE`). Throws before anything is stored: `LashError("invalid_argument")`
 * for bytes that are not a `Uint8Array`, `AttachmentTooLargeError` past `maxBytes`,
 * `AttachmentMediaTypeError` for an unknown format, text that is not UTF-8, or a declared type that
 * disagrees with the bytes.
 */
export function checkAttachmentPut(bytes: unknown, declaredMediaType: string | undefined, maxBytes: number): string {
  if (!(bytes instanceof Uint8Array)) {
    throw new LashError("invalid_argument", "an attachment's bytes must be a Uint8Array (a Buffer is one)");
  }
  if (bytes.byteLength > maxBytes) throw new AttachmentTooLargeError(bytes.byteLength, maxBytes);
  if (declaresPlainText(declaredMediaType)) {
    if (!isUtf8Text(bytes)) throw new AttachmentMediaTypeError(undefined, declaredMediaType);
    return TEXT_ATTACHMENT_MEDIA_TYPE;
  }
  const detected = detectImageMediaType(bytes);
  if (detected === undefined) throw new AttachmentMediaTypeError(undefined, declaredMediaType);
  if (declaredMediaType !== undefined && declaredMediaType.toLowerCase() !== detected) {
    throw new AttachmentMediaTypeError(detected, declaredMediaType);
  }
  return detected;
}

/**
 * Checks a store's `maxAttachmentBytes` option (a positive safe integer) and returns it, or the
 * default when it is absent. A bad value is `LashError("invalid_configuration")`.
 */
export function attachmentByteLimit(maxBytes: unknown): number {
  if (maxBytes === undefined) return DEFAULT_MAX_ATTACHMENT_BYTES;
  if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new LashError("invalid_configuration", `maxAttachmentBytes must be a positive integer, got ${JSON.stringify(maxBytes)}`);
  }
  return maxBytes;
}

/**
 * Checks `AttachmentStore.gc`'s `minimumAgeMs` option (a non-negative safe integer) and returns it,
 * or the default when it is absent. A bad value is `LashError("invalid_argument")`.
 */
export function attachmentGcMinimumAge(minimumAgeMs: unknown): number {
  if (minimumAgeMs === undefined) return DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS;
  if (typeof minimumAgeMs !== "number" || !Number.isSafeInteger(minimumAgeMs) || minimumAgeMs < 0) {
    throw new LashError("invalid_argument", `gc's minimumAgeMs must be a non-negative integer, got ${JSON.stringify(minimumAgeMs)}`);
  }
  return minimumAgeMs;
}

/**
 * How text names an attachment (`lash-attachment:<id>`): a tool result cut to an excerpt names the
 * attachment that keeps its full output this way, so the reference lives in the text the session
 * stores and a garbage collector finds it there.
 */
export const ATTACHMENT_TEXT_REFERENCE_PREFIX = "lash-attachment:";

const TEXT_REFERENCE = /lash-attachment:([0-9a-f]{64})/g;

/** The text reference to attachment `id` (see `ATTACHMENT_TEXT_REFERENCE_PREFIX`). */
export function attachmentTextReference(id: string): string {
  return `${ATTACHMENT_TEXT_REFERENCE_PREFIX}${id}`;
}

/**
 * Adds to `into` the id of every attachment reference found anywhere in a stored JSON value
 * (message parts, tool results, suspended turns, plugin snapshots): objects of the shape of
 * `AttachmentRef` (`{ id, mediaType, byteLength }`), and `lash-attachment:<id>` in any string. A
 * garbage collector keeps what this finds, so it errs on the side of keeping: any object of that
 * shape counts, whatever key holds it.
 */
export function collectAttachmentIds(value: unknown, into: Set<string>): Set<string> {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === "string") {
      if (current.includes(ATTACHMENT_TEXT_REFERENCE_PREFIX)) {
        for (const match of current.matchAll(TEXT_REFERENCE)) if (match[1] !== undefined) into.add(match[1]);
      }
      continue;
    }
    if (typeof current !== "object" || current === null) continue;
    if (Array.isArray(current)) {
      for (const item of current) pending.push(item);
      continue;
    }
    const record = current as Record<string, unknown>;
    if (isAttachmentId(record.id) && typeof record.mediaType === "string" && typeof record.byteLength === "number") into.add(record.id);
    for (const item of Object.values(record)) pending.push(item);
  }
  return into;
}

/**
 * Texts one of which every stored JSON document that holds an attachment reference contains (a
 * reference object's `byteLength` key, or a text reference's prefix): a store may skip documents
 * with neither before parsing the rest.
 */
export const ATTACHMENT_REFERENCE_MARKERS: readonly string[] = ['"byteLength"', ATTACHMENT_TEXT_REFERENCE_PREFIX];

/** What `AttachmentStore.stat` knows of a stored blob. */
export const attachmentStatSchema = z.object({
  /** The blob's id: the hex SHA-256 of its bytes. */
  id: z.string().regex(ATTACHMENT_ID),
  /** The media type detected from the bytes when they were stored (`image/png`, ...). */
  mediaType: z.string().min(1),
  /** The length of the bytes. */
  byteLength: z.number().int().nonnegative(),
  /** When the bytes were last stored (a `put` of bytes already there renews it), ISO-8601 UTC. */
  storedAt: z.string(),
});
export type AttachmentStat = z.infer<typeof attachmentStatSchema>;

/** What `AttachmentStore.gc` did. */
export const attachmentGcReportSchema = z.object({
  /** Distinct attachments the stored sessions reference. */
  referencedCount: z.number().int().nonnegative(),
  /** Blobs kept: referenced, or stored less than `minimumAgeMs` ago. */
  retainedCount: z.number().int().nonnegative(),
  /** Blobs deleted. */
  deletedCount: z.number().int().nonnegative(),
  /** The bytes those blobs held. */
  deletedBytes: z.number().int().nonnegative(),
});
export type AttachmentGcReport = z.infer<typeof attachmentGcReportSchema>;
