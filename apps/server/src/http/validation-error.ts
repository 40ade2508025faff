import type { z } from "zod";
import { HttpError } from "./http-error.js";

/** At most this many problems are listed: a hostile body can have thousands. */
const MAX_LISTED_ISSUES = 20;
/** The longest field name or path echoed back, in characters. */
const MAX_ECHOED_LENGTH = 100;

function clip(text: string): string {
  return text.length > MAX_ECHOED_LENGTH ? `${text.slice(0, MAX_ECHOED_LENGTH)}…` : text;
}

/**
 * A 400 `invalid_request` naming what failed (`the request body`, `the query`, `the session id`)
 * and each problem with its path; an unknown field is named by its key.
 */
export function invalidRequest(what: string, error: z.ZodError): HttpError {
  const issues = error.issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    // Keys and paths come from the client: bounded before they are echoed back.
    const keys = (issue.code === "unrecognized_keys" ? issue.keys : []).slice(0, MAX_LISTED_ISSUES).map(clip);
    const path = clip(issue.path.map(String).join("."));
    const message = keys.length > 0 ? `unknown field${keys.length === 1 ? "" : "s"} ${keys.join(", ")}` : issue.message;
    return { path, message };
  });
  const first = issues[0];
  const summary = first === undefined ? "is invalid" : `${first.path === "" ? "" : `\`${first.path}\`: `}${first.message}`;
  return new HttpError("invalid_request", `${what} is invalid: ${summary}`, { details: { issues } });
}
