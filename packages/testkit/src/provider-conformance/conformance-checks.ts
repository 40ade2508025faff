// Node's own timers: a test may install fake timers, and these bounds must still run.
import { clearTimeout, setTimeout } from "node:timers";
import {
  type LlmOutputPart,
  type LlmRequest,
  type LlmStreamEvent,
  type LlmUsage,
  llmResponseSchema,
  llmStreamEventSchema,
  MODEL_PROVIDER_SPECIFICATION_VERSION,
  type ModelProvider,
  ProviderCallError,
  type ProviderFailure,
  providerFailureSchema,
} from "@lash/protocol";
import { type ProviderTimeouts, providerFailureFromHttp, terminalReasonFromFinishReason } from "@lash/provider-utils";
import type { WireScript } from "../wire-script/wire-script-schema.js";
import type { RecordedRequest, WireScriptServer } from "../wire-script/wire-script-server.js";
import { startWireScriptServer } from "../wire-script/wire-script-server.js";
import { conformanceRequestFor } from "./conformance-request.js";
import type { ModelProviderConformanceHarness } from "./harness.js";
import { callProvider, type ProviderCallRecord } from "./provider-call.js";
import { effectiveUsage, expectedUsage, heldOpenScript, isStreamed, scriptCategory } from "./script-analysis.js";
import { providerConformanceVitestApi } from "./vitest-api.js";

/** Timeouts no script comes near: the tests that are not about timeouts use them. */
export const GENEROUS_TIMEOUTS: ProviderTimeouts = { requestTimeoutMs: 30_000, chunkTimeoutMs: 30_000 };
/** How long the suite waits for something that should happen at once (an abort, a closed socket). */
const PROMPTLY_MS = 5_000;
const DEFAULT_TIME_SCALE = 1;
const DEFAULT_SHORT_TIMEOUT_MS = 250;

/** The request matchers a harness exempts a script from. */
export function ignoredMatchersFor(harness: ModelProviderConformanceHarness, scriptName: string): string[] {
  return [...(harness.ignoredRequestMatchers?.["*"] ?? []), ...(harness.ignoredRequestMatchers?.[scriptName] ?? [])];
}

function requestFor(harness: ModelProviderConformanceHarness, script: WireScript): LlmRequest {
  return harness.buildRequest?.(script) ?? conformanceRequestFor(script);
}

/** Resolves with `promise`, or fails with `message` when it has not settled within `milliseconds`. */
async function within<T>(promise: Promise<T>, milliseconds: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), milliseconds);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function untilTrue(condition: () => boolean, message: string): Promise<void> {
  await within(
    (async () => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    PROMPTLY_MS,
    message,
  );
}

interface ScriptRun {
  readonly server: WireScriptServer;
  readonly provider: ModelProvider;
}

async function withServer<T>(
  harness: ModelProviderConformanceHarness,
  script: WireScript,
  timeouts: ProviderTimeouts,
  run: (context: ScriptRun) => Promise<T>,
): Promise<T> {
  const server = await startWireScriptServer(script, {
    timeScale: harness.timeScale ?? DEFAULT_TIME_SCALE,
    ignoredMatchers: ignoredMatchersFor(harness, script.name),
  });
  try {
    const provider = await harness.createProvider({ baseUrl: server.baseUrl, timeouts, script });
    return await run({ server, provider });
  } finally {
    await server.close();
  }
}

function describeError(error: unknown): string {
  if (ProviderCallError.isInstance(error)) return `ProviderCallError ${JSON.stringify(error.failure)}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The request matched its script (the reasons are in the failure message when it did not). */
function expectNoMismatch(server: WireScriptServer, script: WireScript): void {
  const { expect } = providerConformanceVitestApi();
  expect(server.mismatches.length, `the request did not match script ${script.name}:\n${server.mismatches.join("\n")}\n`).toBe(0);
}

/** Checks shared by every call: the request matched, one HTTP attempt, valid and ordered output. */
function expectWellFormedCall(server: WireScriptServer, call: ProviderCallRecord, script: WireScript): void {
  const { expect } = providerConformanceVitestApi();
  expectNoMismatch(server, script);
  expect(server.requests.length, "an adapter makes exactly one HTTP attempt per call (turn the SDK's own retries off)").toBe(1);
  expect(call.contractProblems, "the calling contract").toEqual([]);
  expect(call.lateEventCount(), "events emitted after the call settled").toBe(0);
  for (const event of call.events) {
    const parsed = llmStreamEventSchema.safeParse(event);
    expect(parsed.success, `stream event ${JSON.stringify(event)} is not a valid LlmStreamEvent`).toBe(true);
  }
}

function expectClassifiedFailure(call: ProviderCallRecord): ProviderFailure {
  const { expect } = providerConformanceVitestApi();
  expect(call.failed, "the call should fail").toBe(true);
  expect(ProviderCallError.isInstance(call.error), `a failure is thrown as a ProviderCallError, got ${describeError(call.error)}`).toBe(
    true,
  );
  const failure = (call.error as ProviderCallError).failure;
  const parsed = providerFailureSchema.safeParse(failure);
  expect(parsed.success, `the failure is a valid ProviderFailure: ${JSON.stringify(failure)}`).toBe(true);
  return failure;
}

function textOf(parts: readonly LlmOutputPart[]): string {
  return parts.map((part) => (part.type === "text" ? part.text : "")).join("");
}

function streamedText(events: readonly LlmStreamEvent[]): string {
  return events
    .map((event) => (event.type === "delta" ? event.text : event.type === "part" && event.part.type === "text" ? event.part.text : ""))
    .join("");
}

/** A successful script: the response, its text, tool calls, terminal reason and usage. */
export async function checkSuccessScript(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  await withServer(harness, script, GENEROUS_TIMEOUTS, async ({ server, provider }) => {
    const call = await callProvider(provider, requestFor(harness, script), new AbortController().signal);
    await within(server.exchangeSettled(0), PROMPTLY_MS, "the server never saw the exchange end");
    expectNoMismatch(server, script);
    expect(call.failed, `the call failed: ${describeError(call.error)}`).toBe(false);
    expectWellFormedCall(server, call, script);
    const parsed = llmResponseSchema.safeParse(call.response);
    expect(parsed.success, `the final response is not a valid LlmResponse: ${parsed.error?.message ?? ""}`).toBe(true);
    const response = llmResponseSchema.parse(call.response);
    const expectation = script.expected_provider ?? {};
    const partsText = textOf(response.parts);
    const streamed = streamedText(call.events);
    const finalText = response.fullText !== "" ? response.fullText : partsText !== "" ? partsText : streamed;
    if (response.fullText !== "" && partsText !== "") expect(partsText, "the text parts join to fullText").toBe(response.fullText);
    if (streamed !== "" && response.fullText !== "") expect(streamed, "the streamed text joins to fullText").toBe(response.fullText);
    expect(
      finalText.includes("\uFFFD"),
      `the text ${JSON.stringify(finalText)} has a replacement character: a UTF-8 character split across chunks was decoded in pieces`,
    ).toBe(false);
    if (expectation.text !== undefined) {
      expect(finalText, "the response text").toBe(expectation.text);
      if (isStreamed(script) && expectation.text !== "") {
        const firstText = call.items.findIndex(
          (item) =>
            item.type === "event" && (item.event.type === "delta" || (item.event.type === "part" && item.event.part.type === "text")),
        );
        expect(
          firstText,
          "a streamed script's text is streamed (delta or text part events) before the final response",
        ).toBeGreaterThanOrEqual(0);
      }
    }
    if (expectation.terminal_reason !== undefined) {
      expect(response.terminalReason, "the terminal reason").toBe(terminalReasonFromFinishReason(expectation.terminal_reason));
    }
    const streamedParts = call.events.flatMap((event) => (event.type === "part" ? [event.part] : []));
    const toolCalls = (response.parts.some((part) => part.type === "tool_call") ? response.parts : streamedParts).filter(
      (part): part is Extract<LlmOutputPart, { type: "tool_call" }> => part.type === "tool_call",
    );
    if (expectation.tool_names !== undefined) {
      expect(
        toolCalls.map((part) => part.toolName),
        "the tool calls' names",
      ).toEqual(expectation.tool_names);
      for (const part of toolCalls) {
        expect(part.callId, "a tool call has a call id").not.toBe("");
        expect(
          () => JSON.parse(part.inputJson) as unknown,
          `the arguments of ${part.toolName} were joined into valid JSON: ${part.inputJson}`,
        ).not.toThrow();
      }
    }
    const usage: LlmUsage = effectiveUsage(
      response.usage,
      call.events.flatMap((event) => (event.type === "usage" ? [event.usage] : [])),
    );
    const expected = expectedUsage(script);
    expect(usage.inputTokens, "usage.inputTokens").toBe(expected.inputTokens);
    expect(expected.outputTokens, `usage.outputTokens (${usage.outputTokens})`).toContain(usage.outputTokens);
    expect(usage.cachedInputTokens, "usage.cachedInputTokens").toBe(expected.cachedInputTokens);
    expect(usage.reasoningTokens, "usage.reasoningTokens").toBe(expected.reasoningTokens);
  });
}

function headerPairs(headers: readonly { readonly name: string; readonly value: string }[]): [string, string][] {
  return headers.map((header) => [header.name, header.value]);
}

/** An HTTP error script: one attempt, a ProviderCallError classified like `providerFailureFromHttp`. */
export async function checkHttpErrorScript(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  const errorEvent = script.timeline.find((event) => event.event === "http_error");
  if (errorEvent?.event !== "http_error") throw new Error(`script ${script.name} has no http_error event`);
  await withServer(harness, script, GENEROUS_TIMEOUTS, async ({ server, provider }) => {
    const call = await callProvider(provider, requestFor(harness, script), new AbortController().signal);
    expectNoMismatch(server, script);
    const failure = expectClassifiedFailure(call);
    expectWellFormedCall(server, call, script);
    const reference = providerFailureFromHttp({
      status: errorEvent.status,
      headers: headerPairs(errorEvent.headers),
      body: errorEvent.body,
    });
    expect(failure.status, "failure.status").toBe(errorEvent.status);
    expect(failure.kind, "failure.kind (as providerFailureFromHttp classifies the response)").toBe(reference.kind);
    expect(failure.retryable, "failure.retryable (as providerFailureFromHttp classifies the response)").toBe(reference.retryable);
    expect(failure.terminalReason, "failure.terminalReason").toBe(reference.terminalReason);
    if (reference.retryAfterMs !== undefined)
      expect(failure.retryAfterMs, "failure.retryAfterMs (from Retry-After)").toBe(reference.retryAfterMs);
    const expectation = script.expected_provider ?? {};
    if (expectation.status !== undefined) expect(failure.status, "expected_provider.status").toBe(expectation.status);
    if (expectation.retryable_after_classification !== undefined) {
      expect(failure.retryable, "expected_provider.retryable_after_classification").toBe(expectation.retryable_after_classification);
    }
  });
}

/** A mid-stream disconnect: a retryable transport (or stream) failure. */
export async function checkDisconnectScript(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  const disconnect = script.timeline.find((event) => event.event === "disconnect");
  const expectation = script.expected_provider ?? {};
  const retryable =
    (disconnect?.event === "disconnect" ? disconnect.retryable : undefined) ?? expectation.retryable_after_classification ?? true;
  await withServer(harness, script, GENEROUS_TIMEOUTS, async ({ server, provider }) => {
    const call = await callProvider(provider, requestFor(harness, script), new AbortController().signal);
    expectNoMismatch(server, script);
    const failure = expectClassifiedFailure(call);
    expectWellFormedCall(server, call, script);
    expect(["transport", "stream"], `failure.kind of a dropped connection (${failure.kind})`).toContain(failure.kind);
    expect(failure.retryable, "a dropped connection is retryable").toBe(retryable);
  });
}

/** A timeout script: the adapter's own timeout fires as a `timeout` failure and it closes the connection. */
export async function checkTimeoutScript(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  const short = harness.shortTimeoutMs ?? DEFAULT_SHORT_TIMEOUT_MS;
  const category = scriptCategory(script);
  const timeouts: ProviderTimeouts =
    category === "response_start_timeout"
      ? { requestTimeoutMs: short, chunkTimeoutMs: GENEROUS_TIMEOUTS.chunkTimeoutMs }
      : { requestTimeoutMs: GENEROUS_TIMEOUTS.requestTimeoutMs, chunkTimeoutMs: short };
  const which = category === "response_start_timeout" ? "requestTimeoutMs" : "chunkTimeoutMs";
  await withServer(harness, script, timeouts, async ({ server, provider }) => {
    const call = await within(
      callProvider(provider, requestFor(harness, script), new AbortController().signal),
      PROMPTLY_MS + short * 4,
      `the call never ended: the adapter does not enforce ${which}`,
    );
    expectNoMismatch(server, script);
    const failure = expectClassifiedFailure(call);
    expectWellFormedCall(server, call, script);
    expect(failure.kind, `a fired ${which} is a timeout failure`).toBe("timeout");
    expect(failure.retryable, "a timeout is retryable").toBe(true);
    const expectation = script.expected_provider ?? {};
    if (expectation.code !== undefined) expect(failure.code, "expected_provider.code").toBe(expectation.code);
    if (expectation.retryable !== undefined) expect(failure.retryable, "expected_provider.retryable").toBe(expectation.retryable);
    if (expectation.stream_events_committed !== undefined) {
      const committed = call.events.filter((event) => event.type !== "retry_status").length;
      expect(committed, "expected_provider.stream_events_committed").toBe(expectation.stream_events_committed);
    }
    const settled: RecordedRequest = await within(
      server.exchangeSettled(0),
      PROMPTLY_MS,
      "the adapter left the connection open after its timeout fired",
    );
    expect(settled.outcome, "the adapter closed the connection after its timeout").toBe("client_closed");
  });
}

function isAbortShaped(error: unknown, reason: unknown): boolean {
  return (
    error === reason ||
    (error instanceof Error && error.name === "AbortError") ||
    (typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError")
  );
}

/** Aborting mid-stream rejects the call with the abort and closes the connection at once. */
export async function checkAbortMidStream(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  const held = heldOpenScript(script);
  await withServer(harness, held, GENEROUS_TIMEOUTS, async ({ server, provider }) => {
    const controller = new AbortController();
    const reason = new DOMException("aborted by the conformance suite", "AbortError");
    const pending = callProvider(provider, requestFor(harness, script), controller.signal);
    await untilTrue(
      () => server.requests[0]?.heldOpen === true || server.mismatches.length > 0,
      "the request never reached the point to abort at",
    );
    expectNoMismatch(server, script);
    controller.abort(reason);
    const call = await within(pending, PROMPTLY_MS, "the call did not end after its signal aborted");
    expect(call.failed, "an aborted call rejects").toBe(true);
    expect(
      isAbortShaped(call.error, reason),
      `an aborted call rejects with the signal's reason or an AbortError, got ${describeError(call.error)}`,
    ).toBe(true);
    const settled = await within(server.exchangeSettled(0), PROMPTLY_MS, "the adapter kept the connection open after its signal aborted");
    expect(settled.outcome, "the adapter closed the connection when its signal aborted").toBe("client_closed");
    expect(call.lateEventCount(), "events emitted after the call settled").toBe(0);
  });
}

/** A signal that is already aborted: the call rejects with the abort and sends nothing. */
export async function checkAbortBeforeCall(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  await withServer(harness, script, GENEROUS_TIMEOUTS, async ({ server, provider }) => {
    const controller = new AbortController();
    const reason = new DOMException("aborted before the call", "AbortError");
    controller.abort(reason);
    const call = await within(
      callProvider(provider, requestFor(harness, script), controller.signal),
      PROMPTLY_MS,
      "the call did not end although its signal was aborted",
    );
    expect(call.failed, "a call with an aborted signal rejects").toBe(true);
    expect(
      isAbortShaped(call.error, reason),
      `a call with an aborted signal rejects with the signal's reason or an AbortError, got ${describeError(call.error)}`,
    ).toBe(true);
    expect(server.requests.length, "a call with an aborted signal sends no request").toBe(0);
  });
}

/** The adapter object itself: specification version, id, exactly one call method. */
export async function checkProviderShape(harness: ModelProviderConformanceHarness, script: WireScript): Promise<void> {
  const { expect } = providerConformanceVitestApi();
  await withServer(harness, script, GENEROUS_TIMEOUTS, async ({ provider }) => {
    expect(provider.specificationVersion, "specificationVersion").toBe(MODEL_PROVIDER_SPECIFICATION_VERSION);
    expect(typeof provider.providerId === "string" && provider.providerId !== "", "providerId is a non-empty string").toBe(true);
    const methods = [provider.doComplete, provider.doStream].filter((method) => typeof method === "function").length;
    expect(methods, "implements exactly one of doComplete and doStream").toBe(1);
  });
}
