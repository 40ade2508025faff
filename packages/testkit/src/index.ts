export { ScriptedProvider, UnconsumedScriptError, UnexpectedModelCallError } from "./scripted-provider.js";
export type { ScriptedEvent, ScriptedProviderOptions, ScriptedSleep, ScriptedStep } from "./scripted-provider.js";
export { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
export type { ScriptedToolCall, TextStepOptions, ToolCallStepOptions } from "./script-builders.js";
export { describeSessionStoreConformance } from "./store-conformance/describe-session-store-conformance.js";
export type { SessionStoreBackend, SessionStoreCapabilities, SessionStoreHarness } from "./store-conformance/harness.js";
export {
  WIRE_SCRIPT_FORMAT,
  WireScriptError,
  bundledWireScriptsDirectory,
  loadWireScripts,
  parseJsonPath,
  parseWireScript,
  requestMismatches,
  startWireScriptServer,
  wireScriptEventSchema,
  wireScriptExpectationSchema,
  wireScriptMatcherSchema,
  wireScriptRequestMatchSchema,
  wireScriptSchema,
} from "./wire-script/index.js";
export type {
  ExchangeOutcome,
  LoadWireScriptsOptions,
  MatchableRequest,
  RecordedRequest,
  RequestMatchOptions,
  WireScript,
  WireScriptEvent,
  WireScriptExpectation,
  WireScriptMatcher,
  WireScriptRequestMatch,
  WireScriptServer,
  WireScriptServerOptions,
} from "./wire-script/index.js";
export { CONFORMANCE_USER_TEXT, conformanceRequestFor, describeModelProviderConformance } from "./provider-conformance/index.js";
export type { ConformanceProviderOptions, ModelProviderConformanceHarness } from "./provider-conformance/index.js";
export { describeBackgroundTaskHostConformance } from "./background-conformance/index.js";
export type {
  BackgroundTaskHostCapabilities,
  BackgroundTaskHostCreateOptions,
  BackgroundTaskHostHarness,
  BackgroundTaskHostInstance,
} from "./background-conformance/index.js";
