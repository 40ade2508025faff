import { jsonTextDepth } from "@lash/protocol";

/**
 * The deepest nesting of arrays and objects accepted in JSON a model wrote (tool arguments, a
 * structured answer). Real arguments nest a few levels; a value nested thousands of levels deep can
 * only be a mistake or an attack, and every recursive reader of it (validators, serializers, stores
 * reading the session back) would risk exhausting the stack.
 */
export const MAX_MODEL_JSON_DEPTH = 128;

/** The problem with model-written JSON text that nests too deep, or undefined when it is within the limit. */
export function excessiveNestingProblem(text: string): string | undefined {
  return jsonTextDepth(text, MAX_MODEL_JSON_DEPTH) > MAX_MODEL_JSON_DEPTH
    ? `the JSON nests deeper than ${MAX_MODEL_JSON_DEPTH} levels of arrays and objects`
    : undefined;
}
