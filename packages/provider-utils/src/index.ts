export type { ProviderFailureInput } from "./provider-failure-classifier.js";
export { classifyProviderFailure } from "./provider-failure-classifier.js";
export type { ProviderHttpFailureInput } from "./provider-http-failure.js";
export { providerFailureFromHttp } from "./provider-http-failure.js";
export { truncateProviderRaw, truncateText } from "./provider-raw-text.js";
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
export type { ServerSentEvent, ServerSentEventReaderOptions, StreamCompletion } from "./server-sent-event-reader.js";
export { DEFAULT_LARGEST_EVENT_CHARACTERS, readServerSentEvents } from "./server-sent-event-reader.js";
export type { StreamFailureCode } from "./stream-failures.js";
export { malformedStreamFailure, streamEventTooLargeFailure, truncatedStreamFailure } from "./stream-failures.js";
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
