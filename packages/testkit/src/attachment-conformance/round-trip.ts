import type { AttachmentStore } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import { type AttachmentHarnessArea, useAttachmentBackend } from "./attachment-context.js";
import { IMAGE_SAMPLES, pngBytes, sha256Hex } from "./attachment-fixtures.js";

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Ids no store may find: not 64 lowercase hex digits, or shaped to reach a path or a pattern. */
const MALFORMED_IDS = ["", "abc", "A".repeat(64), `../${"a".repeat(61)}`, `${"a".repeat(63)}%`, `${"a".repeat(64)}/x`, "a".repeat(65)];

async function expectAbsent(store: AttachmentStore, id: string): Promise<void> {
  const { expect } = vitestApi();
  expect(await store.get(id)).toBeUndefined();
  expect(await store.open(id)).toBeUndefined();
  expect(await store.has(id)).toBe(false);
  expect(await store.stat(id)).toBeUndefined();
}

/** put, get, has, stat and delete: what a blob is, once stored. */
export const describeRoundTrip: AttachmentHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("storing and reading a blob", () => {
    const context = useAttachmentBackend(harness);

    it("put returns the reference: the hex SHA-256 as id, the detected media type, the length and the label", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(1000);
      expect(await store.put(bytes, { mediaType: "image/png", label: "photo.png" })).toEqual({
        id: sha256Hex(bytes),
        mediaType: "image/png",
        byteLength: 1000,
        label: "photo.png",
      });
      expect(await store.put(bytes)).toEqual({ id: sha256Hex(bytes), mediaType: "image/png", byteLength: 1000 });
    });

    it("get returns the stored bytes, and the store keeps its own copy", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(500, 2);
      const original = bytes.slice();
      const { id } = await store.put(bytes);
      bytes[100] = (bytes[100] ?? 0) ^ 0xff;
      const read = await store.get(id);
      expect(read).toEqual(original);
      if (read !== undefined) read[200] = (read[200] ?? 0) ^ 0xff;
      expect(await store.get(id)).toEqual(original);
    });

    it("put is idempotent: the same bytes give the same reference and one blob, whatever the label", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(300, 3);
      const first = await store.put(bytes, { label: "a.png" });
      const second = await store.put(bytes.slice(), { label: "b.png" });
      const third = await store.put(bytes);
      expect({ ...second, label: "a.png" }).toEqual(first);
      expect(third).toEqual({ id: first.id, mediaType: "image/png", byteLength: 300 });
      expect(await store.get(first.id)).toEqual(bytes);
      const other = await store.put(pngBytes(300, 4));
      expect(other.id).not.toBe(first.id);
    });

    it("a put of bytes already stored renews their storedAt (never moves it back)", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(64, 5);
      const { id } = await store.put(bytes);
      const before = await store.stat(id);
      await store.put(bytes);
      const after = await store.stat(id);
      expect(after?.storedAt.localeCompare(before?.storedAt ?? "")).toBeGreaterThanOrEqual(0);
    });

    it("has and stat describe a stored blob; both answer 'not there' for an unknown id", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(2048, 6);
      const id = sha256Hex(bytes);
      await expectAbsent(store, id);
      await store.put(bytes);
      expect(await store.has(id)).toBe(true);
      const stat = await store.stat(id);
      expect(stat).toMatchObject({ id, mediaType: "image/png", byteLength: 2048 });
      expect(stat?.storedAt).toMatch(ISO_TIME);
    });

    it("recognises PNG, JPEG, GIF and WebP from the bytes", async () => {
      const { store } = await context.backend();
      for (const sample of IMAGE_SAMPLES) {
        const ref = await store.put(sample.bytes);
        expect(ref.mediaType).toBe(sample.mediaType);
        expect((await store.stat(ref.id))?.mediaType).toBe(sample.mediaType);
        expect(await store.get(ref.id)).toEqual(sample.bytes);
      }
    });

    it("keeps UTF-8 text declared as text/plain (a tool's full output), and says so in stat", async () => {
      const { store } = await context.backend();
      const bytes = new TextEncoder().encode("résumé\n".repeat(1_000));
      const ref = await store.put(bytes, { mediaType: "text/plain", label: "tool-output" });
      expect(ref).toEqual({
        id: sha256Hex(bytes),
        mediaType: "text/plain; charset=utf-8",
        byteLength: bytes.byteLength,
        label: "tool-output",
      });
      expect(await store.get(ref.id)).toEqual(bytes);
      expect(await store.stat(ref.id)).toMatchObject({ mediaType: "text/plain; charset=utf-8", byteLength: bytes.byteLength });
      await expect(store.put(new Uint8Array([0xc3, 0x28]), { mediaType: "text/plain" })).rejects.toMatchObject({
        code: "attachment_media_type_unsupported",
      });
    });

    it("delete removes the blob (true), then finds nothing (false); the bytes can be stored again", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(700, 7);
      const { id } = await store.put(bytes);
      const kept = await store.put(pngBytes(700, 8));
      expect(await store.delete(id)).toBe(true);
      await expectAbsent(store, id);
      expect(await store.delete(id)).toBe(false);
      expect(await store.get(kept.id)).toEqual(pngBytes(700, 8));
      expect((await store.put(bytes)).id).toBe(id);
      expect(await store.get(id)).toEqual(bytes);
    });

    it("ids that are not 64 lowercase hex digits are never found, and delete of one does nothing", async () => {
      const { store } = await context.backend();
      const { id } = await store.put(pngBytes(100, 9));
      for (const malformed of [...MALFORMED_IDS, id.toUpperCase()]) {
        await expectAbsent(store, malformed);
        expect(await store.delete(malformed)).toBe(false);
      }
      expect(await store.has(id)).toBe(true);
    });

    // Only a durable backend has a reopen to survive: the others do not get the case at all.
    if (harness.capabilities.durable) {
      it("blobs survive reopening the backend", async () => {
        const bytes = pngBytes(300_000, 10);
        const before = await (await context.backend()).store.put(bytes);
        const { store } = await context.reopen();
        const read = await store.get(before.id);
        expect(read === undefined ? undefined : sha256Hex(read)).toBe(before.id);
        expect(await store.stat(before.id)).toMatchObject({ id: before.id, mediaType: "image/png", byteLength: 300_000 });
      });
    }
  });
};
