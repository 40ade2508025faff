import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LashRuntime } from "@lash/core";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "@lash/stores/sql";
import { ScriptedProvider, textStep } from "@lash/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { runLash, temporaryDirectory } from "./run-lash.js";

/** A PNG signature and 300 KB of pattern: two chunks in the SQL store, about 400 KB of base64. */
function picture(seed: number): Uint8Array {
  const bytes = new Uint8Array(300_000);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  for (let index = 8; index < bytes.length; index += 1) bytes[index] = (index * 13 + seed) & 0xff;
  return bytes;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const IMAGE = picture(1);
const IMAGE_ID = sha256Hex(IMAGE);

/** Opens a migrated SQLite store file, runs `use`, closes it. */
async function withDatabase<Result>(file: string, use: (database: SqlSessionDatabase) => Promise<Result>): Promise<Result> {
  const database = createSqlSessionDatabase({ connection: `sqlite:${file}` });
  try {
    await database.migrateToLatest();
    return await use(database);
  } finally {
    await database.destroy();
  }
}

/** Stores session `sessionId` with one turn that sends `image`, as a host on the library would. */
async function storeImageSession(file: string, sessionId: string, image: Uint8Array): Promise<void> {
  await withDatabase(file, async (database) => {
    const store = database.openSession(sessionId);
    await store.saveSessionMeta({
      sessionId,
      sessionName: "What is in this picture?",
      createdAt: "2026-01-02T03:04:05.000Z",
      model: "scripted-model",
      relation: { type: "root" },
    });
    const runtime = await LashRuntime.builder()
      .withProvider(
        new ScriptedProvider([textStep("A test pattern.", { usage: { inputTokens: 40, outputTokens: 4 } })], {
          defaultModel: "scripted-model",
        }),
      )
      .withStore(store)
      .build();
    await runtime.runTurn({
      items: [
        { type: "text", text: "What is in this picture? " },
        { type: "image_ref", id: "photo.png" },
      ],
      imageBlobs: { "photo.png": image },
    });
  });
}

let home: string;
let source: string;

beforeAll(async () => {
  home = await temporaryDirectory();
  source = join(home, "source.db");
  await storeImageSession(source, "pictures", IMAGE);
});

describe("lash sessions export and import, with images", () => {
  it("export carries every image the session references, base64, with its id, media type and length", async () => {
    const result = await runLash(["sessions", "export", "pictures", "--store", `sqlite:${source}`], home);
    expect(result.code).toBe(0);
    const exported = JSON.parse(result.stdout);
    expect(exported).toMatchObject({ format: "lash.session-export.v1", sessionId: "pictures", headRevision: expect.any(Number) });
    expect(exported.attachments).toHaveLength(1);
    const [attachment] = exported.attachments;
    expect(attachment).toMatchObject({ id: IMAGE_ID, mediaType: "image/png", byteLength: IMAGE.byteLength });
    expect(new Uint8Array(Buffer.from(attachment.data, "base64"))).toEqual(IMAGE);
    expect(exported.missingAttachments).toBeUndefined();
  });

  it("import into another store brings back the graph, ledger, meta and images; the next turn sends the image", async () => {
    const exportFile = join(home, "pictures.json");
    await writeFile(exportFile, (await runLash(["sessions", "export", "pictures", "--store", `sqlite:${source}`], home)).stdout);
    const target = join(home, "target.db");
    const imported = await runLash(["sessions", "import", exportFile, "--store", `sqlite:${target}`], home);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe("pictures\n");
    expect(imported.stderr).toContain("imported session pictures (2 nodes, 1 image)");

    const [original, copy] = await Promise.all([
      withDatabase(source, (database) => database.openSession("pictures").loadSession({ type: "full_graph" })),
      withDatabase(target, (database) => database.openSession("pictures").loadSession({ type: "full_graph" })),
    ]);
    expect(copy?.graph).toEqual(original?.graph);
    expect(copy?.tokenLedger).toEqual(original?.tokenLedger);
    expect(copy?.checkpoint).toEqual(original?.checkpoint);

    const provider = new ScriptedProvider([textStep("Still a test pattern.")], { defaultModel: "scripted-model" });
    await withDatabase(target, async (database) => {
      expect(await database.openSession("pictures").loadSessionMeta()).toMatchObject({ sessionName: "What is in this picture?" });
      const stored = await database.attachments.get(IMAGE_ID);
      expect(stored === undefined ? undefined : sha256Hex(stored)).toBe(IMAGE_ID);
      const runtime = await LashRuntime.builder().withProvider(provider).withStore(database.openSession("pictures")).build();
      const turn = await runtime.runTurn("And its colour?");
      expect(turn.outcome.type).toBe("finished");
    });
    expect(provider.requests[0]?.attachments.map((attachment) => sha256Hex(attachment.data))).toEqual([IMAGE_ID]);
  });

  it("import refuses an id the store already has; --as imports a copy, also from stdin", async () => {
    const text = (await runLash(["sessions", "export", "pictures", "--store", `sqlite:${source}`], home)).stdout;
    const again = await runLash(["sessions", "import", "-", "--store", `sqlite:${source}`], home, { input: text });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("session pictures already exists");
    expect(again.stderr).toContain("--as <id>");

    const copied = await runLash(["sessions", "import", "-", "--as", "pictures-copy", "--store", `sqlite:${source}`], home, {
      input: text,
    });
    expect(copied.code).toBe(0);
    expect(copied.stdout).toBe("pictures-copy\n");
    await withDatabase(source, async (database) => {
      expect((await database.openSession("pictures-copy").loadSessionMeta())?.sessionId).toBe("pictures-copy");
      const read = await database.openSession("pictures-copy").loadSession({ type: "full_graph" });
      expect(read?.graph.nodes).toHaveLength(2);
    });
  });

  it("an export whose image bytes were changed is refused before anything is stored", async () => {
    const exported = JSON.parse((await runLash(["sessions", "export", "pictures", "--store", `sqlite:${source}`], home)).stdout);
    const changed = new Uint8Array(Buffer.from(exported.attachments[0].data, "base64"));
    changed[1000] = (changed[1000] ?? 0) ^ 0xff;
    exported.attachments[0].data = Buffer.from(changed).toString("base64");
    const file = join(home, "changed.json");
    await writeFile(file, JSON.stringify(exported));
    const target = join(home, "refused.db");
    const result = await runLash(["sessions", "import", file, "--store", `sqlite:${target}`], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`is damaged: attachment ${IMAGE_ID}: its bytes have the SHA-256 ${sha256Hex(changed)}`);
    await withDatabase(target, async (database) => {
      expect(await database.openSession("pictures").loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await database.attachments.has(sha256Hex(changed))).toBe(false);
      expect(await database.attachments.has(IMAGE_ID)).toBe(false);
    });
  });

  it("a file that is not an export is a usage error naming the problem", async () => {
    const file = join(home, "not-an-export.json");
    await writeFile(file, JSON.stringify({ format: "something-else", sessionId: "x" }));
    const result = await runLash(["sessions", "import", file, "--store", `sqlite:${join(home, "unused.db")}`], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not a lash session export: at `format`");
  });

  it("an image the store no longer has is listed under missingAttachments, and the import says the next turn will fail", async () => {
    const lost = picture(2);
    const file = join(home, "lost.db");
    await storeImageSession(file, "lost", lost);
    await withDatabase(file, (database) => database.attachments.delete(sha256Hex(lost)));
    const exported = await runLash(["sessions", "export", "lost", "--store", `sqlite:${file}`], home);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ attachments: [], missingAttachments: [sha256Hex(lost)] });
    expect(exported.stderr).toContain("1 image of session lost is not in");

    const exportFile = join(home, "lost.json");
    await writeFile(exportFile, exported.stdout);
    const imported = await runLash(["sessions", "import", exportFile, "--store", `sqlite:${join(home, "lost-target.db")}`], home);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain("1 image the session references is neither in the export nor in");
    expect(imported.stderr).toContain("attachment_resolution_failed");
  });
});
