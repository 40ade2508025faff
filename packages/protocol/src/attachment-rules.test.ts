import { describe, expect, it } from "vitest";
import {
  ATTACHMENT_REFERENCE_MARKERS,
  attachmentByteLimit,
  attachmentGcMinimumAge,
  attachmentTextReference,
  checkAttachmentPut,
  collectAttachmentIds,
  DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  detectImageMediaType,
  isAttachmentId,
  TEXT_ATTACHMENT_MEDIA_TYPE,
} from "./attachment-rules.js";
import { AttachmentMediaTypeError, AttachmentTooLargeError } from "./errors/attachment-errors.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const ID = "a".repeat(64);

function thrown(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("detectImageMediaType", () => {
  it.each([
    ["image/png", PNG],
    ["image/jpeg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0])],
    ["image/gif", new TextEncoder().encode("GIF89a...")],
    ["image/webp", new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")],
  ])("recognises %s", (mediaType, bytes) => {
    expect(detectImageMediaType(bytes)).toBe(mediaType);
  });

  it("recognises nothing else", () => {
    expect(detectImageMediaType(new TextEncoder().encode("hello"))).toBeUndefined();
    expect(detectImageMediaType(new Uint8Array())).toBeUndefined();
    expect(detectImageMediaType(new TextEncoder().encode("RIFF\0\0\0\0WAVE"))).toBeUndefined();
  });
});

describe("checkAttachmentPut", () => {
  it("returns the detected media type; a declared type must agree (case aside)", () => {
    expect(checkAttachmentPut(PNG, undefined, 100)).toBe("image/png");
    expect(checkAttachmentPut(PNG, "IMAGE/PNG", 100)).toBe("image/png");
    const mismatch = thrown(() => checkAttachmentPut(PNG, "image/jpeg", 100));
    expect(AttachmentMediaTypeError.isInstance(mismatch)).toBe(true);
    expect(mismatch).toMatchObject({
      code: "attachment_media_type_unsupported",
      detectedMediaType: "image/png",
      declaredMediaType: "image/jpeg",
    });
  });

  it("refuses unknown formats, oversize bytes and non-bytes", () => {
    expect(thrown(() => checkAttachmentPut(new Uint8Array([1, 2, 3]), undefined, 100))).toMatchObject({
      code: "attachment_media_type_unsupported",
      detectedMediaType: undefined,
    });
    const large = thrown(() => checkAttachmentPut(PNG, undefined, PNG.byteLength - 1));
    expect(AttachmentTooLargeError.isInstance(large)).toBe(true);
    expect(large).toMatchObject({ code: "attachment_too_large", byteLength: PNG.byteLength, maxBytes: PNG.byteLength - 1 });
    expect(checkAttachmentPut(PNG, undefined, PNG.byteLength)).toBe("image/png");
    expect(thrown(() => checkAttachmentPut("png", undefined, 100))).toMatchObject({ code: "invalid_argument" });
  });

  it("takes UTF-8 text declared as text/plain, and refuses text that is not UTF-8 or holds NUL", () => {
    const text = new TextEncoder().encode("héllo\nwörld");
    expect(checkAttachmentPut(text, "text/plain", 100)).toBe(TEXT_ATTACHMENT_MEDIA_TYPE);
    expect(checkAttachmentPut(text, "Text/Plain; Charset=UTF-8", 100)).toBe(TEXT_ATTACHMENT_MEDIA_TYPE);
    for (const bad of [new Uint8Array([0xc3, 0x28]), new Uint8Array([0x61, 0x00, 0x62])]) {
      expect(thrown(() => checkAttachmentPut(bad, "text/plain", 100))).toMatchObject({ code: "attachment_media_type_unsupported" });
    }
    // Undeclared, text is not sniffed as an image; another charset is not taken.
    expect(thrown(() => checkAttachmentPut(text, undefined, 100))).toMatchObject({ code: "attachment_media_type_unsupported" });
    expect(thrown(() => checkAttachmentPut(text, "text/plain; charset=latin1", 100))).toMatchObject({
      code: "attachment_media_type_unsupported",
    });
    expect(thrown(() => checkAttachmentPut(text, "text/plain", 3))).toMatchObject({ code: "attachment_too_large" });
  });
});

describe("limits", () => {
  it("defaults and validates the byte limit and the gc age", () => {
    expect(attachmentByteLimit(undefined)).toBe(DEFAULT_MAX_ATTACHMENT_BYTES);
    expect(DEFAULT_MAX_ATTACHMENT_BYTES).toBe(20 * 1024 * 1024);
    expect(attachmentByteLimit(5)).toBe(5);
    for (const bad of [0, -1, 1.5, "5", Number.POSITIVE_INFINITY]) {
      expect(thrown(() => attachmentByteLimit(bad))).toMatchObject({ code: "invalid_configuration" });
    }
    expect(attachmentGcMinimumAge(undefined)).toBe(DEFAULT_ATTACHMENT_GC_MINIMUM_AGE_MS);
    expect(attachmentGcMinimumAge(0)).toBe(0);
    expect(thrown(() => attachmentGcMinimumAge(-1))).toMatchObject({ code: "invalid_argument" });
  });
});

describe("attachment ids and references", () => {
  it("an id is 64 lowercase hex digits", () => {
    expect(isAttachmentId(ID)).toBe(true);
    for (const bad of ["A".repeat(64), "a".repeat(63), `../${"a".repeat(61)}`, 42, undefined]) expect(isAttachmentId(bad)).toBe(false);
  });

  it("collects references anywhere in a value, and only reference-shaped objects", () => {
    const other = "b".repeat(64);
    const value = {
      payload: { message: { parts: [{ kind: "image", attachment: { id: ID, mediaType: "image/png", byteLength: 3 } }] } },
      pluginSnapshots: { memory: [[{ id: other, mediaType: "image/gif", byteLength: 9, label: "x" }]] },
      notAReference: { id: "c".repeat(64), mediaType: "image/png" },
      badId: { id: "not hex", mediaType: "image/png", byteLength: 1 },
    };
    expect([...collectAttachmentIds(value, new Set())].sort()).toEqual([ID, other]);
  });

  it("collects lash-attachment: references in any string", () => {
    const other = "d".repeat(64);
    const value = {
      result: `cut. Read the rest with read_tool_output({"id":"${attachmentTextReference(ID)}"}), or ${attachmentTextReference(other)}.`,
      shortId: "lash-attachment:abc",
    };
    expect([...collectAttachmentIds(value, new Set())].sort()).toEqual([ID, other].sort());
    expect(ATTACHMENT_REFERENCE_MARKERS.some((marker) => JSON.stringify(value).includes(marker))).toBe(true);
  });
});
