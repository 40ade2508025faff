import type { LlmStreamEvent, TraceStreamSummary } from "@lash/protocol";

/** How many chunk sizes a summary lists (the counts, the maximum and the average cover every chunk). */
export const MAX_LISTED_CHUNK_SIZES = 1_000;

/**
 * Counts what one model call streams (the `streamSummary` of its trace record). Constant memory per
 * call whatever the stream's length: sums and the maximum are kept as chunks arrive.
 */
export class StreamSummaryBuilder {
  #eventCount = 0;
  #textDeltaCount = 0;
  #reasoningDeltaCount = 0;
  #chunkSizes: number[] = [];
  #visibleChunkCount = 0;
  #totalChunkChars = 0;
  #maxChunkChars = 0;
  #firstVisibleAt: number | undefined;
  #lastEventAt: number | undefined;

  constructor(private startedAt: number) {}

  /** A retried attempt starts over, from the retry. */
  reset(now: number): void {
    this.startedAt = now;
    this.#eventCount = 0;
    this.#textDeltaCount = 0;
    this.#reasoningDeltaCount = 0;
    this.#chunkSizes = [];
    this.#visibleChunkCount = 0;
    this.#totalChunkChars = 0;
    this.#maxChunkChars = 0;
    this.#firstVisibleAt = undefined;
    this.#lastEventAt = undefined;
  }

  push(event: LlmStreamEvent, now: number): void {
    this.#eventCount += 1;
    this.#lastEventAt = now;
    let visible: string | undefined;
    if (event.type === "delta" || (event.type === "part" && event.part.type === "text")) {
      this.#textDeltaCount += 1;
      visible = event.type === "delta" ? event.text : event.part.type === "text" ? event.part.text : "";
    } else if (event.type === "reasoning_delta" || (event.type === "part" && event.part.type === "reasoning")) {
      this.#reasoningDeltaCount += 1;
      visible = event.type === "reasoning_delta" ? event.text : event.part.type === "reasoning" ? event.part.text : "";
    }
    if (visible === undefined || visible === "") return;
    const size = visible.length;
    this.#visibleChunkCount += 1;
    this.#totalChunkChars += size;
    if (size > this.#maxChunkChars) this.#maxChunkChars = size;
    if (this.#chunkSizes.length < MAX_LISTED_CHUNK_SIZES) this.#chunkSizes.push(size);
    this.#firstVisibleAt ??= now;
  }

  summary(): TraceStreamSummary {
    const count = this.#visibleChunkCount;
    return {
      eventCount: this.#eventCount,
      textDeltaCount: this.#textDeltaCount,
      reasoningDeltaCount: this.#reasoningDeltaCount,
      visibleChunkCount: count,
      chunkSizes: [...this.#chunkSizes],
      maxChunkChars: this.#maxChunkChars,
      avgChunkChars: count === 0 ? 0 : this.#totalChunkChars / count,
      firstTokenLatencyMs: this.#firstVisibleAt === undefined ? null : Math.max(0, this.#firstVisibleAt - this.startedAt),
      streamDurationMs:
        this.#firstVisibleAt === undefined || this.#lastEventAt === undefined
          ? null
          : Math.max(0, this.#lastEventAt - this.#firstVisibleAt),
    };
  }
}
