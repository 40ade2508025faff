import type { LlmStreamEvent, TraceStreamSummary } from "@lash/protocol";

/** Counts what one model call streams (the `streamSummary` of its trace record). */
export class StreamSummaryBuilder {
  #eventCount = 0;
  #textDeltaCount = 0;
  #reasoningDeltaCount = 0;
  #chunkSizes: number[] = [];
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
    this.#chunkSizes.push(visible.length);
    this.#firstVisibleAt ??= now;
  }

  summary(): TraceStreamSummary {
    const sizes = this.#chunkSizes;
    const total = sizes.reduce((sum, size) => sum + size, 0);
    return {
      eventCount: this.#eventCount,
      textDeltaCount: this.#textDeltaCount,
      reasoningDeltaCount: this.#reasoningDeltaCount,
      visibleChunkCount: sizes.length,
      chunkSizes: [...sizes],
      maxChunkChars: sizes.length === 0 ? 0 : Math.max(...sizes),
      avgChunkChars: sizes.length === 0 ? 0 : total / sizes.length,
      firstTokenLatencyMs: this.#firstVisibleAt === undefined ? null : Math.max(0, this.#firstVisibleAt - this.startedAt),
      streamDurationMs:
        this.#firstVisibleAt === undefined || this.#lastEventAt === undefined ? null : Math.max(0, this.#lastEventAt - this.#firstVisibleAt),
    };
  }
}
