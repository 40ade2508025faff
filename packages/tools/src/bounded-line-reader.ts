import type { Readable } from "node:stream";

/** One line as read: at most the bytes asked for, and whether more of it was skipped. */
export interface BoundedLine {
  /** The line's first bytes (without its newline), at most the cap given when it was read. */
  readonly bytes: Buffer;
  /** True when the line was longer than the cap; the rest was skipped without being kept. */
  readonly cut: boolean;
  /** The line holds a zero byte (within its kept part or the skipped rest): a binary file. */
  readonly hasZeroByte: boolean;
}

/**
 * Reads lines from a byte stream keeping at most `cap(lineNumber)` bytes of each, so a file of one
 * 200 MB line costs the cap, not the line (unlike `readline`, which buffers whole lines). A cap of
 * 0 skips a line entirely. Lines end at `\n`; a final line without one still counts, and an empty
 * input has no lines. Stop early by breaking out of the loop (the stream is then destroyed).
 */
export async function* readBoundedLines(stream: Readable, cap: (lineNumber: number) => number): AsyncGenerator<BoundedLine> {
  let lineNumber = 1;
  let limit = cap(lineNumber);
  let parts: Buffer[] = [];
  let kept = 0;
  let cut = false;
  let hasZeroByte = false;
  let started = false;
  const take = (piece: Buffer): void => {
    started = true;
    if (!hasZeroByte && piece.includes(0)) hasZeroByte = true;
    const room = limit - kept;
    if (piece.length > room) cut = true;
    if (room > 0) {
      const part = piece.subarray(0, room);
      // Copy so a small kept part does not pin the whole stream chunk in memory.
      parts.push(Buffer.from(part));
      kept += part.length;
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let newline = chunk.indexOf(10, from); newline !== -1; newline = chunk.indexOf(10, from)) {
        take(chunk.subarray(from, newline));
        yield { bytes: Buffer.concat(parts), cut, hasZeroByte };
        from = newline + 1;
        lineNumber += 1;
        limit = cap(lineNumber);
        parts = [];
        kept = 0;
        cut = false;
        hasZeroByte = false;
        started = false;
      }
      if (from < chunk.length) take(chunk.subarray(from));
    }
    if (started) yield { bytes: Buffer.concat(parts), cut, hasZeroByte };
  } finally {
    stream.destroy();
  }
}
