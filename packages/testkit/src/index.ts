// The scripted provider lives in @lash/adapter-scripted (programs use it too); tests get it here
// with the suites.
export type {
  ScriptedEvent,
  ScriptedProviderOptions,
  ScriptedSleep,
  ScriptedStep,
  ScriptedToolCall,
  TextStepOptions,
  ToolCallStepOptions,
} from "@lash/adapter-scripted";
export {
  errorStep,
  ScriptedProvider,
  textStep,
  toolCallStep,
  UnconsumedScriptError,
  UnexpectedModelCallError,
  usage,
} from "@lash/adapter-scripted";
export type {
  AttachmentStoreBackend,
  AttachmentStoreCapabilities,
  AttachmentStoreHarness,
  AttachmentStoreSetupOptions,
} from "./attachment-conformance/index.js";
export { describeAttachmentStoreConformance, sessionStoreReferences } from "./attachment-conformance/index.js";
export type {
  BackgroundTaskHostCapabilities,
  BackgroundTaskHostCreateOptions,
  BackgroundTaskHostHarness,
  BackgroundTaskHostInstance,
} from "./background-conformance/index.js";
export { describeBackgroundTaskHostConformance } from "./background-conformance/index.js";
export type { ConformanceProviderOptions, ModelProviderConformanceHarness } from "./provider-conformance/index.js";
export { CONFORMANCE_USER_TEXT, conformanceRequestFor, describeModelProviderConformance } from "./provider-conformance/index.js";
export { describeSessionStoreConformance } from "./store-conformance/describe-session-store-conformance.js";
export type { SessionStoreBackend, SessionStoreCapabilities, SessionStoreHarness } from "./store-conformance/harness.js";
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
export {
  bundledWireScriptsDirectory,
  loadWireScripts,
  parseJsonPath,
  parseWireScript,
  requestMismatches,
  startWireScriptServer,
  WIRE_SCRIPT_FORMAT,
  WireScriptError,
  wireScriptEventSchema,
  wireScriptExpectationSchema,
  wireScriptMatcherSchema,
  wireScriptRequestMatchSchema,
  wireScriptSchema,
} from "./wire-script/index.js";
