import { createHash } from "node:crypto";
import * as nodeFileSystem from "node:fs/promises";
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StoreUnavailableError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TemporaryRoot, temporaryRoot, thrown } from "../../test/fixtures.js";
import type { FileSystemOperations } from "./file-access.js";
import { createFileSessionDatabase } from "./file-session-database.js";

let root: TemporaryRoot;

beforeEach(async () => {
  root = await temporaryRoot();
});

afterEach(async () => {
  await root.remove();
});

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7, 7, 7, 7]);
const ID = createHash("sha256").update(PNG).digest("hex");

function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code });
}

/** Every name under `<root>/attachments`, recursively, relative to it. */
async function attachmentFiles(): Promise<string[]> {
  try {
    return (await readdir(join(root.path, "attachments"), { recursive: true })).map(String).sort();
  } catch {
    return [];
  }
}

describe("filesystem attachment store", () => {
  it("keeps one file per blob at attachments/<first two hex digits>/<sha256>, holding exactly the bytes", async () => {
    const { attachments } = createFileSessionDatabase({ root: root.path });
    await attachments.put(PNG);
    await attachments.put(PNG);
    expect(await attachmentFiles()).toEqual([ID.slice(0, 2), join(ID.slice(0, 2), ID)]);
    expect(new Uint8Array(await readFile(join(root.path, "attachments", ID.slice(0, 2), ID)))).toEqual(PNG);
  });

  it.each([
    ["the disk is full while the bytes are written", "writeFile"],
    ["the rename into place fails", "rename"],
  ] as const)("a put that fails because %s leaves no blob and no temporary file", async (_fault, operation) => {
    const fileSystem: FileSystemOperations = {
      ...nodeFileSystem,
      writeFile: async (...args: Parameters<typeof nodeFileSystem.writeFile>) => {
        if (operation === "writeFile") {
          // Half the bytes reach the temporary file, then the disk is full.
          await nodeFileSystem.writeFile(args[0], PNG.subarray(0, 5));
          throw systemError("ENOSPC");
        }
        return nodeFileSystem.writeFile(...args);
      },
      rename: async (from: string | Buffer | URL, to: string | Buffer | URL) => {
        if (operation === "rename") throw systemError("EIO");
        return nodeFileSystem.rename(from, to);
      },
    };
    const { attachments } = createFileSessionDatabase({ root: root.path, fileSystem });
    const error = await thrown(attachments.put(PNG));
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(await attachments.has(ID)).toBe(false);
    expect(await attachmentFiles()).toEqual([ID.slice(0, 2)]);
  });

  it("a blob file cut short on disk is written again by the next put of its bytes", async () => {
    const { attachments } = createFileSessionDatabase({ root: root.path });
    await attachments.put(PNG);
    await writeFile(join(root.path, "attachments", ID.slice(0, 2), ID), PNG.subarray(0, 4));
    await attachments.put(PNG);
    expect(await attachments.get(ID)).toEqual(PNG);
  });

  it("gc removes the temporary files of killed writers once they are old enough, and keeps young ones", async () => {
    const { attachments } = createFileSessionDatabase({ root: root.path });
    await attachments.put(PNG);
    const folder = join(root.path, "attachments", ID.slice(0, 2));
    await writeFile(join(folder, ".tmp-old"), "partial");
    await writeFile(join(folder, ".tmp-young"), "partial");
    const longAgo = new Date("2020-01-01T00:00:00Z");
    await utimes(join(folder, ".tmp-old"), longAgo, longAgo);
    await attachments.gc({ minimumAgeMs: 60_000 });
    expect((await readdir(folder)).sort()).toEqual([".tmp-young", ID]);
  });

  it("gc deletes an old unreferenced blob and keeps a young one", async () => {
    const { attachments } = createFileSessionDatabase({ root: root.path });
    const old = await attachments.put(PNG);
    const young = await attachments.put(new Uint8Array([...PNG, 1]));
    const longAgo = new Date("2020-01-01T00:00:00Z");
    await utimes(join(root.path, "attachments", old.id.slice(0, 2), old.id), longAgo, longAgo);
    expect(await attachments.stat(old.id)).toMatchObject({ storedAt: "2020-01-01T00:00:00.000Z" });
    expect(await attachments.gc({ minimumAgeMs: 60_000 })).toEqual({
      referencedCount: 0,
      retainedCount: 1,
      deletedCount: 1,
      deletedBytes: PNG.byteLength,
    });
    expect(await attachments.has(old.id)).toBe(false);
    expect(await attachments.has(young.id)).toBe(true);
  });
});
