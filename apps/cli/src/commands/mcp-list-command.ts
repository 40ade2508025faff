import type { McpServerStatus } from "@lash/mcp";
import { createMcpToolProvider, isHttpServer } from "@lash/mcp";
import packageJson from "../../package.json" with { type: "json" };
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags } from "../config/effective-config.js";
import { resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { styleFor } from "../render/terminal-style.js";
import { formatTable } from "../render/text-table.js";

function statusJson(status: McpServerStatus, target: string): Record<string, unknown> {
  return {
    server: status.server,
    target,
    state: status.state,
    transport: status.transport ?? null,
    serverInfo: status.serverInfo ?? null,
    tools: status.tools,
    skippedTools: status.skippedTools,
    error: status.lastError === undefined ? null : { code: status.lastError.failureCode, message: status.lastError.message },
  };
}

/**
 * `lash mcp list`: connects to every configured MCP server (stdio servers are started, then
 * stopped) and shows each one's state and the tools the model gets, by the name it calls them.
 * Exit 0 when every server answered, 1 when one did not (its error is shown).
 */
export async function mcpListCommand(flags: ConfigFlags & { readonly json?: boolean }, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const servers = config.mcpServers.value;
  const targets = new Map(
    Object.entries(servers).map(([name, server]) => [
      name,
      isHttpServer(server) ? server.url : [server.command, ...(server.args ?? [])].join(" "),
    ]),
  );
  const provider = createMcpToolProvider({ servers, clientInfo: { name: "lash", version: packageJson.version } });
  let statuses: readonly McpServerStatus[];
  try {
    statuses = await provider.connect();
  } finally {
    await provider.close();
  }
  const disabled = Object.entries(servers)
    .filter(([, server]) => server.disabled === true)
    .map(([name]) => name);
  if (flags.json === true) {
    io.stdout.write(
      `${JSON.stringify({ servers: statuses.map((status) => statusJson(status, targets.get(status.server) ?? "")), disabled }, null, 2)}\n`,
    );
    return statuses.some((status) => status.lastError !== undefined) ? EXIT_CODES.failed : EXIT_CODES.finished;
  }
  const style = styleFor(io.stdout, io.env);
  if (statuses.length === 0) {
    io.stdout.write(`no MCP servers configured${disabled.length === 0 ? "" : ` (disabled: ${disabled.join(", ")})`}\n`);
    io.stderr.write(`  add them under "mcpServers" in ${config.configFile.path}; see \`MCP servers\` in the lash README\n`);
    return EXIT_CODES.finished;
  }
  const rows = statuses.map((status) => [
    status.server,
    status.lastError === undefined ? (status.transport ?? "") : "",
    status.lastError === undefined ? "connected" : "failed",
    String(status.tools.length),
    targets.get(status.server) ?? "",
  ]);
  io.stdout.write(`${formatTable(["SERVER", "TRANSPORT", "STATUS", "TOOLS", "COMMAND OR URL"], rows)}\n`);
  for (const status of statuses) {
    io.stdout.write(
      `\n${style.bold(status.server)}${status.serverInfo === undefined ? "" : ` (${status.serverInfo.name} ${status.serverInfo.version})`}\n`,
    );
    if (status.lastError !== undefined) io.stdout.write(`  ${style.red("error:")} ${status.lastError.message}\n`);
    for (const tool of status.tools)
      io.stdout.write(`  ${tool.name}${tool.needsApproval ? " (asks first)" : ""}  ${style.dim(tool.description.split("\n")[0] ?? "")}\n`);
    for (const skipped of status.skippedTools)
      io.stdout.write(`  ${style.yellow("left out:")} ${skipped.serverToolName}: ${skipped.problem}\n`);
  }
  if (disabled.length > 0) io.stdout.write(`\ndisabled: ${disabled.join(", ")}\n`);
  return statuses.some((status) => status.lastError !== undefined) ? EXIT_CODES.failed : EXIT_CODES.finished;
}
