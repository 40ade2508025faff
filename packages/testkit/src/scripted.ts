// The scripted provider and its step builders without the conformance suites, so a program (the
// `lash` command's scripted provider, a demo) can use them without loading vitest.
export { ScriptedProvider, UnconsumedScriptError, UnexpectedModelCallError } from "./scripted-provider.js";
export type { ScriptedEvent, ScriptedProviderOptions, ScriptedSleep, ScriptedStep } from "./scripted-provider.js";
export { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
export type { ScriptedToolCall, TextStepOptions, ToolCallStepOptions } from "./script-builders.js";
