export { describeModelProviderConformance } from "./describe-model-provider-conformance.js";
export { conformanceRequestFor, CONFORMANCE_USER_TEXT } from "./conformance-request.js";
export type { ConformanceProviderOptions, ModelProviderConformanceHarness } from "./harness.js";
