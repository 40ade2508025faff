// The command as a library: for hosts that embed `lash` (or test it) in-process.

export { CliError } from "./cli-error.js";
export type { CliIo } from "./cli-io.js";
export { processIo } from "./cli-io.js";
export { createProgram, runCli } from "./cli-program.js";
export type { ConfigFile, ProviderName } from "./config/config-file.js";
export { configFileSchema, PROVIDER_NAMES } from "./config/config-file.js";
export type { ConfigFlags, ConfigSource, EffectiveConfig, Sourced } from "./config/effective-config.js";
export { describeSource, resolveEffectiveConfig } from "./config/effective-config.js";
export type { ExitCode } from "./exit-codes.js";
export { EXIT_CODES } from "./exit-codes.js";
