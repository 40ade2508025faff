export type { BoundedText, OutputLimits } from "./output-bounds.js";
export { boundText, DEFAULT_OUTPUT_LIMITS, replaceControlCharacters } from "./output-bounds.js";
export type { PathGuard, PathGuardOptions } from "./path-guard.js";
export { createPathGuard } from "./path-guard.js";
export type { WorkspaceToolName, WorkspaceToolsOptions } from "./workspace-tool-options.js";
export { WORKSPACE_TOOL_NAMES } from "./workspace-tool-options.js";
export { createWorkspaceToolProvider, createWorkspaceTools } from "./workspace-tools.js";
