import type { AttachmentRef, AttachmentStore, TurnInput } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { InMemoryAttachmentStore } from "../session/in-memory-attachment-store.js";
import { buildUserMessage, detectImageMediaType, type NormalizedInputItem, normalizeTurnInput } from "./normalize-input.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]);
const GIF87 = new Uint8Array([...new TextEncoder().encode("GIF87a"), 1, 0, 1, 0]);
const GIF89 = new Uint8Array([...new TextEncoder().encode("GIF89a"), 1, 0, 1, 0]);
const WEBP = new Uint8Array([...new TextEncoder().encode("RIFF"), 36, 0, 0, 0, ...new TextEncoder().encode("WEBPVP8 ")]);

const MESSAGE_ID = /^m[0-9a-f]{32}$/;

async function normalize(input: TurnInput, store: AttachmentStore = new InMemoryAttachmentStore()) {
  return normalizeTurnInput(input, store);
}

async function normalizedItems(input: TurnInput): Promise<readonly NormalizedInputItem[]> {
  const result = await normalize(input);
  if (!result.ok) throw new Error(`expected the input to normalize, got: ${result.message}`);
  return result.items;
}

describe("normalizeTurnInput", () => {
  it("merges adjacent text items with no separator (normalize_items_merges_adjacent_text_items)", async () => {
    const items = await normalizedItems({
      items: [
        { type: "text", text: "before " },
        { type: "text", text: "[file: host-prepared.txt]" },
      ],
    });
    expect(items).toEqual([{ type: "text", text: "before [file: host-prepared.txt]" }]);
  });

  it("skips empty text, so the text around it still merges", async () => {
    const items = await normalizedItems({
      items: [
        { type: "text", text: "a" },
        { type: "text", text: "" },
        { type: "text", text: "b" },
      ],
    });
    expect(items).toEqual([{ type: "text", text: "ab" }]);
  });

  it("keeps whitespace-only text (only empty text is skipped)", async () => {
    const items = await normalizedItems({ items: [{ type: "text", text: " " }] });
    expect(items).toEqual([{ type: "text", text: " " }]);
  });

  it("an image breaks the merging of text items", async () => {
    const items = await normalizedItems({
      items: [
        { type: "text", text: "look " },
        { type: "image_ref", id: "img" },
        { type: "text", text: "and " },
        { type: "text", text: "explain" },
      ],
      imageBlobs: { img: PNG },
    });
    expect(items.map((item) => item.type)).toEqual(["text", "image", "text"]);
    expect(items[0]).toEqual({ type: "text", text: "look " });
    expect(items[2]).toEqual({ type: "text", text: "and explain" });
  });

  it("stores an image with the media type detected from its bytes", async () => {
    const store = new InMemoryAttachmentStore();
    const result = await normalize({ items: [{ type: "image_ref", id: "photo" }], imageBlobs: { photo: JPEG } }, store);
    if (!result.ok) throw new Error(result.message);
    const item = result.items[0];
    if (item?.type !== "image") throw new Error("expected an image item");
    expect(item.attachment).toMatchObject({ mediaType: "image/jpeg", byteLength: JPEG.byteLength, label: "photo" });
    expect(item.attachment.id).toMatch(/^[0-9a-f]{64}$/);
    expect(await store.get(item.attachment.id)).toEqual(JPEG);
  });

  it("gives the same bytes the same attachment id", async () => {
    const items = await normalizedItems({
      items: [
        { type: "image_ref", id: "a" },
        { type: "image_ref", id: "b" },
      ],
      imageBlobs: { a: PNG, b: PNG.slice() },
    });
    const ids = items.map((item) => (item.type === "image" ? item.attachment.id : ""));
    expect(ids[0]).toBe(ids[1]);
  });

  it("rejects an image reference without a blob", async () => {
    const result = await normalize({ items: [{ type: "image_ref", id: "missing" }] });
    expect(result).toEqual({ ok: false, message: "Invalid image_ref: missing blob for id 'missing'" });
  });

  it("rejects an image reference with an empty id", async () => {
    const result = await normalize({ items: [{ type: "image_ref", id: "" }], imageBlobs: { "": PNG } });
    expect(result).toEqual({ ok: false, message: "Invalid image_ref: id cannot be empty" });
  });

  it("rejects bytes that are not a known image format", async () => {
    const result = await normalize({
      items: [{ type: "image_ref", id: "doc" }],
      imageBlobs: { doc: new TextEncoder().encode("%PDF-1.7") },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("doc");
  });

  it("does not read a blob from the object prototype", async () => {
    const result = await normalize({ items: [{ type: "image_ref", id: "toString" }], imageBlobs: {} });
    expect(result.ok).toBe(false);
  });

  it("reports an attachment store failure as a message", async () => {
    const failing: AttachmentStore = new (class extends InMemoryAttachmentStore {
      override async put(): Promise<AttachmentRef> {
        throw new Error("disk full");
      }
    })();
    const result = await normalize({ items: [{ type: "image_ref", id: "img" }], imageBlobs: { img: PNG } }, failing);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("disk full");
  });

  it("rejects malformed items with a clear message", async () => {
    const unknownType = await normalize({ items: [{ type: "audio", id: "x" } as never] });
    expect(unknownType.ok).toBe(false);
    const notString = await normalize({ items: [{ type: "text", text: 5 } as never] });
    expect(notString.ok).toBe(false);
    const notArray = await normalize({ items: "hello" } as never);
    expect(notArray.ok).toBe(false);
  });

  it("an empty input normalizes to no items", async () => {
    expect(await normalizedItems({ items: [] })).toEqual([]);
  });
});

describe("detectImageMediaType", () => {
  it.each([
    ["PNG", PNG, "image/png"],
    ["JPEG", JPEG, "image/jpeg"],
    ["GIF87a", GIF87, "image/gif"],
    ["GIF89a", GIF89, "image/gif"],
    ["WebP", WEBP, "image/webp"],
  ])("detects %s", (_name, bytes, mediaType) => {
    expect(detectImageMediaType(bytes)).toBe(mediaType);
  });

  it("returns undefined for unknown bytes, empty bytes and truncated signatures", () => {
    expect(detectImageMediaType(new TextEncoder().encode("hello world"))).toBeUndefined();
    expect(detectImageMediaType(new Uint8Array())).toBeUndefined();
    expect(detectImageMediaType(PNG.slice(0, 4))).toBeUndefined();
    expect(detectImageMediaType(new TextEncoder().encode("RIFF\0\0\0\0WAVE"))).toBeUndefined();
  });
});

describe("buildUserMessage", () => {
  it("with no items has one empty text part", () => {
    const message = buildUserMessage([]);
    expect(message.role).toBe("user");
    expect(message.parts).toEqual([{ kind: "text", id: `${message.id}.p0`, content: "" }]);
  });

  it('has an id of "m" and 32 hex digits, and part ids "{id}.p{i}"', () => {
    const attachment: AttachmentRef = { id: "a".repeat(64), mediaType: "image/png", byteLength: 12 };
    const message = buildUserMessage([
      { type: "text", text: "look" },
      { type: "image", attachment },
      { type: "text", text: "explain" },
    ]);
    expect(message.id).toMatch(MESSAGE_ID);
    expect(message.parts).toEqual([
      { kind: "text", id: `${message.id}.p0`, content: "look" },
      { kind: "image", id: `${message.id}.p1`, attachment },
      { kind: "text", id: `${message.id}.p2`, content: "explain" },
    ]);
  });

  it("gives every message a fresh id", () => {
    expect(buildUserMessage([]).id).not.toBe(buildUserMessage([]).id);
  });

  it("stores the effective user text verbatim", () => {
    const text = "/yolopush\n\n<skill>\nbody\n</skill>";
    expect(buildUserMessage([{ type: "text", text }]).parts[0]).toMatchObject({ kind: "text", content: text });
  });
});
