export type { AnthropicProvider } from "./anthropic-provider.js";
export { ANTHROPIC_BETA_FEATURES, createAnthropicProvider } from "./anthropic-provider.js";
export type { AnthropicCacheRetention, AnthropicProviderOptions, AnthropicThinkingOption } from "./anthropic-provider-options.js";
export { DEFAULT_MAX_OUTPUT_TOKENS } from "./anthropic-provider-options.js";
export type { MessagesRequestSettings } from "./anthropic-request-mapping.js";
export { buildMessagesRequest } from "./anthropic-request-mapping.js";
export type { AnthropicUsageCounts } from "./anthropic-usage.js";
export { llmUsageFromAnthropic } from "./anthropic-usage.js";
