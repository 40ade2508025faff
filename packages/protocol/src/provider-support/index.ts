export type { ProviderHttpFailureInput } from "./provider-http-failure.js";
export { providerFailureFromHttp } from "./provider-http-failure.js";
export { truncateProviderRaw } from "./provider-raw-text.js";
export type { ProviderTimeouts } from "./provider-timeouts.js";
export { DEFAULT_PROVIDER_TIMEOUTS, resolveProviderTimeouts } from "./provider-timeouts.js";
export type { TransportFailureOptions } from "./provider-transport-failure.js";
export { callerAbortError, providerFailureFromTransport } from "./provider-transport-failure.js";
export type { RequestDeadline, RequestDeadlineOptions } from "./request-deadline.js";
export { startRequestDeadline } from "./request-deadline.js";
export type { ResponseHeadersInput } from "./response-headers.js";
export { normalizeResponseHeaders } from "./response-headers.js";
export type { RetryAfterOptions } from "./retry-after.js";
export { durationMsFromProtobufJson, retryAfterMsFromHeaders } from "./retry-after.js";
export { terminalReasonFromFinishReason } from "./terminal-reason-from-finish-reason.js";
export type {
  ToolCallAccumulator,
  ToolCallAccumulatorOptions,
  ToolCallDelta,
  ToolCallPart,
} from "./tool-call-accumulator.js";
export { createToolCallAccumulator } from "./tool-call-accumulator.js";
export type { UsageCounts } from "./usage-from-counts.js";
export { usageFromCounts } from "./usage-from-counts.js";
