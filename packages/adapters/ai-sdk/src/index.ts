export type { AiSdkProviderOptions } from "./create-ai-sdk-provider.js";
export { createAiSdkProvider } from "./create-ai-sdk-provider.js";
export { SUPPORTED_SPECIFICATION_VERSIONS } from "./language-model-check.js";
// The adapter's own description of the AI SDK language model contract (see language-model-types.ts):
// every type a public signature names is exported, so applications can name them too.
export type {
  AiSdkCallOptions,
  AiSdkCallOptionsV3,
  AiSdkCallOptionsV4,
  AiSdkCallSettings,
  AiSdkFilePart,
  AiSdkFilePartV3,
  AiSdkFilePartV4,
  AiSdkFunctionTool,
  AiSdkJsonObject,
  AiSdkJsonSchema,
  AiSdkJsonValue,
  AiSdkLanguageModel,
  AiSdkLanguageModelV3,
  AiSdkLanguageModelV4,
  AiSdkMessage,
  AiSdkPrompt,
  AiSdkProviderOptionsRecord,
  AiSdkReasoningPart,
  AiSdkStreamResult,
  AiSdkTextPart,
  AiSdkToolCallPart,
  AiSdkToolResultPart,
} from "./language-model-types.js";
export type { AiSdkFinishReason, AiSdkGenerateResult, AiSdkStreamPartLike, AiSdkUsage } from "./model-output-types.js";
export { REASONING_METADATA_PREFIX, TOOL_CALL_METADATA_KEY } from "./provider-metadata-replay.js";
