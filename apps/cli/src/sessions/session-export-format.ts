import { createHash } from "node:crypto";
import type { AttachmentStore, PersistedSessionRead, SessionCheckpoint, SessionGraph, SessionMeta } from "@lash/protocol";
import {
  collectAttachmentIds,
  isAttachmentId,
  persistedSessionConfigSchema,
  sessionCheckpointSchema,
  sessionGraphSchema,
  sessionMetaSchema,
  tokenLedgerEntrySchema,
} from "@lash/protocol";
import { z } from "zod";

/**
 * The file `lash sessions export` writes and `lash sessions import` reads (see the README):
 *
 * - `format`: always `lash.session-export.v1`;
 * - `sessionId`, `meta` (or `null`);
 * - for a session with commits: `headRevision`, `config`, `graph` (every live node and the leaf),
 *   `checkpoint` (or `null`), `tokenLedger`;
 * - `attachments`: every image the graph and the checkpoint reference, `{ id, mediaType,
 *   byteLength, data }` with the bytes in base64 (`id` is their hex SHA-256); absent in files
 *   written before attachments were exported;
 * - `missingAttachments`: ids the session references that the exporting store did not have
 *   (images of a session stored before the store kept them); absent when there are none.
 */
export const SESSION_EXPORT_FORMAT = "lash.session-export.v1";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One exported image. */
export const exportedAttachmentSchema = z.object({
  /** Hex SHA-256 of the bytes. */
  id: z.string().refine(isAttachmentId, "expected 64 lowercase hex digits"),
  /** The media type detected from the bytes (`image/png`, ...). */
  mediaType: z.string().min(1),
  /** The length of the bytes. */
  byteLength: z.number().int().nonnegative(),
  /** The bytes, base64. */
  data: z.string().regex(BASE64, "expected base64"),
});
export type ExportedAttachment = z.infer<typeof exportedAttachmentSchema>;

/** The whole export file. */
export const sessionExportSchema = z.object({
  format: z.literal(SESSION_EXPORT_FORMAT),
  sessionId: z.string().min(1),
  meta: sessionMetaSchema.nullable(),
  headRevision: z.number().int().positive().optional(),
  config: persistedSessionConfigSchema.optional(),
  graph: sessionGraphSchema.optional(),
  checkpoint: sessionCheckpointSchema.nullable().optional(),
  tokenLedger: z.array(tokenLedgerEntrySchema).optional(),
  attachments: z.array(exportedAttachmentSchema).optional(),
  missingAttachments: z.array(z.string()).optional(),
});
export type SessionExport = z.infer<typeof sessionExportSchema>;

/** The attachment ids a session's graph and checkpoint reference, sorted. */
export function referencedAttachments(graph: SessionGraph, checkpoint: SessionCheckpoint | null | undefined): string[] {
  const ids = collectAttachmentIds(graph.nodes, new Set());
  if (checkpoint !== undefined && checkpoint !== null) collectAttachmentIds(checkpoint, ids);
  return [...ids].sort();
}

/** Builds the export of a session from what the store loaded and the store's attachments. */
export async function buildSessionExport(
  sessionId: string,
  meta: SessionMeta | undefined,
  read: PersistedSessionRead | undefined,
  attachments: AttachmentStore,
): Promise<SessionExport> {
  if (read === undefined) return { format: SESSION_EXPORT_FORMAT, sessionId, meta: meta ?? null };
  const exported: ExportedAttachment[] = [];
  const missing: string[] = [];
  for (const id of referencedAttachments(read.graph, read.checkpoint)) {
    const [bytes, stat] = await Promise.all([attachments.get(id), attachments.stat(id)]);
    if (bytes === undefined || stat === undefined) {
      missing.push(id);
      continue;
    }
    exported.push({ id, mediaType: stat.mediaType, byteLength: bytes.byteLength, data: Buffer.from(bytes).toString("base64") });
  }
  return {
    format: SESSION_EXPORT_FORMAT,
    sessionId,
    meta: meta ?? null,
    headRevision: read.headRevision,
    config: read.config,
    graph: read.graph,
    checkpoint: read.checkpoint ?? null,
    tokenLedger: read.tokenLedger,
    attachments: exported,
    ...(missing.length === 0 ? {} : { missingAttachments: missing }),
  };
}

/**
 * The bytes of an exported attachment, checked against its id and length: a file edited or cut
 * short is refused before anything is stored. Returns a message when the entry does not hold.
 */
export function decodeExportedAttachment(attachment: ExportedAttachment): Uint8Array | string {
  const bytes = new Uint8Array(Buffer.from(attachment.data, "base64"));
  if (bytes.byteLength !== attachment.byteLength) {
    return `attachment ${attachment.id} holds ${bytes.byteLength} bytes, but its byteLength says ${attachment.byteLength}`;
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== attachment.id) return `attachment ${attachment.id}: its bytes have the SHA-256 ${digest}`;
  return bytes;
}
