import type { JsonValue, OutputState, TurnIssue } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";

/** Trims the end of every line (`\n` or `\r\n`), joins with `\n`, and trims the whole text. */
export function sanitizeAssistantText(raw: string): string {
  return raw
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
}

const ERROR_LINE_PREFIXES = [
  "Runtime error:",
  "NameError:",
  "TypeError:",
  "ValueError:",
  "KeyError:",
  "AttributeError:",
  "SyntaxError:",
  "ImportError:",
  "ModuleNotFoundError:",
];

/**
 * True when the text is nothing but an error trace: it has a traceback header or an error line,
 * and every other non-empty line is trace-like (starts with `Traceback`, `File ` or
 * `Runtime error:`, or contains a `:`).
 */
export function containsTracebackOnly(raw: string): boolean {
  const lines = raw.split(/\r?\n/).map((line) => line.trim());
  const hasTrace =
    raw.includes("Traceback (most recent call last)") ||
    lines.some((line) => ERROR_LINE_PREFIXES.some((prefix) => line.startsWith(prefix)));
  if (!hasTrace) return false;
  return lines.every(
    (line) =>
      line === "" ||
      line.startsWith("Traceback") ||
      line.startsWith("File ") ||
      line.startsWith("Runtime error:") ||
      line.includes(":"),
  );
}

/** How usable the assembled text is (see `OutputState`). */
export function classifyOutputState(raw: string, safe: string, issues: readonly TurnIssue[]): OutputState {
  if (raw === "" && safe === "") return "empty_output";
  if (safe === "" && containsTracebackOnly(raw)) return "traceback_only";
  if (issues.length > 0 && safe !== "") return "recovered_from_error";
  return "usable";
}

/** A submitted value as text: `null` → `""`, strings as they are, anything else as pretty sorted JSON. */
export function renderSubmittedValue(value: JsonValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  return stableStringify(value, 2);
}
