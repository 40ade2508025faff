import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AttachmentRef, AttachmentStore, SessionNodeRecord, SessionStore } from "@lash/protocol";
import { attachmentTextReference, TEXT_ATTACHMENT_MEDIA_TYPE } from "@lash/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { encodeIdAsFileName } from "../../src/fs/file-name-encoding.js";
import { createFileSessionDatabase } from "../../src/fs/index.js";
import { backendTitle, SQL_TEST_BACKENDS } from "../backends.js";
import { append, commit, node, type TemporaryRoot, temporaryRoot } from "../fixtures.js";

/** A backend as these tests need it: its attachment store, its sessions, and a way to damage one. */
interface GcBackend {
  readonly attachments: AttachmentStore;
  openSession(sessionId: string): SessionStore;
  /** Makes the stored graph of `sessionId` unreadable. */
  damage(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

interface GcBackendKind {
  readonly title: string;
  readonly skipReason: string | undefined;
  open(): Promise<GcBackend>;
}

const kinds: GcBackendKind[] = [
  ...SQL_TEST_BACKENDS.map(
    (backend): GcBackendKind => ({
      title: backendTitle(backend, "attachment gc"),
      skipReason: backend.skipReason,
      async open() {
        const storage = await backend.createStorage();
        const database = await storage.open();
        return {
          attachments: database.attachments,
          openSession: (sessionId) => database.openSession(sessionId),
          async damage(sessionId) {
            // Unparseable JSON that still contains the marker the reference scan looks for.
            await storage
              .kysely()
              .updateTable("lash_graph_nodes")
              .set({ node_json: '{"byteLength": [' })
              .where("session_id", "=", sessionId)
              .execute();
          },
          close: () => storage.remove(),
        };
      },
    }),
  ),
  {
    title: "filesystem: attachment gc",
    skipReason: undefined,
    async open() {
      const root: TemporaryRoot = await temporaryRoot();
      const database = createFileSessionDatabase({ root: root.path });
      return {
        attachments: database.attachments,
        openSession: (sessionId) => database.openSession(sessionId),
        async damage(sessionId) {
          await database.close();
          const directory = join(root.path, "sessions", encodeIdAsFileName(sessionId, "session id"));
          await writeFile(join(directory, "revisions", "1.json"), "{ not json");
        },
        close: async () => {
          await database.close();
          await root.remove();
        },
      };
    },
  },
];

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function png(seed: number): Uint8Array {
  return new Uint8Array([...PNG_SIGNATURE, seed, seed + 1, seed + 2]);
}

function imageNode(nodeId: string, attachment: AttachmentRef, parent?: string): SessionNodeRecord {
  const record = node(nodeId, parent);
  record.payload = { kind: "message", message: { id: nodeId, role: "user", parts: [{ kind: "image", id: `${nodeId}.p0`, attachment }] } };
  return record;
}

for (const kind of kinds) {
  describe.skipIf(kind.skipReason !== undefined)(kind.title, () => {
    let backend: GcBackend | undefined;
    afterEach(async () => {
      await backend?.close();
      backend = undefined;
    });

    it("a reference held only by the head checkpoint (a plugin snapshot) keeps the blob", async () => {
      backend = await kind.open();
      const snapshot = await backend.attachments.put(png(1));
      const orphan = await backend.attachments.put(png(2));
      await backend.openSession("s1").commit(
        commit({
          commitId: "c1",
          graph: append([node("m1")]),
          checkpoint: {
            schemaVersion: 1,
            turnState: { turnIndex: 1, tokenUsage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 } },
            pluginSnapshots: { "lash.gallery": { pinned: [snapshot] } },
          },
        }),
      );
      expect(await backend.attachments.gc({ minimumAgeMs: 0 })).toMatchObject({ referencedCount: 1, deletedCount: 1 });
      expect(await backend.attachments.has(snapshot.id)).toBe(true);
      expect(await backend.attachments.has(orphan.id)).toBe(false);
    });

    it("a reference only in a tombstoned node does not keep the blob; one in a live node does", async () => {
      backend = await kind.open();
      const hidden = await backend.attachments.put(png(3));
      const live = await backend.attachments.put(png(4));
      const store = backend.openSession("s1");
      // `off` hangs beside the active path, so it may be tombstoned.
      await store.commit(
        commit({ commitId: "c1", graph: append([node("m1"), imageNode("off", hidden, "m1"), imageNode("m2", live, "m1")], "m2") }),
      );
      await store.tombstoneNodes(["off"]);
      expect(await backend.attachments.gc({ minimumAgeMs: 0 })).toMatchObject({ referencedCount: 1, retainedCount: 1, deletedCount: 1 });
      expect(await backend.attachments.has(hidden.id)).toBe(false);
      expect(await backend.attachments.has(live.id)).toBe(true);
    });

    it("text attachments (a tool's full output) are kept by the lash-attachment: reference in a stored text", async () => {
      backend = await kind.open();
      const full = new TextEncoder().encode("line\n".repeat(5_000));
      const output = await backend.attachments.put(full, { mediaType: "text/plain; charset=utf-8" });
      expect(output.mediaType).toBe(TEXT_ATTACHMENT_MEDIA_TYPE);
      const orphan = await backend.attachments.put(new TextEncoder().encode("nobody cites me"), { mediaType: "text/plain" });
      const cut = node("m1");
      cut.payload = {
        kind: "message",
        message: {
          id: "m1",
          role: "user",
          parts: [
            {
              kind: "text",
              id: "m1.p0",
              content: `line\n[... output cut. Read the rest with read_tool_output({"id":"${attachmentTextReference(output.id)}"}) ...]`,
            },
          ],
        },
      };
      await backend.openSession("s1").commit(commit({ commitId: "c1", graph: append([cut]) }));
      expect(await backend.attachments.gc({ minimumAgeMs: 0 })).toMatchObject({ referencedCount: 1, deletedCount: 1 });
      expect(await backend.attachments.get(output.id)).toEqual(full);
      expect(await backend.attachments.has(orphan.id)).toBe(false);
    });

    it("a session whose stored graph cannot be read stops gc before anything is deleted", async () => {
      backend = await kind.open();
      const referenced = await backend.attachments.put(png(5));
      const orphan = await backend.attachments.put(png(6));
      await backend.openSession("good").commit(commit({ sessionId: "good", commitId: "c1", graph: append([imageNode("m1", referenced)]) }));
      await backend.openSession("bad").commit(commit({ sessionId: "bad", commitId: "c1", graph: append([imageNode("m1", referenced)]) }));
      await backend.damage("bad");
      await expect(backend.attachments.gc({ minimumAgeMs: 0 })).rejects.toMatchObject({ code: "invalid_persisted_data", sessionId: "bad" });
      expect(await backend.attachments.has(orphan.id)).toBe(true);
      expect(await backend.attachments.has(referenced.id)).toBe(true);
    });
  });
}
