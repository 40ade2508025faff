import { jsonTextDepth, LashError } from "@lash/protocol";

/**
 * The deepest nesting of arrays and objects a stored JSON document may have. Reading stored JSON
 * nests one call per level in `JSON.parse` consumers, in zod's validation of opaque JSON values
 * (plugin bodies, mode state), in `structuredClone` and in `JSON.stringify`; a few thousand levels
 * exhaust the stack ("Maximum call stack size exceeded"), which would fail the whole operation and
 * look like a broken store. Documents deeper than this are refused before they are parsed, with
 * `InvalidPersistedDataError` for the one session that holds them.
 */
export const MAX_STORED_JSON_DEPTH = 512;

/**
 * The deepest nesting a value handed to the store may have (a node record, a checkpoint, a config).
 * Lower than {@link MAX_STORED_JSON_DEPTH} by the levels the stores wrap around such values (the
 * filesystem store's base file holds a node record 3 levels down), so that whatever a store accepts
 * it can read back: a commit deeper than this is refused with `invalid_argument`, nothing written.
 */
export const MAX_VALUE_DEPTH = 500;

/** The outcome of {@link parseJsonWithinDepth}: the value, or why the text cannot be read. */
export type JsonTextReading =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string; readonly cause?: unknown };

/**
 * `JSON.parse` for stored text, refusing text nested deeper than {@link MAX_STORED_JSON_DEPTH}
 * before parsing it (what it parses, validation and copies can then walk without exhausting the
 * stack). Never throws: the caller turns a problem into its own typed error.
 */
export function parseJsonWithinDepth(text: string): JsonTextReading {
  const depth = jsonTextDepth(text, MAX_STORED_JSON_DEPTH);
  if (depth > MAX_STORED_JSON_DEPTH) {
    return {
      ok: false,
      problem: `JSON nested deeper than ${MAX_STORED_JSON_DEPTH} levels of arrays and objects, which the store does not read (it would exhaust the stack)`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      problem: `not valid JSON (truncated or malformed JSON: ${error instanceof Error ? error.message : String(error)})`,
      cause: error,
    };
  }
}

/**
 * The nesting depth of a JavaScript value as JSON would nest it (arrays and objects), measured
 * without recursion; stops as soon as the depth passes `limit`, so a cyclic value ends too.
 */
export function valueDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    if (typeof entry.value !== "object" || entry.value === null) continue;
    const depth = entry.depth + 1;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return deepest;
    }
    const children = Array.isArray(entry.value) ? entry.value : Object.values(entry.value);
    for (const child of children) if (typeof child === "object" && child !== null) pending.push({ value: child, depth });
  }
  return deepest;
}

/**
 * Refuses a value handed to the store that nests deeper than {@link MAX_VALUE_DEPTH}, before it is
 * validated (zod would exhaust the stack on it) or stored (the store could not read it back).
 *
 * @param what - the argument, for the message (`commit`).
 * @param path - where in the argument the value sits (`graph.nodes.3`).
 * @throws LashError `invalid_argument` naming the path and the limit.
 */
export function checkValueDepth(value: unknown, what: string, path: string): void {
  if (valueDepth(value, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH) {
    throw new LashError(
      "invalid_argument",
      `invalid ${what} at \`${path}\`: nested deeper than ${MAX_VALUE_DEPTH} levels of arrays and objects, which the store refuses to write because it could not read it back`,
    );
  }
}

/**
 * Checks the parts of a commit (not yet validated) that hold opaque JSON: every node, the
 * checkpoint and the config. A separate check for each keeps the cost to one walk of the commit.
 */
export function checkCommitDepth(commit: unknown): void {
  if (typeof commit !== "object" || commit === null) return;
  const { graph, checkpoint, config } = commit as { graph?: unknown; checkpoint?: unknown; config?: unknown };
  const nodes = typeof graph === "object" && graph !== null ? (graph as { nodes?: unknown }).nodes : undefined;
  if (Array.isArray(nodes)) {
    for (const [index, node] of nodes.entries()) checkValueDepth(node, "commit", `graph.nodes.${index}`);
  }
  checkValueDepth(checkpoint, "commit", "checkpoint");
  checkValueDepth(config, "commit", "config");
}

/**
 * True for the stack exhaustion of a recursive walk (V8's `RangeError: Maximum call stack size
 * exceeded`): the depth checks above should prevent it; a read that meets it anyway reports the
 * value as unreadable instead of failing the store.
 */
export function isStackExhaustion(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
