import { messageSchema, sessionPolicySchema, tokenLedgerEntrySchema, tokenUsageSchema } from "@lash/protocol";
import { z } from "zod";

/** At most this many metadata entries per session. */
export const MAX_METADATA_ENTRIES = 16;
/** The longest metadata key, in characters. */
export const MAX_METADATA_KEY_LENGTH = 64;
/** The longest metadata value, in characters. */
export const MAX_METADATA_VALUE_LENGTH = 512;
/** The longest id a path may carry (a session, turn or approval id), in characters. */
export const MAX_ID_LENGTH = 200;

/**
 * An id taken from a URL path: printable, no slash, bounded. Ids are data, never paths, but a
 * bounded, printable id keeps logs and error messages readable whatever a client sends.
 */
export const resourceIdSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[A-Za-z0-9._:-]+$/, { error: "must contain only letters, digits and . _ : -" });

/** An attachment's id in a URL path: the hex SHA-256 of its bytes (64 lowercase hex digits). */
export const attachmentIdSchema = z.string().regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex digits (a SHA-256)" });

/**
 * The headers of every attachment answer (`GET /v1/sessions/{id}/attachments/{attachmentId}`)
 * besides its type, length and disposition: content-addressed bytes never change, and are never
 * sniffed as another type.
 */
export const ATTACHMENT_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "private, max-age=31536000, immutable",
  "x-content-type-options": "nosniff",
};

/** An agent profile's name, as the server's configuration spells it. */
export const profileNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "must start with a letter or digit and contain only letters, digits and _ . -" });

/** Free-form labels a client attaches to a session (bounded: they are stored with it). */
export const sessionMetadataSchema = z
  .record(z.string().min(1).max(MAX_METADATA_KEY_LENGTH), z.string().max(MAX_METADATA_VALUE_LENGTH))
  .refine((metadata) => Object.keys(metadata).length <= MAX_METADATA_ENTRIES, {
    error: `at most ${MAX_METADATA_ENTRIES} entries`,
  });
export type SessionMetadata = z.infer<typeof sessionMetadataSchema>;

/** `POST /v1/sessions`. Unknown fields are refused. */
export const createSessionRequestSchema = z.strictObject({
  /** The agent profile the session's turns run with (default `default`). */
  profile: profileNameSchema.optional(),
  /** Labels stored with the session and returned with it (default none). */
  metadata: sessionMetadataSchema.optional(),
});
export type CreateSessionRequest = z.infer<typeof createSessionRequestSchema>;

/** A session as the server returns it after `POST /v1/sessions`, and as the head of `GET /v1/sessions/{id}`. */
export const sessionResourceSchema = z.object({
  /** The session's id. */
  id: z.string(),
  /** The agent profile its turns run with. */
  profile: z.string(),
  /** The labels given when it was created. */
  metadata: z.record(z.string(), z.string()),
  /** When it was created (ISO 8601 UTC); absent for a session created outside the server without a record of it. */
  createdAt: z.string().optional(),
  /** The model its turns call. */
  model: z.string(),
  /** Turns the session has run (0 before the first). */
  turnIndex: z.number().int().nonnegative(),
});
export type SessionResource = z.infer<typeof sessionResourceSchema>;

/** `GET /v1/sessions/{id}`: the session, its state and the messages of its active path. */
export const sessionStateSchema = sessionResourceSchema.extend({
  /** The session's configuration (model, context window, execution mode, prompt layer). */
  policy: sessionPolicySchema,
  /** Usage: `lastTurn` is the last turn's, `ledger` the session's lifetime, one row per (source, model). */
  usage: z.object({
    lastTurn: tokenUsageSchema,
    ledger: z.array(tokenLedgerEntrySchema),
  }),
  /** The conversation along the active path, oldest first. */
  messages: z.array(messageSchema),
  /** The id of the turn running now on this server; absent when none runs. */
  runningTurnId: z.string().optional(),
  /** True when a turn waits for approval decisions (`GET /v1/sessions/{id}/approvals` lists them). */
  awaitingApproval: z.boolean(),
});
export type SessionState = z.infer<typeof sessionStateSchema>;

/** `GET /v1/sessions` query. Unknown parameters are refused. */
export const listSessionsQuerySchema = z.strictObject({
  /** Page size, 1 to 100 (default 20). */
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, { error: "must be a whole number from 1 to 100" })
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .optional(),
  /** The previous page's `nextCursor`; absent for the first page. */
  cursor: z.string().min(1).max(1024).optional(),
  /**
   * Only sessions whose title or id contains this text (case-insensitive). The filter applies to each
   * page of the listing, so a page may hold fewer sessions than `limit` while more follow.
   */
  q: z.string().min(1).max(200).optional(),
});
export type ListSessionsQuery = z.infer<typeof listSessionsQuerySchema>;

/** One session of a listing: what the store lists, without loading the session. */
export const sessionListItemSchema = z.object({
  /** The session's id. */
  id: z.string(),
  /** The store's head revision (0: created, nothing committed yet). */
  headRevision: z.number().int().nonnegative(),
  /** When it was created (ISO 8601 UTC); absent when the store has no listing data for it. */
  createdAt: z.string().optional(),
  /** The model it was created with; absent when the store has no listing data for it. */
  model: z.string().optional(),
  /** Its display name, when it was given one (the `lash` command titles a session after its first prompt); absent otherwise. */
  title: z.string().optional(),
  /** Completed turns, as of its last commit; absent before the first commit or when the store keeps no summary. */
  turnCount: z.number().int().nonnegative().optional(),
  /** When its last commit was made (ISO 8601 UTC; its creation time before the first); absent when the store keeps no summary. */
  lastActivityAt: z.string().optional(),
  /** Its lifetime usage, every source and model summed; absent when the store keeps no summary. */
  tokenUsage: tokenUsageSchema.optional(),
  /** Present when part of the stored session cannot be read: which field, and what is wrong. */
  problem: z.object({ field: z.string(), message: z.string() }).optional(),
});
export type SessionListItem = z.infer<typeof sessionListItemSchema>;

/** `GET /v1/sessions`: one page, in ascending code-point order of id. */
export const sessionListResponseSchema = z.object({
  sessions: z.array(sessionListItemSchema),
  /** Present when more sessions follow: pass it as `cursor`. */
  nextCursor: z.string().optional(),
});
export type SessionListResponse = z.infer<typeof sessionListResponseSchema>;

/** `DELETE /v1/sessions/{id}`. */
export const deleteSessionResponseSchema = z.object({
  /** The deleted session's id. */
  id: z.string(),
  deleted: z.literal(true),
});
export type DeleteSessionResponse = z.infer<typeof deleteSessionResponseSchema>;
