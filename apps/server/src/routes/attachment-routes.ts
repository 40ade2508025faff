import { Readable } from "node:stream";
import { collectAttachmentIds } from "@lash/protocol";
import { ATTACHMENT_RESPONSE_HEADERS, attachmentIdSchema } from "@lash/remote-protocol";
import type { Hono } from "hono";
import { tenantOf } from "../auth/access-middleware.js";
import { HttpError } from "../http/http-error.js";
import { pathId } from "../http/path-parameters.js";
import { invalidRequest } from "../http/validation-error.js";
import type { ServerContext } from "../server-context.js";

function attachmentNotFound(sessionId: string, attachmentId: string): HttpError {
  return new HttpError("attachment_not_found", `session ${sessionId} references no attachment ${attachmentId}`, {
    status: 404,
    details: { sessionId, attachmentId },
  });
}

/**
 * `GET /v1/sessions/{id}/attachments/{attachmentId}`: the bytes of an image a message of the
 * session shows. The owner is checked first (another tenant's session is a 404), then the session's
 * graph must reference the id: the store is content-addressed and shared by every session, so
 * without that check a hash learnt elsewhere would read another session's image.
 */
export function registerAttachmentRoutes(app: Hono, context: ServerContext): void {
  app.get("/v1/sessions/:sessionId/attachments/:attachmentId", async (c) => {
    const sessionId = pathId(c, "sessionId");
    const parsed = attachmentIdSchema.safeParse(c.req.param("attachmentId"));
    if (!parsed.success) throw invalidRequest("the attachmentId", parsed.error);
    const attachmentId = parsed.data;
    await context.runtimes.assertOwner(sessionId, tenantOf(c));

    const sessionStore = context.store.openSession(sessionId);
    // Every node, not only the active branch: the console shows the other branches too.
    const read = await sessionStore.loadSession({ type: "full_graph" });
    const referenced = new Set<string>();
    for (const node of read?.graph.nodes ?? []) collectAttachmentIds(node, referenced);
    if (!referenced.has(attachmentId)) throw attachmentNotFound(sessionId, attachmentId);

    const attachments = sessionStore.attachments ?? context.store.factory.attachments;
    const stat = await attachments?.stat(attachmentId);
    const chunks = stat === undefined ? undefined : await attachments?.open(attachmentId);
    // Referenced but gone: erased (`AttachmentStore.delete`), or the store keeps none.
    if (stat === undefined || chunks === undefined) throw attachmentNotFound(sessionId, attachmentId);

    const image = stat.mediaType.startsWith("image/");
    // Streamed a chunk at a time; a blob erased mid-read fails the stream rather than ending it short.
    const body = Readable.toWeb(Readable.from(chunks)) as ReadableStream<Uint8Array>;
    return new Response(body, {
      headers: {
        ...ATTACHMENT_RESPONSE_HEADERS,
        "content-type": stat.mediaType,
        "content-length": String(stat.byteLength),
        "content-disposition": image ? "inline" : `attachment; filename="${attachmentId}"`,
      },
    });
  });
}
