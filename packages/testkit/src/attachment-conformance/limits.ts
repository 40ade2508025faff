import type { AttachmentStore } from "@lash/protocol";
import { AttachmentMediaTypeError, AttachmentTooLargeError, DEFAULT_MAX_ATTACHMENT_BYTES } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import { ATTACHMENT_TEST_TIMEOUT_MS, type AttachmentHarnessArea, useAttachmentBackend } from "./attachment-context.js";
import { pngBytes, sha256Hex } from "./attachment-fixtures.js";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the put to be refused");
}

async function expectNothingStored(store: AttachmentStore, bytes: Uint8Array): Promise<void> {
  const { expect } = vitestApi();
  const id = sha256Hex(bytes);
  expect(await store.has(id)).toBe(false);
  expect(await store.get(id)).toBeUndefined();
}

/** What `put` refuses, before anything is stored. */
export const describeLimits: AttachmentHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("limits and media types", () => {
    const context = useAttachmentBackend(harness);

    it("bytes over maxAttachmentBytes are refused with AttachmentTooLargeError and nothing is stored; the limit itself is accepted", async () => {
      const limit = 4096;
      const { store } = await context.backend({ maxAttachmentBytes: limit });
      const large = pngBytes(limit + 1, 20);
      const error = await rejection(store.put(large));
      expect(AttachmentTooLargeError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: "attachment_too_large", byteLength: limit + 1, maxBytes: limit });
      await expectNothingStored(store, large);
      const exact = pngBytes(limit, 21);
      expect((await store.put(exact)).byteLength).toBe(limit);
      expect(await store.get(sha256Hex(exact))).toEqual(exact);
    });

    it("the default limit is 20 MiB", { timeout: ATTACHMENT_TEST_TIMEOUT_MS }, async () => {
      const { store } = await context.backend();
      const large = pngBytes(DEFAULT_MAX_ATTACHMENT_BYTES + 1, 22);
      const error = await rejection(store.put(large));
      expect(error).toMatchObject({ code: "attachment_too_large", maxBytes: 20 * 1024 * 1024 });
      await expectNothingStored(store, large);
    });

    it("bytes of no known image format are refused with AttachmentMediaTypeError and nothing is stored", async () => {
      const { store } = await context.backend();
      for (const bytes of [
        new TextEncoder().encode("just some text"),
        new Uint8Array(),
        new TextEncoder().encode("RIFF\0\0\0\0WAVEfmt "),
      ]) {
        const error = await rejection(store.put(bytes, { mediaType: "image/png" }));
        expect(AttachmentMediaTypeError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: "attachment_media_type_unsupported", detectedMediaType: undefined });
        await expectNothingStored(store, bytes);
      }
    });

    it("a declared media type that disagrees with the bytes is refused; one that agrees is accepted", async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(200, 23);
      const error = await rejection(store.put(bytes, { mediaType: "image/jpeg" }));
      expect(error).toMatchObject({
        code: "attachment_media_type_unsupported",
        detectedMediaType: "image/png",
        declaredMediaType: "image/jpeg",
      });
      await expectNothingStored(store, bytes);
      expect((await store.put(bytes, { mediaType: "image/png" })).mediaType).toBe("image/png");
    });

    it("bytes that are not a Uint8Array are refused with invalid_argument", async () => {
      const { store } = await context.backend();
      for (const bytes of ["a string", [0x89, 0x50], undefined]) {
        expect(await rejection(store.put(bytes as unknown as Uint8Array))).toMatchObject({ code: "invalid_argument" });
      }
    });
  });
};
