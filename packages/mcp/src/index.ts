export type { CallToolOutcome } from "./call-result.js";
export { toolValueOf } from "./call-result.js";
export type { LashMcpOpenedSession, LashMcpServerOptions, LashMcpSessionListing } from "./lash-mcp-server.js";
export { createLashMcpServer } from "./lash-mcp-server.js";
export type { McpServerProblem } from "./mcp-errors.js";
export { McpServerError } from "./mcp-errors.js";
export type {
  McpApprovalPolicy,
  McpHttpServerConfig,
  McpServerConfig,
  McpServersConfig,
  McpStdioServerConfig,
} from "./mcp-server-config.js";
export {
  isHttpServer,
  MCP_APPROVAL_POLICIES,
  MCP_SERVER_NAME_PATTERN,
  McpConfigurationError,
  mcpHttpServerSchema,
  mcpServerConfigSchema,
  mcpServersSchema,
  mcpStdioServerSchema,
  parseMcpServers,
} from "./mcp-server-config.js";
export type { McpServerStatus, McpToolProviderOptions, McpToolStatus } from "./mcp-tool-provider.js";
export { createMcpToolProvider, McpToolProvider, toolNeedsApproval } from "./mcp-tool-provider.js";
export type { McpConnectionState } from "./server-connection.js";
export type { McpClientInfo, McpTransportKind } from "./server-transport.js";
export type { ListedToolName } from "./tool-naming.js";
export { MAX_TOOL_NAME_LENGTH, namespacedToolNames, TOOL_NAME_SEPARATOR } from "./tool-naming.js";
