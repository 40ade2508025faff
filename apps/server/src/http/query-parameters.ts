import { HttpError } from "./http-error.js";

/** The query parameters of `url`, each at most once (a repeated one is ambiguous, so refused with 400 `invalid_request`). */
export function singleQueryParameters(url: string): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URL(url).searchParams) {
    if (Object.hasOwn(parameters, name)) throw new HttpError("invalid_request", `the query parameter ${name} is given more than once`);
    parameters[name] = value;
  }
  return parameters;
}
