import type { ToolCallOutput, TurnActivity, TurnEvent } from "@lash/protocol";
import { firstValueFrom, from, Subject, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { runningUsageTotals, timeToFirstToken, toolCallDurations } from "./turn-activity-operators.js";

let counter = 0;
function activity(event: TurnEvent, correlationId = "c"): TurnActivity {
  counter += 1;
  return { id: `a${counter}`, correlationId, ...event } as TurnActivity;
}
const usage = (input: number, output: number, cached = 0, reasoning = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cachedInputTokens: cached,
  reasoningTokens: reasoning,
});
const success: ToolCallOutput = { outcome: { status: "success", payload: "ok" } };

describe("runningUsageTotals", () => {
  it("sums each call's usage and child deltas, emitting after each", async () => {
    const activities = [
      activity({ type: "model_request_started", modeIteration: 0, messageCount: 1, toolNames: [] }),
      activity({ type: "usage", modeIteration: 0, usage: usage(10, 2, 3), cumulative: usage(10, 2, 3) }),
      activity({ type: "text_delta", text: "hi" }),
      activity({
        type: "child_usage",
        sessionId: "child",
        source: "subagent",
        model: "m",
        modeIteration: 0,
        usage: usage(0, 0, 9),
        cumulative: usage(0, 0, 9),
      }),
      activity({ type: "usage", modeIteration: 1, usage: usage(5, 1, 0, 4), cumulative: usage(15, 3, 3, 4) }),
    ];
    const totals = await firstValueFrom(from(activities).pipe(runningUsageTotals(), toArray()));
    expect(totals.map((total) => [total.inputTokens, total.cachedInputTokens, total.totalTokens, total.contextTotalTokens])).toEqual([
      [10, 3, 12, 15],
      [10, 12, 12, 24],
      [15, 12, 22, 34],
    ]);
  });

  it("passes errors through", async () => {
    const subject = new Subject<TurnActivity>();
    const result = firstValueFrom(subject.pipe(runningUsageTotals(), toArray()));
    subject.error(new Error("stream failed"));
    await expect(result).rejects.toThrow("stream failed");
  });
});

describe("toolCallDurations", () => {
  it("emits each finished tool call with its status and duration", async () => {
    const activities = [
      activity({ type: "tool_call_started", callId: "1", name: "echo", args: {} }),
      activity({ type: "tool_call_completed", callId: "1", name: "echo", args: {}, output: success, durationMs: 12 }),
      activity({
        type: "tool_call_completed",
        name: "slow",
        args: {},
        output: { outcome: { status: "cancelled", payload: { message: "stop", source: "runtime" } } } as ToolCallOutput,
        durationMs: 0,
      }),
    ];
    expect(await firstValueFrom(from(activities).pipe(toolCallDurations(), toArray()))).toEqual([
      { callId: "1", name: "echo", status: "success", durationMs: 12 },
      { callId: undefined, name: "slow", status: "cancelled", durationMs: 0 },
    ]);
  });
});

describe("timeToFirstToken", () => {
  it("measures from each model request to its first visible delta, once per call", async () => {
    let clock = 100;
    const subject = new Subject<TurnActivity>();
    const result = firstValueFrom(subject.pipe(timeToFirstToken({ now: () => clock }), toArray()));
    subject.next(activity({ type: "model_request_started", modeIteration: 0, messageCount: 1, toolNames: [] }));
    clock = 130;
    subject.next(activity({ type: "text_delta", text: "" }));
    clock = 145;
    subject.next(activity({ type: "reasoning_delta", text: "thinking" }));
    clock = 150;
    subject.next(activity({ type: "text_delta", text: "more" }));
    subject.next(activity({ type: "model_request_started", modeIteration: 1, messageCount: 1, toolNames: [] }));
    subject.next(activity({ type: "tool_call_started", name: "t", args: {} }));
    subject.next(activity({ type: "model_request_started", modeIteration: 2, messageCount: 1, toolNames: [] }));
    clock = 160;
    subject.next(activity({ type: "text_delta", text: "answer" }));
    subject.complete();
    expect(await result).toEqual([
      { modeIteration: 0, ms: 45 },
      { modeIteration: 2, ms: 10 },
    ]);
  });
});
