export type { ScriptedToolCall, TextStepOptions, ToolCallStepOptions } from "./script-builders.js";
export { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
export type { ScriptedConversation, ScriptedConversationProviderOptions } from "./scripted-conversation.js";
export {
  createScriptedConversationProvider,
  InvalidScriptedConversationError,
  parseScriptedConversation,
  SCRIPTED_CONVERSATION_FORMAT,
  scriptedConversationSchema,
  scriptedRetryPolicy,
  scriptedSteps,
} from "./scripted-conversation.js";
export type { ScriptedEvent, ScriptedProviderOptions, ScriptedSleep, ScriptedStep } from "./scripted-provider.js";
export { ScriptedProvider, UnconsumedScriptError, UnexpectedModelCallError } from "./scripted-provider.js";
