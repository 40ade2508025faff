import { ATTACHMENT_CHUNK_BYTES, AttachmentNotFoundError } from "@lash/protocol";
import { vitestApi } from "../store-conformance/vitest-api.js";
import { ATTACHMENT_TEST_TIMEOUT_MS, type AttachmentHarnessArea, useAttachmentBackend } from "./attachment-context.js";
import { collectChunks, concatenate, pngBytes, sha256Hex } from "./attachment-fixtures.js";

/** Three whole chunks and a short one. */
const MULTI_CHUNK_LENGTH = 3 * ATTACHMENT_CHUNK_BYTES + 1234;

/** `open`: a blob read one bounded chunk at a time. */
export const describeStreaming: AttachmentHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("streaming reads", () => {
    const context = useAttachmentBackend(harness);

    it("open yields a multi-chunk blob in order, in chunks of at most ATTACHMENT_CHUNK_BYTES", {
      timeout: ATTACHMENT_TEST_TIMEOUT_MS,
    }, async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(MULTI_CHUNK_LENGTH, 11);
      const { id } = await store.put(bytes);
      const stream = await store.open(id);
      if (stream === undefined) throw new Error("open found no blob that put just stored");
      const chunks = await collectChunks(stream);
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      for (const chunk of chunks) {
        expect(chunk).toBeInstanceOf(Uint8Array);
        expect(chunk.byteLength).toBeGreaterThan(0);
        expect(chunk.byteLength).toBeLessThanOrEqual(ATTACHMENT_CHUNK_BYTES);
      }
      const joined = concatenate(chunks);
      expect(joined.byteLength).toBe(MULTI_CHUNK_LENGTH);
      expect(sha256Hex(joined)).toBe(id);
      const whole = await store.get(id);
      expect(whole === undefined ? undefined : sha256Hex(whole)).toBe(sha256Hex(bytes));
    });

    it("a blob of exactly one chunk, and a tiny one, stream whole", async () => {
      const { store } = await context.backend();
      for (const length of [ATTACHMENT_CHUNK_BYTES, 9]) {
        const bytes = pngBytes(length, 12);
        const { id } = await store.put(bytes);
        const stream = await store.open(id);
        if (stream === undefined) throw new Error("open found no blob that put just stored");
        expect(sha256Hex(concatenate(await collectChunks(stream)))).toBe(id);
      }
    });

    it("open of an unknown id resolves to undefined", async () => {
      const { store } = await context.backend();
      expect(await store.open(sha256Hex(pngBytes(10, 13)))).toBeUndefined();
    });

    it("a reader may stop early; the blob stays readable, and each open reads from the start", {
      timeout: ATTACHMENT_TEST_TIMEOUT_MS,
    }, async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(2 * ATTACHMENT_CHUNK_BYTES + 5, 14);
      const { id } = await store.put(bytes);
      const stream = await store.open(id);
      if (stream === undefined) throw new Error("open found no blob that put just stored");
      for await (const chunk of stream) {
        expect(sha256Hex(chunk)).toBe(sha256Hex(bytes.subarray(0, chunk.byteLength)));
        break;
      }
      const again = await store.open(id);
      if (again === undefined) throw new Error("the blob disappeared after an early stop");
      expect(sha256Hex(concatenate(await collectChunks(again)))).toBe(id);
    });

    it("a blob deleted after open is read whole or fails with AttachmentNotFoundError, never short", {
      timeout: ATTACHMENT_TEST_TIMEOUT_MS,
    }, async () => {
      const { store } = await context.backend();
      const bytes = pngBytes(2 * ATTACHMENT_CHUNK_BYTES + 77, 15);
      const { id } = await store.put(bytes);
      const stream = await store.open(id);
      if (stream === undefined) throw new Error("open found no blob that put just stored");
      expect(await store.delete(id)).toBe(true);
      let read: Uint8Array | undefined;
      let failure: unknown;
      try {
        read = concatenate(await collectChunks(stream));
      } catch (error) {
        failure = error;
      }
      if (failure === undefined) expect(read === undefined ? undefined : sha256Hex(read)).toBe(id);
      else expect(AttachmentNotFoundError.isInstance(failure)).toBe(true);
    });
  });
};
