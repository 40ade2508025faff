import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LashRuntime } from "@lash/core";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createSqlSessionDatabase } from "../sql/index.js";

// The README's attachments example, run as written (with the file in a temporary folder).
describe("the README's attachments example", () => {
  let folder: string | undefined;
  afterEach(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("stores a turn's image in the SQL database, streams it, and collects it once its session is gone", async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-readme-"));
    const database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "lash.db")}`, maxAttachmentBytes: 5 * 1024 * 1024 });
    await database.migrateToLatest();
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");

    const runtime = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([textStep("A red pixel.")]))
      .withStore(database.openSession("gallery"))
      .build();
    await runtime.runTurn({
      items: [
        { type: "text", text: "What is this? " },
        { type: "image_ref", id: "pixel.png" },
      ],
      imageBlobs: { "pixel.png": png },
    });

    const { id } = await database.attachments.put(png);
    const part = runtime.activeMessages()[0]?.parts.find((candidate) => candidate.kind === "image");
    expect(part).toMatchObject({ kind: "image", attachment: { id, mediaType: "image/png", byteLength: 70, label: "pixel.png" } });
    expect(await database.attachments.stat(id)).toMatchObject({ id, mediaType: "image/png", byteLength: 70 });
    const sizes: number[] = [];
    for await (const chunk of (await database.attachments.open(id)) ?? []) sizes.push(chunk.byteLength);
    expect(sizes).toEqual([70]);

    await database.openSession("gallery").deleteSession();
    expect(await database.attachments.gc({ minimumAgeMs: 0 })).toEqual({
      referencedCount: 0,
      retainedCount: 0,
      deletedCount: 1,
      deletedBytes: 70,
    });
    await database.destroy();
  });
});
