import { describe, expect, it } from "vitest";
import { terminalReasonFromFinishReason } from "./terminal-reason-from-finish-reason.js";

describe("terminalReasonFromFinishReason", () => {
  it.each([
    ["stop", "stop"],
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["STOP", "stop"],
    ["length", "output_limit"],
    ["max_tokens", "output_limit"],
    ["MAX_TOKENS", "output_limit"],
    ["max_output_tokens", "output_limit"],
    ["tool_calls", "tool_use"],
    ["tool-calls", "tool_use"],
    ["function_call", "tool_use"],
    ["tool_use", "tool_use"],
    ["content_filter", "content_filter"],
    ["content-filter", "content_filter"],
    ["refusal", "content_filter"],
    ["SAFETY", "content_filter"],
    ["model_context_window_exceeded", "context_overflow"],
    ["error", "provider_error"],
    ["other", "unknown"],
    ["pause_turn", "unknown"],
    ["constructor", "unknown"],
    ["__proto__", "unknown"],
    [null, "unknown"],
    [undefined, "unknown"],
  ] as const)("maps %j to %s", (reason, expected) => {
    expect(terminalReasonFromFinishReason(reason)).toBe(expected);
  });
});
