import { createToolProvider } from "@lash/core";
import type { ToolDefinition, ToolProvider } from "@lash/protocol";
import { createListDirectoryTool } from "./list-directory-tool.js";
import { createPatchFileTool } from "./patch-file-tool.js";
import { createConfiningPathGuard } from "./path-guard.js";
import { createReadFileTool } from "./read-file-tool.js";
import { createSearchFilesTool } from "./search-files-tool.js";
import { createShellCommandTool } from "./shell-command-tool.js";
import type { WorkspaceToolContext, WorkspaceToolName, WorkspaceToolsOptions } from "./workspace-tool-options.js";
import { createWorkspaceToolContext, WORKSPACE_TOOL_NAMES } from "./workspace-tool-options.js";
import { createWriteFileTool } from "./write-file-tool.js";

const FACTORIES: Record<WorkspaceToolName, (context: WorkspaceToolContext) => ToolDefinition<unknown>> = {
  read_file: createReadFileTool,
  list_directory: createListDirectoryTool,
  search_files: createSearchFilesTool,
  write_file: createWriteFileTool,
  patch_file: createPatchFileTool,
  run_shell: createShellCommandTool,
};

/**
 * The built-in workspace tools over one working directory: `read_file`, `list_directory`,
 * `search_files`, `write_file`, `patch_file` and `run_shell`. Paths outside `root` (and
 * `allowedDirectories`) are refused unless `allowAnyPath`; every output is bounded by `limits`.
 * `write_file`, `patch_file` and `run_shell` declare `needsApproval`: the runtime runs them only
 * when its approver (`withApprovals`, or a turn's `approve` option) approves the call.
 *
 * @example
 * const tools = await createWorkspaceTools({ root: process.cwd() });
 * LashRuntime.builder().withTools(tools).withApprovals({ approve: () => ({ type: "approve" }) })
 */
export async function createWorkspaceTools(options: WorkspaceToolsOptions): Promise<ToolDefinition<unknown>[]> {
  const names = options.tools ?? WORKSPACE_TOOL_NAMES;
  for (const name of names) {
    if (!(name in FACTORIES)) throw new TypeError(`unknown workspace tool \`${String(name)}\`; known: ${WORKSPACE_TOOL_NAMES.join(", ")}`);
  }
  const context = createWorkspaceToolContext(await createConfiningPathGuard(options), options);
  return names.map((name) => FACTORIES[name](context));
}

/** The same tools as a `ToolProvider` (`builder.withToolProvider(...)`, or a server's tool list). */
export async function createWorkspaceToolProvider(options: WorkspaceToolsOptions): Promise<ToolProvider> {
  return createToolProvider(await createWorkspaceTools(options));
}
