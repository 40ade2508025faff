import type { JsonValue } from "@lash/protocol";
import { ApprovalAlreadyDecidedError, ApprovalConflictError, ApprovalNotFoundError, LashError } from "@lash/protocol";
import type { ErrorBody, HttpErrorCode, RemoteErrorCode } from "@lash/remote-protocol";

/** The HTTP status of each code the HTTP layer reports itself. */
const HTTP_CODE_STATUS: Record<HttpErrorCode, number> = {
  invalid_request: 400,
  malformed_json: 400,
  unknown_profile: 400,
  invalid_cursor: 400,
  invalid_last_event_id: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  session_not_found: 404,
  turn_not_found: 404,
  task_not_found: 404,
  method_not_allowed: 405,
  events_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  shutting_down: 503,
};

/**
 * The HTTP status of each `LashErrorCode`: the one place where runtime failures become statuses.
 * Caller mistakes are 4xx, conflicts with the session's state 409, an unreachable store 503, a
 * failing model provider 502; anything else is the server's own failure, 500.
 */
const LASH_CODE_STATUS: Partial<Record<LashError["code"], number>> = {
  invalid_argument: 400,
  mode_turn_extension: 400,
  approval_not_found: 404,
  turn_in_progress: 409,
  turn_awaiting_approval: 409,
  no_suspended_turn: 409,
  approval_already_decided: 409,
  approval_conflict: 409,
  head_revision_conflict: 409,
  commit_id_conflict: 409,
  provider_failure: 502,
  store_unavailable: 503,
};

/** A failure the server answers with the error shape and a status. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: RemoteErrorCode;
  readonly details: Record<string, JsonValue> | undefined;

  constructor(
    code: RemoteErrorCode,
    message: string,
    options: { details?: Record<string, JsonValue>; cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.code = code;
    this.details = options.details;
    this.status = options.status ?? statusOfCode(code);
  }

  /** The response body. */
  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

function statusOfCode(code: RemoteErrorCode): number {
  return (HTTP_CODE_STATUS as Record<string, number | undefined>)[code] ?? LASH_CODE_STATUS[code as LashError["code"]] ?? 500;
}

/** The error and its causes, outermost first (bounded: a cause chain can be cyclic). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (
    let current: unknown = error;
    current !== undefined && chain.length < 10;
    current = current instanceof Error ? current.cause : undefined
  )
    chain.push(current);
  return chain;
}

/** Facts a client can act on, from the typed approval errors. */
function lashErrorDetails(error: LashError): Record<string, JsonValue> | undefined {
  if (ApprovalNotFoundError.isInstance(error)) return { ids: [...error.ids] };
  if (ApprovalAlreadyDecidedError.isInstance(error)) return { id: error.id, resolution: { ...error.resolution } };
  if (ApprovalConflictError.isInstance(error)) return { resolutions: JSON.parse(JSON.stringify(error.resolutions)) as JsonValue };
  return undefined;
}

/**
 * Turns anything thrown while serving a request into an `HttpError`. A `LashError` keeps its code
 * and message (they are written for callers); a store that cannot be reached anywhere in the cause
 * chain (a session that failed to load because the database is down) is 503, so a client knows to
 * retry. Anything else is `internal_error` with no detail: its message may hold what a client
 * must not see.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (LashError.isInstance(error)) {
    const unavailable = causes(error).some((entry) => LashError.isInstance(entry) && entry.code === "store_unavailable");
    const details = lashErrorDetails(error);
    return new HttpError(error.code, error.message, {
      cause: error,
      ...(details === undefined ? {} : { details }),
      ...(unavailable ? { status: 503 } : {}),
    });
  }
  return new HttpError("internal_error", "the server failed to handle this request", { cause: error });
}

/** The JSON response of an error. */
export function errorResponse(error: HttpError): Response {
  return Response.json(error.body(), { status: error.status });
}
