export { createAiSdkProvider } from "./create-ai-sdk-provider.js";
export type { AiSdkProviderOptions } from "./create-ai-sdk-provider.js";
export type { AiSdkCallSettings } from "./request-mapping.js";
export { SUPPORTED_SPECIFICATION_VERSIONS } from "./language-model-check.js";
export { REASONING_METADATA_PREFIX, TOOL_CALL_METADATA_KEY } from "./provider-metadata-replay.js";
