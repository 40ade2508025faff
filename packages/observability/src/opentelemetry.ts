export type { OpenTelemetryTraceSinkOptions } from "./opentelemetry-trace-sink.js";
export { createOpenTelemetryTraceSink } from "./opentelemetry-trace-sink.js";
