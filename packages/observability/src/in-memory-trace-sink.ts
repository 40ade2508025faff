import type { TraceRecord, TraceRecordType, TraceSink } from "@lash/protocol";

/** A `TraceSink` that keeps every record in memory, for tests and short-lived diagnostics. */
export class InMemoryTraceSink implements TraceSink {
  readonly #records: TraceRecord[] = [];

  record(record: TraceRecord): void {
    this.#records.push(record);
  }

  /** Everything recorded so far, in order. */
  get records(): readonly TraceRecord[] {
    return this.#records;
  }

  /** The records of one type, typed accordingly. */
  ofType<T extends TraceRecordType>(type: T): Extract<TraceRecord, { type: T }>[] {
    return this.#records.filter((record): record is Extract<TraceRecord, { type: T }> => record.type === type);
  }

  clear(): void {
    this.#records.length = 0;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Same as `new InMemoryTraceSink()`. */
export function createInMemoryTraceSink(): InMemoryTraceSink {
  return new InMemoryTraceSink();
}
