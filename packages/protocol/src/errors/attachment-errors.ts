import { LashError, type LashErrorOptions, markerFor } from "./lash-error.js";

const tooLargeMarker = markerFor("AttachmentTooLargeError");
const tooLargeSymbol = Symbol.for(tooLargeMarker);

/** `AttachmentStore.put` refused bytes longer than the store's limit. Nothing was stored. */
export class AttachmentTooLargeError extends LashError {
  readonly [tooLargeSymbol] = true;
  /** The length of the refused bytes. */
  readonly byteLength: number;
  /** The store's limit (`maxAttachmentBytes`), in bytes. */
  readonly maxBytes: number;

  constructor(byteLength: number, maxBytes: number, options: LashErrorOptions = {}) {
    super("attachment_too_large", `the attachment is ${byteLength} bytes, more than the store's limit of ${maxBytes} bytes`, options);
    this.name = "AttachmentTooLargeError";
    this.byteLength = byteLength;
    this.maxBytes = maxBytes;
  }

  static override isInstance(error: unknown): error is AttachmentTooLargeError {
    return LashError.hasMarker(error, tooLargeMarker);
  }
}

const mediaTypeMarker = markerFor("AttachmentMediaTypeError");
const mediaTypeSymbol = Symbol.for(mediaTypeMarker);

/**
 * `AttachmentStore.put` refused bytes whose format it does not recognise (not a PNG, JPEG, GIF or
 * WebP image), or whose declared media type disagrees with the one their bytes show. Nothing was
 * stored.
 */
export class AttachmentMediaTypeError extends LashError {
  readonly [mediaTypeSymbol] = true;
  /** The media type the bytes show; `undefined` when they match no known format. */
  readonly detectedMediaType: string | undefined;
  /** The media type the caller declared, when it declared one. */
  readonly declaredMediaType: string | undefined;

  constructor(detectedMediaType: string | undefined, declaredMediaType: string | undefined, options: LashErrorOptions = {}) {
    super(
      "attachment_media_type_unsupported",
      detectedMediaType === undefined
        ? "the attachment is not a PNG, JPEG, GIF or WebP image (its bytes match none of these formats)"
        : `the attachment was declared ${declaredMediaType ?? "(none)"} but its bytes are ${detectedMediaType}`,
      options,
    );
    this.name = "AttachmentMediaTypeError";
    this.detectedMediaType = detectedMediaType;
    this.declaredMediaType = declaredMediaType;
  }

  static override isInstance(error: unknown): error is AttachmentMediaTypeError {
    return LashError.hasMarker(error, mediaTypeMarker);
  }
}

const notFoundMarker = markerFor("AttachmentNotFoundError");
const notFoundSymbol = Symbol.for(notFoundMarker);

/**
 * An attachment disappeared while it was being read (deleted or collected between `open` and the
 * end of the stream): the stream stops with this error instead of ending short.
 */
export class AttachmentNotFoundError extends LashError {
  readonly [notFoundSymbol] = true;
  /** The attachment's id. */
  readonly id: string;

  constructor(id: string, options: LashErrorOptions = {}) {
    super("attachment_not_found", `attachment \`${id}\` is not in the attachment store (it was deleted while being read)`, options);
    this.name = "AttachmentNotFoundError";
    this.id = id;
  }

  static override isInstance(error: unknown): error is AttachmentNotFoundError {
    return LashError.hasMarker(error, notFoundMarker);
  }
}
