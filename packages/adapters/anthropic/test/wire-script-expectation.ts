import { ProviderCallError } from "@lash/protocol";
import type { WireScriptExpectation } from "@lash/testkit";
import type { ProviderRun } from "./provider-run.js";

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * How a provider run differs from a wire script's `expected_provider` (empty when it meets every
 * field). Kinds are compared in lower case (`Timeout` is `timeout`); `stream_events_committed`
 * counts the content events (text, reasoning, parts) streamed before the failure.
 */
export function expectationProblems(expected: WireScriptExpectation | undefined, run: ProviderRun): string[] {
  if (expected === undefined) return [];
  const problems: string[] = [];
  const check = (field: string, actual: unknown, wanted: unknown): void => {
    if (show(actual) !== show(wanted)) problems.push(`${field}: expected ${show(wanted)}, got ${show(actual)}`);
  };
  const failure = ProviderCallError.isInstance(run.error) ? run.error.failure : undefined;
  if (expected.terminal_reason !== undefined) check("terminal_reason", run.response?.terminalReason, expected.terminal_reason);
  if (expected.text !== undefined) check("text", run.response?.fullText, expected.text);
  if (expected.tool_names !== undefined) {
    const names = (run.response?.parts ?? []).flatMap((part) => (part.type === "tool_call" ? [part.toolName] : []));
    check("tool_names", names, expected.tool_names);
  }
  if (expected.status !== undefined) check("status", failure?.status, expected.status);
  if (expected.retryable_after_classification !== undefined)
    check("retryable_after_classification", failure?.retryable, expected.retryable_after_classification);
  if (expected.retryable !== undefined) check("retryable", failure?.retryable, expected.retryable);
  if (expected.kind !== undefined) check("kind", failure?.kind, expected.kind.toLowerCase());
  if (expected.code !== undefined) check("code", failure?.code, expected.code);
  if (expected.stream_failure === true) check("stream_failure", failure?.kind, "stream");
  if (expected.stream_error !== undefined && failure === undefined)
    problems.push(`stream_error: expected a failure, got ${show(run.error)}`);
  if (expected.stream_events_committed !== undefined) {
    const committed = run.events.filter(
      (event) => event.type === "delta" || event.type === "reasoning_delta" || event.type === "part",
    ).length;
    check("stream_events_committed", committed, expected.stream_events_committed);
  }
  return problems;
}
