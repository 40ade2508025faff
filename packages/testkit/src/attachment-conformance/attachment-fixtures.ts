import { createHash } from "node:crypto";
import type { AttachmentRef, SessionNodeRecord, SessionStore } from "@lash/protocol";
import { appendDelta, FIXED_TIMESTAMP, sessionCommit } from "../store-conformance/fixtures.js";
import type { AttachmentStoreBackend } from "./harness.js";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** `length` bytes that start with the PNG signature; `seed` makes different blobs of one length. */
export function pngBytes(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(Math.max(length, PNG_SIGNATURE.length));
  bytes.set(PNG_SIGNATURE);
  for (let index = PNG_SIGNATURE.length; index < bytes.length; index += 1) bytes[index] = (index * 31 + seed * 101 + (index >> 8)) & 0xff;
  return bytes;
}

/** A small image of each format the stores recognise, with its media type. */
export const IMAGE_SAMPLES: readonly { readonly mediaType: string; readonly bytes: Uint8Array }[] = [
  { mediaType: "image/png", bytes: pngBytes(40, 1) },
  { mediaType: "image/jpeg", bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]) },
  { mediaType: "image/gif", bytes: new Uint8Array([...new TextEncoder().encode("GIF89a"), 1, 0, 1, 0, 0x80, 0]) },
  {
    mediaType: "image/webp",
    bytes: new Uint8Array([...new TextEncoder().encode("RIFF"), 36, 0, 0, 0, ...new TextEncoder().encode("WEBPVP8 ")]),
  },
];

/** Hex SHA-256 of the bytes: the id a store must give them. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Everything an async iterable yields. */
export async function collectChunks(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

/** The chunks joined into one array. */
export function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** A user message node with one image part, under `parentNodeId`. */
export function imageNode(nodeId: string, attachment: AttachmentRef, parentNodeId: string | undefined): SessionNodeRecord {
  const record: SessionNodeRecord = {
    nodeId,
    timestamp: FIXED_TIMESTAMP,
    payload: { kind: "message", message: { id: nodeId, role: "user", parts: [{ kind: "image", id: `${nodeId}.p0`, attachment }] } },
  };
  if (parentNodeId !== undefined) record.parentNodeId = parentNodeId;
  return record;
}

/**
 * `reference` and `deleteSession` of a backend whose sessions live in `SessionStore`s: a reference
 * is a commit appending a user message with the image (the way a turn stores one), and deleting
 * the session is `deleteSession()`. Harnesses of durable stores use it.
 *
 * @example
 * return { store: database.attachments, ...sessionStoreReferences((id) => database.openSession(id)), close };
 */
export function sessionStoreReferences(
  openSession: (sessionId: string) => SessionStore | Promise<SessionStore>,
): Pick<AttachmentStoreBackend, "reference" | "deleteSession"> {
  return {
    async reference(sessionId, attachment) {
      const store = await openSession(sessionId);
      const read = await store.loadSession({ type: "full_graph" });
      const revision = read?.headRevision;
      const nodeId = `image-${revision ?? 0}-${attachment.id.slice(0, 12)}`;
      await store.commit(
        sessionCommit({
          sessionId,
          commitId: `attach:${revision ?? 0}`,
          ...(revision === undefined ? {} : { expectedHeadRevision: revision }),
          graph: appendDelta([imageNode(nodeId, attachment, read?.graph.leafNodeId)], nodeId),
        }),
      );
    },
    async deleteSession(sessionId) {
      await (await openSession(sessionId)).deleteSession();
    },
  };
}
