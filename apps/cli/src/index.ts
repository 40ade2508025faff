// The command as a library: for hosts that embed `lash` (or test it) in-process.
export { createProgram, runCli } from "./cli-program.js";
export { processIo } from "./cli-io.js";
export type { CliIo } from "./cli-io.js";
export { CliError } from "./cli-error.js";
export { EXIT_CODES } from "./exit-codes.js";
export type { ExitCode } from "./exit-codes.js";
export { configFileSchema, PROVIDER_NAMES } from "./config/config-file.js";
export type { ConfigFile, ProviderName } from "./config/config-file.js";
export { describeSource, resolveEffectiveConfig } from "./config/effective-config.js";
export type { ConfigFlags, ConfigSource, EffectiveConfig, Sourced } from "./config/effective-config.js";
export { SCRIPTED_CONVERSATION_FORMAT, scriptedConversationSchema } from "./providers/scripted-script.js";
export type { ScriptedConversation } from "./providers/scripted-script.js";
