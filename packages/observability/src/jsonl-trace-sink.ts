import { closeSync, openSync, write } from "node:fs";
import type { TraceRecord, TraceSink } from "@lash/protocol";
import { LashError } from "@lash/protocol";

export interface JsonlTraceSinkOptions {
  /** Truncate the file when opening it instead of appending to it (default false). */
  readonly truncate?: boolean;
}

/** A `TraceSink` writing one JSON record per line; `path` is the file it appends to. */
export interface JsonlTraceSink extends TraceSink {
  readonly path: string;
  flush(): Promise<void>;
  close(): Promise<void>;
}

function writeAll(fd: number, buffer: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    const next = (): void => {
      write(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
        if (error) {
          reject(error);
          return;
        }
        offset += written;
        if (offset < buffer.length) next();
        else resolve();
      });
    };
    next();
  });
}

/**
 * Opens `path` for appending (creating it) and returns a sink writing one JSON line per record.
 * Records are queued synchronously and written in batches by one writer at a time, each batch in
 * whole lines with `O_APPEND`, so concurrent turns never interleave inside a line and `record`
 * never blocks a turn. `flush` resolves when everything queued is written; a write failure is kept
 * and reported by `flush` and `close` as a `LashError` (`store_unavailable`).
 *
 * @throws LashError `invalid_configuration` when the path is not a non-empty string or the file
 *   cannot be opened for appending (missing directory, no permission, a directory).
 */
export function createJsonlTraceSink(path: string, options: JsonlTraceSinkOptions = {}): JsonlTraceSink {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new LashError(
      "invalid_configuration",
      `trace file path must be a non-empty string without NUL characters, got ${JSON.stringify(String(path))}`,
    );
  }
  let fd: number;
  try {
    fd = openSync(path, options.truncate === true ? "w" : "a");
  } catch (error) {
    throw new LashError(
      "invalid_configuration",
      `trace file \`${path}\` cannot be opened for appending: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let queue: string[] = [];
  let writing: Promise<void> | undefined;
  let failure: LashError | undefined;
  let closed = false;

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && failure === undefined) {
      const batch = queue.join("");
      queue = [];
      try {
        await writeAll(fd, Buffer.from(batch, "utf8"));
      } catch (error) {
        failure = new LashError(
          "store_unavailable",
          `writing trace file \`${path}\` failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
  };
  const schedule = (): Promise<void> => {
    writing ??= drain().finally(() => {
      writing = undefined;
    });
    return writing;
  };
  const flush = async (): Promise<void> => {
    while (writing !== undefined || (queue.length > 0 && failure === undefined)) await schedule();
    if (failure) throw failure;
  };

  return {
    path,
    record(record: TraceRecord): void {
      if (closed || failure) return;
      queue.push(`${JSON.stringify(record)}\n`);
      // The write starts on a later tick: records of one synchronous burst go out as one batch.
      if (writing === undefined) queueMicrotask(() => void schedule());
    },
    flush,
    async close(): Promise<void> {
      if (closed) return;
      try {
        await flush();
      } finally {
        closed = true;
        closeSync(fd);
      }
    },
  };
}
