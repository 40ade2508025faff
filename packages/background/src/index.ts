export { DEFAULT_MAX_CONCURRENT_TASKS, LocalBackgroundTaskHost } from "./local/local-background-task-host.js";
export type { LocalBackgroundTaskHostOptions } from "./local/local-background-task-host.js";
export { fromBackgroundTaskStream } from "./local/background-task-stream.js";
export { PARENT_TURN_CANCELLED, SUBAGENT_PRODUCER, SUBAGENT_USAGE_SOURCE, createSubagentTools } from "./subagents/subagent-tools.js";
export { resolveSubagentOptions } from "./subagents/subagent-options.js";
export type { ResolvedSubagentOptions, SubagentOptions } from "./subagents/subagent-options.js";
export { SubagentTurnStoppedError } from "./subagents/subagent-outcome.js";
