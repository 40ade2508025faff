export { fromBackgroundTaskStream } from "./local/background-task-stream.js";
export type { LocalBackgroundTaskHostOptions } from "./local/local-background-task-host.js";
export { LocalBackgroundTaskHost } from "./local/local-background-task-host.js";
export { DEFAULT_MAX_CONCURRENT_TASKS } from "./local/local-task-slots.js";
export type { ResolvedSubagentOptions, SubagentOptions } from "./subagents/subagent-options.js";
export { resolveSubagentOptions } from "./subagents/subagent-options.js";
export { SubagentTurnStoppedError } from "./subagents/subagent-outcome.js";
export { createSubagentTools, PARENT_TURN_CANCELLED, SUBAGENT_PRODUCER, SUBAGENT_USAGE_SOURCE } from "./subagents/subagent-tools.js";
