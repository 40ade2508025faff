import type { JsonValue } from "@lash/protocol";
import { excessiveNestingProblem } from "./json-depth.js";

/** The arguments of a tool call, parsed from the model's JSON text. */
export type ParsedToolArguments =
  | { readonly ok: true; readonly args: JsonValue }
  | { readonly ok: false; readonly message: string; readonly raw: string };

/**
 * Parses a tool call's argument text. Blank text means "no arguments" (`{}`): several providers send
 * an empty string for tools without parameters. Invalid JSON is reported, never guessed: a tool
 * must not run with arguments the model did not mean. Arguments nested past `MAX_MODEL_JSON_DEPTH`
 * are refused before parsing: the call is then recorded with its raw text (a string), so nothing
 * deeply nested ever reaches the session graph or a store.
 */
export function parseToolArguments(inputJson: string): ParsedToolArguments {
  if (inputJson.trim() === "") return { ok: true, args: {} };
  const nesting = excessiveNestingProblem(inputJson);
  if (nesting !== undefined) return { ok: false, message: `arguments are refused: ${nesting}`, raw: inputJson };
  try {
    return { ok: true, args: JSON.parse(inputJson) as JsonValue };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `arguments are not valid JSON: ${detail}`, raw: inputJson };
  }
}

/** The value recorded as a call's `args`: the parsed JSON, or the raw text when it did not parse. */
export function recordedToolArguments(inputJson: string): JsonValue {
  const parsed = parseToolArguments(inputJson);
  return parsed.ok ? parsed.args : parsed.raw;
}
