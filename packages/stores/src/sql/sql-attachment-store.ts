import { createHash } from "node:crypto";
import type {
  AttachmentGcOptions,
  AttachmentGcReport,
  AttachmentPutOptions,
  AttachmentRef,
  AttachmentStat,
  AttachmentStore,
} from "@lash/protocol";
import {
  ATTACHMENT_CHUNK_BYTES,
  AttachmentNotFoundError,
  attachmentGcMinimumAge,
  checkAttachmentPut,
  InvalidPersistedDataError,
  isAttachmentId,
} from "@lash/protocol";
import { collectUnreferencedAttachments } from "./sql-attachment-gc.js";
import type { SqlStoreContext } from "./sql-store-context.js";

/** The header of a stored blob, as the reads need it. */
interface StoredHeader {
  readonly mediaType: string;
  readonly byteLength: number;
  readonly chunkCount: number;
  readonly storedAt: string;
}

function damaged(id: string, detail: string): InvalidPersistedDataError {
  return new InvalidPersistedDataError(
    undefined,
    `attachments.${id}`,
    `lash_attachments and lash_attachment_chunks of attachment \`${id}\`: ${detail}`,
  );
}

/** The length chunk `index` of a blob of `byteLength` bytes must have. */
function expectedChunkLength(byteLength: number, index: number): number {
  return Math.min(ATTACHMENT_CHUNK_BYTES, byteLength - index * ATTACHMENT_CHUNK_BYTES);
}

/**
 * The attachment store of a SQL session database (`SqlSessionDatabase.attachments`): blobs in the
 * same database as the sessions whose messages reference them, in `lash_attachments` and
 * `lash_attachment_chunks` (256 KiB rows). `put` is one write transaction at the database's full
 * durability, so the blob is on disk before the commit that references it is made. `gc` reads the
 * references from the sessions' rows (sql-attachment-gc.ts). See `AttachmentStore` for the contract.
 */
export class SqlAttachmentStore implements AttachmentStore {
  readonly #context: SqlStoreContext;
  readonly #maxBytes: number;

  /** @internal Use `SqlSessionDatabase.attachments`. */
  constructor(context: SqlStoreContext, maxBytes: number) {
    this.#context = context;
    this.#maxBytes = maxBytes;
  }

  /** The longest blob `put` accepts, in bytes (the database's `maxAttachmentBytes`). */
  get maxAttachmentBytes(): number {
    return this.#maxBytes;
  }

  async put(bytes: Uint8Array, options: AttachmentPutOptions = {}): Promise<AttachmentRef> {
    const mediaType = checkAttachmentPut(bytes, options.mediaType, this.#maxBytes);
    const id = createHash("sha256").update(bytes).digest("hex");
    const storedAt = new Date().toISOString();
    const chunkCount = Math.ceil(bytes.byteLength / ATTACHMENT_CHUNK_BYTES);
    await this.#context.run(`storing attachment \`${id}\``, () =>
      this.#context.write(async (database) => {
        // Bytes already stored only renew their time, which keeps a gc away until they are referenced.
        const renewed = await database
          .updateTable("lash_attachments")
          .set({ stored_at: storedAt })
          .where("attachment_id", "=", id)
          .executeTakeFirst();
        if (Number(renewed.numUpdatedRows) > 0) return;
        for (let index = 0; index < chunkCount; index += 1) {
          const start = index * ATTACHMENT_CHUNK_BYTES;
          const length = expectedChunkLength(bytes.byteLength, index);
          // A view, not a copy: the driver reads it before the statement returns.
          const content = Buffer.from(bytes.buffer, bytes.byteOffset + start, length);
          await database
            .insertInto("lash_attachment_chunks")
            .values({ attachment_id: id, chunk_index: index, content })
            .onConflict((conflict) => conflict.columns(["attachment_id", "chunk_index"]).doNothing())
            .execute();
        }
        // The header last: a concurrent put of the same bytes that committed first only moves the time.
        await database
          .insertInto("lash_attachments")
          .values({ attachment_id: id, media_type: mediaType, byte_length: bytes.byteLength, chunk_count: chunkCount, stored_at: storedAt })
          .onConflict((conflict) => conflict.column("attachment_id").doUpdateSet({ stored_at: storedAt }))
          .execute();
      }),
    );
    const ref: AttachmentRef = { id, mediaType, byteLength: bytes.byteLength };
    if (options.label !== undefined) ref.label = options.label;
    return ref;
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    if (!isAttachmentId(id)) return undefined;
    return this.#context.run(`reading attachment \`${id}\``, () =>
      this.#context.read(async (database) => {
        const header = await this.#header(id, database);
        if (header === undefined) return undefined;
        const rows = await database
          .selectFrom("lash_attachment_chunks")
          .select(["chunk_index", "content"])
          .where("attachment_id", "=", id)
          .orderBy("chunk_index")
          .execute();
        if (rows.length !== header.chunkCount) throw damaged(id, `expected ${header.chunkCount} chunks, found ${rows.length}`);
        const bytes = new Uint8Array(header.byteLength);
        for (const [index, row] of rows.entries()) {
          const expected = expectedChunkLength(header.byteLength, index);
          if (row.chunk_index !== index || row.content.byteLength !== expected) {
            throw damaged(id, `chunk ${index} is missing or has the wrong length`);
          }
          bytes.set(row.content, index * ATTACHMENT_CHUNK_BYTES);
        }
        return bytes;
      }),
    );
  }

  async open(id: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    if (!isAttachmentId(id)) return undefined;
    const header = await this.#context.run(`reading attachment \`${id}\``, () =>
      this.#context.query((database) => this.#header(id, database)),
    );
    return header === undefined ? undefined : this.#chunks(id, header);
  }

  /** One query per chunk, as the reader asks for them: memory stays at one chunk, whatever the blob's size. */
  async *#chunks(id: string, header: StoredHeader): AsyncGenerator<Uint8Array> {
    for (let index = 0; index < header.chunkCount; index += 1) {
      const row = await this.#context.run(`reading attachment \`${id}\``, () =>
        this.#context.query((database) =>
          database
            .selectFrom("lash_attachment_chunks")
            .select("content")
            .where("attachment_id", "=", id)
            .where("chunk_index", "=", index)
            .executeTakeFirst(),
        ),
      );
      if (row === undefined) throw new AttachmentNotFoundError(id);
      if (row.content.byteLength !== expectedChunkLength(header.byteLength, index))
        throw damaged(id, `chunk ${index} has the wrong length`);
      // A copy: the caller keeps the chunk, and a driver may hand out pooled memory.
      yield new Uint8Array(row.content);
    }
  }

  async has(id: string): Promise<boolean> {
    return (await this.stat(id)) !== undefined;
  }

  async stat(id: string): Promise<AttachmentStat | undefined> {
    if (!isAttachmentId(id)) return undefined;
    const header = await this.#context.run(`reading attachment \`${id}\``, () =>
      this.#context.query((database) => this.#header(id, database)),
    );
    return header === undefined ? undefined : { id, mediaType: header.mediaType, byteLength: header.byteLength, storedAt: header.storedAt };
  }

  async delete(id: string): Promise<boolean> {
    if (!isAttachmentId(id)) return false;
    return this.#context.run(`deleting attachment \`${id}\``, () =>
      this.#context.write(async (database) => {
        const deleted = await database.deleteFrom("lash_attachments").where("attachment_id", "=", id).executeTakeFirst();
        await database.deleteFrom("lash_attachment_chunks").where("attachment_id", "=", id).execute();
        return Number(deleted.numDeletedRows) > 0;
      }),
    );
  }

  async gc(options: AttachmentGcOptions = {}): Promise<AttachmentGcReport> {
    const minimumAgeMs = attachmentGcMinimumAge(options.minimumAgeMs);
    return this.#context.run("collecting unreferenced attachments", () => collectUnreferencedAttachments(this.#context, minimumAgeMs));
  }

  async #header(id: string, database: Awaited<ReturnType<SqlStoreContext["database"]>>): Promise<StoredHeader | undefined> {
    const row = await database
      .selectFrom("lash_attachments")
      .select(["media_type", "byte_length", "chunk_count", "stored_at"])
      .where("attachment_id", "=", id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const byteLength = Number(row.byte_length);
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw damaged(id, `byte_length ${String(row.byte_length)} is not a length`);
    if (row.chunk_count !== Math.ceil(byteLength / ATTACHMENT_CHUNK_BYTES)) {
      throw damaged(id, `${row.chunk_count} chunks cannot hold ${byteLength} bytes`);
    }
    return { mediaType: row.media_type, byteLength, chunkCount: row.chunk_count, storedAt: row.stored_at };
  }
}
