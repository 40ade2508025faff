import type { z } from "zod";
import { malformedStream } from "./failure-mapping.js";

/** Where a value failed its schema, as `choices.0.delta.content: expected string`. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  return `${path === "" ? "(root)" : path}: ${issue.message}`;
}

/**
 * Checks one value from the network against its schema. A mismatch is a `stream` failure naming the
 * value and the first bad field, never retryable: the same server sends the same shape again.
 */
export function parseWire<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw malformedStream(`${what} at ${describeIssue(parsed.error)}`);
  return parsed.data;
}
