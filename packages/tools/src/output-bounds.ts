/** How much tool output the model may see: both limits apply, whichever is reached first. */
export interface OutputLimits {
  /** Most UTF-8 bytes of one tool's text output. Default 32 768. */
  readonly maxBytes: number;
  /** Most lines of one tool's text output. Default 400. */
  readonly maxLines: number;
}

/** The defaults: about 8 000 tokens of output, so one call cannot fill a model's context. */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxBytes: 32_768, maxLines: 400 };

/** Text cut to the limits, with what was left out. */
export interface BoundedText {
  readonly text: string;
  /** True when lines or bytes were left out. */
  readonly truncated: boolean;
  /** Lines of the whole input (a final line without a newline counts). */
  readonly totalLines: number;
  /** UTF-8 bytes of the whole input. */
  readonly totalBytes: number;
}

/**
 * Keeps the head of `text` within `limits`: whole lines first, then bytes, never splitting a UTF-8
 * character. The head is what the model usually needs (a file's start, a command's first errors);
 * the caller says how to get the rest (an offset, a narrower search).
 */
export function boundText(text: string, limits: OutputLimits = DEFAULT_OUTPUT_LIMITS): BoundedText {
  const totalBytes = Buffer.byteLength(text, "utf8");
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const totalLines = lines.length;
  let kept = text;
  let truncated = false;
  if (totalLines > limits.maxLines) {
    kept = lines.slice(0, limits.maxLines).join("\n") + "\n";
    truncated = true;
  }
  if (Buffer.byteLength(kept, "utf8") > limits.maxBytes) {
    const bytes = Buffer.from(kept, "utf8").subarray(0, limits.maxBytes);
    // A cut inside a multi-byte character decodes to U+FFFD at the end: drop that partial character.
    kept = bytes.toString("utf8").replace(/\uFFFD+$/u, "");
    truncated = true;
  }
  return { text: kept, truncated, totalLines, totalBytes };
}
