export type { OpenAIChatProviderOptions } from "./chat-provider.js";
export { createOpenAIChatProvider, OPENAI_CHAT_PROVIDER_ID } from "./chat-provider.js";
export type { OpenAIProviderOptions } from "./provider-options.js";
export type { OpenAIResponsesProviderOptions } from "./responses-provider.js";
export { createOpenAIResponsesProvider, OPENAI_RESPONSES_PROVIDER_ID } from "./responses-provider.js";
