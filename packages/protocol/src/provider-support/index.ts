export { DEFAULT_PROVIDER_TIMEOUTS, resolveProviderTimeouts } from "./provider-timeouts.js";
export type { ProviderTimeouts } from "./provider-timeouts.js";
export { startRequestDeadline } from "./request-deadline.js";
export type { RequestDeadline, RequestDeadlineOptions } from "./request-deadline.js";
export { normalizeResponseHeaders } from "./response-headers.js";
export type { ResponseHeadersInput } from "./response-headers.js";
export { durationMsFromProtobufJson, retryAfterMsFromHeaders } from "./retry-after.js";
export type { RetryAfterOptions } from "./retry-after.js";
export { truncateProviderRaw } from "./provider-raw-text.js";
export { providerFailureFromHttp } from "./provider-http-failure.js";
export type { ProviderHttpFailureInput } from "./provider-http-failure.js";
export { callerAbortError, providerFailureFromTransport } from "./provider-transport-failure.js";
export type { TransportFailureOptions } from "./provider-transport-failure.js";
export { usageFromCounts } from "./usage-from-counts.js";
export type { UsageCounts } from "./usage-from-counts.js";
export { terminalReasonFromFinishReason } from "./terminal-reason-from-finish-reason.js";
export { createToolCallAccumulator } from "./tool-call-accumulator.js";
export type {
  ToolCallAccumulator,
  ToolCallAccumulatorOptions,
  ToolCallDelta,
  ToolCallPart,
} from "./tool-call-accumulator.js";
