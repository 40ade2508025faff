export { CONFORMANCE_USER_TEXT, conformanceRequestFor } from "./conformance-request.js";
export { describeModelProviderConformance } from "./describe-model-provider-conformance.js";
export type { ConformanceProviderOptions, ModelProviderConformanceHarness } from "./harness.js";
