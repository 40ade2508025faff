/**
 * The context window of well-known models, so that `maxContextTokens` can be left out. A model is
 * matched by the longest prefix of its name (`gpt-5-mini-2025-08-07` matches `gpt-5`), after any
 * provider prefix such as `openai/` or `anthropic.` is dropped. Figures are the providers' published
 * input windows (tokens) for the standard tier.
 */
const KNOWN_CONTEXT_WINDOWS: readonly (readonly [prefix: string, tokens: number])[] = [
  ["gpt-5", 400_000],
  ["gpt-4.1", 1_047_576],
  ["gpt-4o", 128_000],
  ["o4-mini", 200_000],
  ["o3", 200_000],
  ["o1", 200_000],
  ["claude-opus-4", 200_000],
  ["claude-sonnet-4", 200_000],
  ["claude-haiku-4", 200_000],
  ["claude-3-7-sonnet", 200_000],
  ["claude-3-5", 200_000],
  ["gemini-2.5", 1_048_576],
  ["gemini-2.0", 1_048_576],
];

/**
 * The window assumed for a model the table does not know: small enough for most current models, so
 * the runtime's context accounting errs on the side of a model that accepts less.
 */
export const DEFAULT_MAX_CONTEXT_TOKENS = 128_000;

/** The context window of `model` from the table, or `undefined` for a model it does not know. */
export function knownContextWindow(model: string): number | undefined {
  const name = model.toLowerCase().replace(/^[a-z0-9-]+[/.](?=[a-z])/, "");
  let best: readonly [string, number] | undefined;
  for (const entry of KNOWN_CONTEXT_WINDOWS) {
    if (name.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/** `maxContextTokens` for a session that did not set it: the table's figure, else the default. */
export function defaultContextWindow(model: string): number {
  return knownContextWindow(model) ?? DEFAULT_MAX_CONTEXT_TOKENS;
}
