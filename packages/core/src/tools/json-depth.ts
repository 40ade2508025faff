/**
 * The deepest nesting of arrays and objects accepted in JSON a model wrote (tool arguments, a
 * structured answer). Real arguments nest a few levels; a value nested thousands of levels deep can
 * only be a mistake or an attack, and every recursive reader of it (validators, serializers, stores
 * reading the session back) would risk exhausting the stack.
 */
export const MAX_MODEL_JSON_DEPTH = 128;

/**
 * How deep `text` nests, counted without parsing (brackets inside strings do not count), stopping
 * as soon as `limit` is passed: returns `limit + 1` then. Cheap, iterative, never recursive.
 */
export function jsonNestingDepth(text: string, limit: number = MAX_MODEL_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      // A backslash escapes the next character; a quote ends the string.
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return deepest;
}

/** The problem with model-written JSON text that nests too deep, or undefined when it is within the limit. */
export function excessiveNestingProblem(text: string): string | undefined {
  return jsonNestingDepth(text) > MAX_MODEL_JSON_DEPTH
    ? `the JSON nests deeper than ${MAX_MODEL_JSON_DEPTH} levels of arrays and objects`
    : undefined;
}
