import type { OpenAiErrorBody } from "@lash/remote-protocol";
import { type HttpError, toHttpError } from "../http/http-error.js";

/** OpenAI's error class for a status: what its clients branch on besides the status itself. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * A lash error in OpenAI's shape: the status and lash's code stay (an unknown profile reads as
 * OpenAI's `model_not_found`), `param` names the field at fault when the error says which, and
 * lash's details come along for clients that read them.
 */
export function openAiErrorBody(error: HttpError): OpenAiErrorBody {
  const param = error.details?.param;
  return {
    error: {
      message: error.message,
      type: errorType(error.status),
      param: typeof param === "string" ? param : null,
      code: error.code === "unknown_profile" ? "model_not_found" : error.code,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** Anything thrown while answering a completion, as OpenAI's clients expect it (their status, their shape). */
export function openAiErrorResponse(error: unknown, report: (error: unknown) => void): Response {
  const failure = toHttpError(error);
  if (failure.status >= 500 && failure.code === "internal_error") report(error);
  return Response.json(openAiErrorBody(failure), { status: failure.status });
}
