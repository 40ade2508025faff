export { ScriptedProvider, UnconsumedScriptError, UnexpectedModelCallError } from "./scripted-provider.js";
export type { ScriptedEvent, ScriptedProviderOptions, ScriptedSleep, ScriptedStep } from "./scripted-provider.js";
export { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
export type { ScriptedToolCall, TextStepOptions, ToolCallStepOptions } from "./script-builders.js";
export { describeSessionStoreConformance } from "./store-conformance/describe-session-store-conformance.js";
export type { SessionStoreBackend, SessionStoreCapabilities, SessionStoreHarness } from "./store-conformance/harness.js";
