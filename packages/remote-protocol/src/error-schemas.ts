import type { LashErrorCode } from "@lash/protocol";
import { jsonValueSchema } from "@lash/protocol";
import { z } from "zod";

/**
 * Every `LashErrorCode` of `@lash/protocol`, as a value: the wire needs the list, the protocol only
 * declares the type. The two checks below make a code added to the protocol (or removed from it) a
 * compile error here, so the list cannot drift.
 */
export const LASH_ERROR_CODES = [
  "invalid_configuration",
  "invalid_argument",
  "handoff_successor_missing",
  "handoff_missing_first_turn",
  "mode_turn_extension",
  "plugin_session_manager",
  "context_prepare_turn",
  "plugin_prepare_turn",
  "plugin_finalize_turn",
  "store_commit_failed",
  "session_manager",
  "turn_in_progress",
  "provider_failure",
  "unsupported_provider_version",
  "tool_failure",
  "head_revision_conflict",
  "commit_id_conflict",
  "session_binding_mismatch",
  "unsupported_read_scope",
  "store_unavailable",
  "invalid_persisted_data",
  "park_failed",
  "session_load_failed",
  "turn_awaiting_approval",
  "no_suspended_turn",
  "suspended_turn_mismatch",
  "approval_not_found",
  "approval_already_decided",
  "approval_conflict",
  "attachment_too_large",
  "attachment_media_type_unsupported",
  "attachment_not_found",
] as const satisfies readonly LashErrorCode[];

type MissingLashErrorCode = Exclude<LashErrorCode, (typeof LASH_ERROR_CODES)[number]>;
// A compile error here names a `LashErrorCode` the list above lacks.
const everyLashErrorCodeListed: [MissingLashErrorCode] extends [never] ? true : MissingLashErrorCode = true;
void everyLashErrorCodeListed;

/**
 * Codes of failures the HTTP layer finds before (or instead of) the runtime:
 *
 * | code | status | meaning |
 * | --- | --- | --- |
 * | `invalid_request` | 400 | the body, a query parameter or a path parameter does not match its schema (unknown fields included); `details.issues` lists each problem with its path |
 * | `malformed_json` | 400 | the body is not JSON (or is nested deeper than the server reads) |
 * | `unknown_profile` | 400 | the request names an agent profile the server does not have |
 * | `invalid_cursor` | 400 | a `cursor` that no listing of this server produced |
 * | `invalid_last_event_id` | 400 | a `Last-Event-ID` that is not an event id of that turn |
 * | `unauthorized` | 401 | no valid credentials (servers with API keys) |
 * | `forbidden` | 403 | the credentials do not allow this |
 * | `not_found` | 404 | no such route |
 * | `session_not_found` | 404 | no such session |
 * | `turn_not_found` | 404 | no such turn on this server (turns are kept in memory for a while after they end) |
 * | `task_not_found` | 404 | no such background task (another tenant's task included) |
 * | `method_not_allowed` | 405 | the route exists, not with this method |
 * | `events_expired` | 410 | the events after that `Last-Event-ID` are no longer kept (the turn's result still is) |
 * | `payload_too_large` | 413 | the body is larger than the server accepts |
 * | `unsupported_media_type` | 415 | a body that is not `application/json` |
 * | `rate_limited` | 429 | too many requests; `Retry-After` says when to come back |
 * | `internal_error` | 500 | a failure the server did not expect; the message says no more than that |
 * | `shutting_down` | 503 | the server is stopping and takes no new work |
 */
export const HTTP_ERROR_CODES = [
  "invalid_request",
  "malformed_json",
  "unknown_profile",
  "invalid_cursor",
  "invalid_last_event_id",
  "unauthorized",
  "forbidden",
  "not_found",
  "session_not_found",
  "turn_not_found",
  "task_not_found",
  "method_not_allowed",
  "events_expired",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
  "internal_error",
  "shutting_down",
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** Every code an error body may carry: a runtime's `LashErrorCode`, or one of the HTTP layer's. */
export const remoteErrorCodeSchema = z.enum([...LASH_ERROR_CODES, ...HTTP_ERROR_CODES]);
export type RemoteErrorCode = z.infer<typeof remoteErrorCodeSchema>;

/**
 * The one error shape of every non-2xx response, and of the `error` event of a turn's event
 * stream. Clients branch on `code` (stable), never on `message` (for people, may change).
 */
export const errorBodySchema = z.object({
  error: z.object({
    /** What went wrong, as a stable code (see `LASH_ERROR_CODES` and `HTTP_ERROR_CODES`). */
    code: remoteErrorCodeSchema,
    /** What went wrong, for people. */
    message: z.string(),
    /** Structured facts about this failure (the invalid fields, the running turn's id, ...); absent when there are none. */
    details: z.record(z.string(), jsonValueSchema).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
