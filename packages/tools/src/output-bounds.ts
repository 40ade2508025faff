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
    kept = limits.maxLines === 0 ? "" : `${lines.slice(0, limits.maxLines).join("\n")}\n`;
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

/**
 * `text` with control characters other than tab and newline replaced by U+FFFD (a CRLF line end
 * becomes a newline). JSON escapes a control character as six bytes (`\u0001`), so without this a
 * byte budget counted on the raw text would not hold for what the model receives.
 */
export function replaceControlCharacters(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return text.replace(/\r\n/g, "\n").replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, "\uFFFD");
}

/** Splits `total` between two wants: each gets what it needs when that fits, else half and the other's rest. */
function shareBudget(first: number, second: number, total: number): [number, number] {
  if (first + second <= total) return [first, second];
  const half = Math.floor(total / 2);
  if (first <= half) return [first, total - first];
  if (second <= half) return [total - second, second];
  return [half, total - half];
}

/**
 * Two texts (a command's stdout and stderr) bounded by one shared budget, so together they stay
 * within `limits`: a stream that needs less than half leaves the rest to the other.
 */
export function boundTextPair(first: string, second: string, limits: OutputLimits = DEFAULT_OUTPUT_LIMITS): [BoundedText, BoundedText] {
  const measure = (text: string): { lines: number; bytes: number } => {
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return { lines: lines.length, bytes: Buffer.byteLength(text, "utf8") };
  };
  const [firstSize, secondSize] = [measure(first), measure(second)];
  const [firstLines, secondLines] = shareBudget(firstSize.lines, secondSize.lines, limits.maxLines);
  const [firstBytes, secondBytes] = shareBudget(firstSize.bytes, secondSize.bytes, limits.maxBytes);
  return [
    boundText(first, { maxLines: firstLines, maxBytes: firstBytes }),
    boundText(second, { maxLines: secondLines, maxBytes: secondBytes }),
  ];
}
