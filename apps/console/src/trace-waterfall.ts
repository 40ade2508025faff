import type { TurnTraceResponse } from "@lash/remote-protocol";
import { h } from "./dom.js";
import { count, milliseconds } from "./format.js";

type TraceRecord = TurnTraceResponse["records"][number];

/** One bar of the waterfall. */
export interface WaterfallRow {
  readonly kind: "turn" | "model" | "tool" | "retry" | "commit";
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Time to first token, from the start of the bar (model calls that streamed). */
  readonly firstTokenMs?: number;
  readonly detail: string;
  readonly failed: boolean;
}

function at(record: TraceRecord): number {
  return Date.parse(record.timestamp);
}

/** The rows of a turn's waterfall, in start order, times relative to the turn's start. */
export function waterfallRows(records: readonly TraceRecord[]): WaterfallRow[] {
  const origin = Math.min(...records.map(at));
  const rows: WaterfallRow[] = [];
  const started = new Map<string, TraceRecord>();
  for (const record of records) {
    const time = at(record) - origin;
    switch (record.type) {
      case "llm_call_started":
      case "tool_call_started":
        started.set(record.callId, record);
        break;
      case "llm_call_completed":
      case "llm_call_failed": {
        const start = started.get(record.callId);
        const startMs = start === undefined ? time - record.durationMs : at(start) - origin;
        const summary = record.streamSummary;
        const usage = record.type === "llm_call_completed" ? record.usage : record.partialUsage;
        rows.push({
          kind: "model",
          label: `model call ${record.modeIteration + 1} · ${record.model}`,
          startMs,
          endMs: Math.max(time, startMs + record.durationMs),
          ...(summary.firstTokenLatencyMs === null ? {} : { firstTokenMs: summary.firstTokenLatencyMs }),
          detail: [
            `duration ${milliseconds(record.durationMs)}`,
            `first token ${milliseconds(summary.firstTokenLatencyMs)}`,
            usage === undefined ? "" : `${count(usage.inputTokens)} in, ${count(usage.outputTokens)} out`,
            record.type === "llm_call_completed" ? record.terminalReason : `failed: ${record.error.message}`,
          ]
            .filter((part) => part !== "")
            .join(" · "),
          failed: record.type === "llm_call_failed",
        });
        break;
      }
      case "tool_call_completed": {
        const start = started.get(record.callId);
        const startMs = start === undefined ? time - record.durationMs : at(start) - origin;
        rows.push({
          kind: "tool",
          label: `tool ${record.toolName}`,
          startMs,
          endMs: Math.max(time, startMs + record.durationMs),
          detail: `${record.status} · ${milliseconds(record.durationMs)}`,
          failed: record.status !== "success",
        });
        break;
      }
      case "llm_retry":
        rows.push({
          kind: "retry",
          label: `retry ${record.attempt}/${record.maxAttempts}`,
          startMs: time,
          endMs: time + record.waitSeconds * 1000,
          detail: `wait ${record.waitSeconds} s · ${record.reason}`,
          failed: true,
        });
        break;
      case "commit":
        rows.push({
          kind: "commit",
          label: `commit ${record.commitId.split(":").at(-1) ?? ""}`,
          startMs: Math.max(0, time - record.durationMs),
          endMs: time,
          detail: `${record.ok ? "ok" : "failed"} · ${milliseconds(record.durationMs)}`,
          failed: !record.ok,
        });
        break;
      case "turn_completed":
        rows.unshift({
          kind: "turn",
          label: `turn ${record.turnIndex}`,
          startMs: 0,
          endMs: Math.max(time, record.durationMs),
          detail: `${record.outcome?.type ?? "failed"} · ${milliseconds(record.durationMs)} · ${count(record.usage.inputTokens)} in, ${count(record.usage.outputTokens)} out`,
          failed: record.error !== undefined,
        });
        break;
      default:
        break;
    }
  }
  return [
    rows.filter((row) => row.kind === "turn"),
    rows.filter((row) => row.kind !== "turn").sort((left, right) => left.startMs - right.startMs),
  ].flat();
}

/** The waterfall of a turn: one bar per model call, tool call, retry and commit on the turn's time axis. */
export function renderWaterfall(trace: TurnTraceResponse): HTMLElement {
  const rows = waterfallRows(trace.records);
  const span = Math.max(1, ...rows.map((row) => row.endMs));
  const percent = (value: number): string => `${Math.min(100, Math.max(0, (value / span) * 100)).toFixed(2)}%`;
  return h(
    "div",
    { class: "waterfall", role: "table", "aria-label": `Trace of turn ${trace.turnId}` },
    h(
      "div",
      { class: "waterfall-head", role: "row" },
      h("span", { role: "columnheader" }, "step"),
      h(
        "span",
        { role: "columnheader" },
        `0 – ${milliseconds(span)}${trace.complete ? "" : " (running)"}${trace.truncated ? " (truncated)" : ""}`,
      ),
    ),
    rows.map((row) =>
      h(
        "div",
        { class: `waterfall-row ${row.kind}${row.failed ? " failed" : ""}`, role: "row" },
        h("span", { class: "waterfall-label", role: "cell" }, row.label),
        h(
          "span",
          { class: "waterfall-track", role: "cell", title: row.detail },
          h(
            "span",
            { class: "waterfall-bar", style: `left:${percent(row.startMs)};width:max(3px,${percent(row.endMs - row.startMs)})` },
            row.firstTokenMs === undefined
              ? ""
              : h("span", {
                  class: "ttft",
                  style: `left:${Math.min(100, (row.firstTokenMs / Math.max(1, row.endMs - row.startMs)) * 100).toFixed(2)}%`,
                }),
          ),
          h("span", { class: "waterfall-detail" }, row.detail),
        ),
      ),
    ),
  );
}
