import { vitestApi } from "../store-conformance/vitest-api.js";
import { type AttachmentHarnessArea, useAttachmentBackend } from "./attachment-context.js";
import { pngBytes } from "./attachment-fixtures.js";

/** `gc`: unreferenced blobs go, referenced ones and young ones stay, deleting a session frees its blobs. */
export const describeCollection: AttachmentHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("garbage collection", () => {
    const context = useAttachmentBackend(harness);

    it("gc keeps the blobs a session references and deletes the others", async () => {
      const backend = await context.backend();
      const { store } = backend;
      const kept = await store.put(pngBytes(1000, 30));
      const orphan = await store.put(pngBytes(600, 31));
      await backend.reference("s1", kept);
      expect(await store.gc({ minimumAgeMs: 0 })).toEqual({ referencedCount: 1, retainedCount: 1, deletedCount: 1, deletedBytes: 600 });
      expect(await store.get(kept.id)).toEqual(pngBytes(1000, 30));
      expect(await store.has(orphan.id)).toBe(false);
      expect(await store.gc({ minimumAgeMs: 0 })).toEqual({ referencedCount: 1, retainedCount: 1, deletedCount: 0, deletedBytes: 0 });
    });

    it("gc keeps an unreferenced blob stored less than minimumAgeMs ago (by default one hour)", async () => {
      const { store } = await context.backend();
      const young = await store.put(pngBytes(100, 32));
      expect((await store.gc()).deletedCount).toBe(0);
      expect((await store.gc({ minimumAgeMs: 60_000 })).deletedCount).toBe(0);
      expect(await store.has(young.id)).toBe(true);
    });

    it("deleting a session makes the blobs only it referenced collectable; a blob another session references stays", async () => {
      const backend = await context.backend();
      const { store } = backend;
      const shared = await store.put(pngBytes(300, 33));
      const own = await store.put(pngBytes(400, 34));
      await backend.reference("first", shared);
      await backend.reference("first", own);
      await backend.reference("second", shared);
      expect((await store.gc({ minimumAgeMs: 0 })).deletedCount).toBe(0);

      await backend.deleteSession("first");
      expect(await store.gc({ minimumAgeMs: 0 })).toEqual({ referencedCount: 1, retainedCount: 1, deletedCount: 1, deletedBytes: 400 });
      expect(await store.has(shared.id)).toBe(true);
      expect(await store.has(own.id)).toBe(false);

      await backend.deleteSession("second");
      expect(await store.gc({ minimumAgeMs: 0 })).toEqual({ referencedCount: 0, retainedCount: 0, deletedCount: 1, deletedBytes: 300 });
      expect(await store.has(shared.id)).toBe(false);
    });

    it("a bad minimumAgeMs is refused with invalid_argument and nothing is deleted", async () => {
      const { store } = await context.backend();
      const orphan = await store.put(pngBytes(50, 35));
      for (const minimumAgeMs of [-1, 1.5, Number.NaN]) {
        await expect(store.gc({ minimumAgeMs })).rejects.toMatchObject({ code: "invalid_argument" });
      }
      expect(await store.has(orphan.id)).toBe(true);
    });
  });
};
