import type { JsonValue, OutputState, TurnIssue } from "@lash/protocol";
import { stableStringify } from "@lash/protocol";

// Line breaks: `\n`, or `\r\n` as one break; a lone `\r` is not a break and stays inside its line.
const LINE_BREAK = /\r?\n/;

/**
 * The text a host may show: every line trimmed at the end, lines joined with `\n` (so CRLF becomes
 * LF), and the whole text trimmed. Whitespace-only text becomes `""`.
 */
export function sanitizeAssistantText(raw: string): string {
  return raw
    .split(LINE_BREAK)
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
}

// Lines that open an error report in the code interpreters lash runs (Python-style exceptions and
// the runtime's own prefix).
const ERROR_LINE_PREFIXES: readonly string[] = [
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

// Lines that are part of a trace even when they carry no `:` (the header and the frame lines).
const TRACE_LINE_PREFIXES: readonly string[] = ["Traceback", "File ", "Runtime error:"];

/**
 * True when the text is nothing but an error trace: it contains a Python traceback header or a
 * line (trimmed) starting with a known error prefix, and no line reads like prose. A non-empty line
 * counts as prose when it starts with none of `Traceback`, `File `, `Runtime error:` and contains no
 * `:` (trace and exception lines nearly always do).
 */
export function containsTracebackOnly(raw: string): boolean {
  if (raw === "") return false;
  const lines = raw.split(LINE_BREAK).map((line) => line.trim());
  const hasTrace =
    raw.includes("Traceback (most recent call last)") ||
    lines.some((line) => ERROR_LINE_PREFIXES.some((prefix) => line.startsWith(prefix)));
  if (!hasTrace) return false;
  return !lines.some((line) => line !== "" && !TRACE_LINE_PREFIXES.some((prefix) => line.startsWith(prefix)) && !line.includes(":"));
}

/**
 * How usable the assembled text is, checked in this order:
 * - `empty_output`: raw and safe text are both empty;
 * - `traceback_only`: the safe text is empty and the raw text is only an error trace;
 * - `recovered_from_error`: the turn recorded issues, yet there is safe text;
 * - `usable`: everything else, including whitespace-only raw text (its safe text is empty, but it
 *   is not a trace, and the model did answer).
 *
 * `safe` is normally `sanitizeAssistantText(raw)`; the two are passed separately because callers and
 * tests classify texts that were sanitised elsewhere.
 */
export function classifyOutputState(raw: string, safe: string, issues: readonly TurnIssue[]): OutputState {
  if (raw === "" && safe === "") return "empty_output";
  if (safe === "" && containsTracebackOnly(raw)) return "traceback_only";
  if (issues.length > 0 && safe !== "") return "recovered_from_error";
  return "usable";
}

/**
 * A submitted value as answer text: `null` → `""`, a string as it is, anything else as JSON with
 * two-space indentation and object keys sorted at every depth, so the same value always renders to
 * the same text.
 */
export function renderSubmittedValue(value: JsonValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  return stableStringify(value, 2);
}
