import { parseJsonPath } from "./json-path.js";
import type { WireScript, WireScriptMatcher } from "./wire-script-schema.js";

/** The parts of a request that `request_match` looks at. */
export interface MatchableRequest {
  readonly method: string;
  /** The request target: path and query. */
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or `undefined` when the body was empty or not JSON. */
  readonly body: unknown;
}

const MISSING = Symbol("missing");

function valueAt(root: unknown, segments: readonly (string | number)[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (typeof segment === "number") {
      if (!Array.isArray(current) || segment >= current.length) return MISSING;
      current = current[segment];
    } else {
      if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return MISSING;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function jsonEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => jsonEqual(item, right[index]));
  }
  if (
    typeof left === "object" &&
    left !== null &&
    typeof right === "object" &&
    right !== null &&
    !Array.isArray(left) &&
    !Array.isArray(right)
  ) {
    const leftKeys = Object.keys(left);
    const rightRecord = right as Record<string, unknown>;
    return (
      leftKeys.length === Object.keys(right).length &&
      leftKeys.every((key) => Object.hasOwn(right, key) && jsonEqual((left as Record<string, unknown>)[key], rightRecord[key]))
    );
  }
  return false;
}

function show(value: unknown): string {
  if (value === MISSING) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Why `value` fails `matcher`, or `undefined` when it passes. */
function matcherProblem(value: unknown, matcher: WireScriptMatcher): string | undefined {
  if ("present" in matcher) {
    const present = value !== MISSING;
    return present === matcher.present ? undefined : matcher.present ? "is missing" : `should be absent but is ${show(value)}`;
  }
  if (value === MISSING) return "is missing";
  if ("equals" in matcher) {
    return jsonEqual(value, matcher.equals) ? undefined : `should equal ${show(matcher.equals)} but is ${show(value)}`;
  }
  if ("contains" in matcher) {
    const expected = matcher.contains;
    if (typeof value === "string" && typeof expected === "string") {
      return value.includes(expected) ? undefined : `should contain ${show(expected)} but is ${show(value)}`;
    }
    if (Array.isArray(value)) {
      return value.some((item) => jsonEqual(item, expected))
        ? undefined
        : `should contain the element ${show(expected)} but is ${show(value)}`;
    }
    return `should contain ${show(expected)} but is ${show(value)}`;
  }
  const role = matcher.contains_role;
  const hasRole =
    Array.isArray(value) &&
    value.some((item) => typeof item === "object" && item !== null && (item as Record<string, unknown>).role === role);
  return hasRole ? undefined : `should hold a message with role ${show(role)} but is ${show(value)}`;
}

/** Options of `requestMismatches`. */
export interface RequestMatchOptions {
  /**
   * Matchers not enforced, as `body.<json path>` or `headers.<name>` (for example `body.stream` for
   * an adapter that always streams, against a script recorded from a non-streamed call).
   */
  readonly ignoredMatchers?: readonly string[];
}

/**
 * Every way `request` differs from what `script` expects (its `endpoint` and `request_match`), as
 * readable reasons; empty when it matches. The endpoint path is compared with the request's path
 * without its query, unless the endpoint path itself has a query.
 */
export function requestMismatches(script: WireScript, request: MatchableRequest, options: RequestMatchOptions = {}): string[] {
  const ignored = new Set(options.ignoredMatchers ?? []);
  const reasons: string[] = [];
  if (request.method.toUpperCase() !== script.endpoint.method) {
    reasons.push(`method should be ${script.endpoint.method} but is ${request.method}`);
  }
  const comparedPath = script.endpoint.path.includes("?") ? request.path : (request.path.split("?")[0] ?? "");
  if (comparedPath !== script.endpoint.path) reasons.push(`path should be ${script.endpoint.path} but is ${comparedPath}`);
  for (const [path, matcher] of Object.entries(script.request_match.body ?? {})) {
    if (ignored.has(`body.${path}`)) continue;
    const segments = parseJsonPath(path);
    if (segments === undefined) {
      reasons.push(`body.${path}: the script's JSON path is malformed`);
      continue;
    }
    const problem = matcherProblem(request.body === undefined ? MISSING : valueAt(request.body, segments), matcher);
    if (problem !== undefined) reasons.push(`body.${path} ${problem}`);
  }
  for (const [name, matcher] of Object.entries(script.request_match.headers ?? {})) {
    const headerName = name.toLowerCase();
    if (ignored.has(`headers.${headerName}`)) continue;
    const value = Object.hasOwn(request.headers, headerName) ? request.headers[headerName] : MISSING;
    const problem = matcherProblem(value, matcher);
    if (problem !== undefined) reasons.push(`headers.${headerName} ${problem}`);
  }
  return reasons;
}
