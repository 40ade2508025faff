export { bundledWireScriptsDirectory } from "./bundled-wire-scripts.js";
export { parseJsonPath } from "./json-path.js";
export type { LoadWireScriptsOptions } from "./load-wire-scripts.js";
export { loadWireScripts, parseWireScript, WireScriptError } from "./load-wire-scripts.js";
export type { MatchableRequest, RequestMatchOptions } from "./request-match.js";
export { requestMismatches } from "./request-match.js";
export type { ExchangeOutcome } from "./timeline-player.js";
export type {
  WireScript,
  WireScriptEvent,
  WireScriptExpectation,
  WireScriptMatcher,
  WireScriptRequestMatch,
} from "./wire-script-schema.js";
export {
  WIRE_SCRIPT_FORMAT,
  wireScriptEventSchema,
  wireScriptExpectationSchema,
  wireScriptMatcherSchema,
  wireScriptRequestMatchSchema,
  wireScriptSchema,
} from "./wire-script-schema.js";
export type { RecordedRequest, WireScriptServer, WireScriptServerOptions } from "./wire-script-server.js";
export { startWireScriptServer } from "./wire-script-server.js";
