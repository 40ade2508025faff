import { redactConnectionString } from "@lash/stores/sql";
import type { CliIo } from "../cli-io.js";
import type { ConfigFlags, Sourced } from "../config/effective-config.js";
import { describeSource, resolveEffectiveConfig } from "../config/effective-config.js";
import type { ExitCode } from "../exit-codes.js";
import { EXIT_CODES } from "../exit-codes.js";
import { styleFor } from "../render/terminal-style.js";
import { formatTable } from "../render/text-table.js";

function shown(value: unknown): string {
  if (value === undefined) return "(none)";
  if (Array.isArray(value)) return value.length === 0 ? "(none)" : value.join(", ");
  return String(value);
}

/** `lash config`: every setting, its value and where it came from (flag, env, file, default). */
export async function configCommand(flags: ConfigFlags & { readonly json?: boolean }, io: CliIo): Promise<ExitCode> {
  const config = await resolveEffectiveConfig(flags, io);
  const store = /^postgres/.test(config.store.value)
    ? { ...config.store, value: redactConnectionString(config.store.value) }
    : config.store;
  const apiKey: Sourced<string | undefined> = { ...config.apiKey, value: config.apiKey.value === undefined ? undefined : "(set)" };
  const settings: [string, Sourced<unknown>][] = [
    ["home", config.home],
    ["provider", config.provider],
    ["model", config.model],
    ["baseUrl", config.baseUrl],
    ["apiKey", apiKey],
    ["script", config.script],
    ["store", store],
    ["maxContextTokens", config.maxContextTokens],
    ["maxModelCalls", config.maxModelCalls],
    ["maxTokens", config.maxTokens],
    ["timeoutSeconds", config.timeoutSeconds],
    ["requestTimeoutSeconds", config.requestTimeoutSeconds],
    ["chunkTimeoutSeconds", config.chunkTimeoutSeconds],
    ["allowedDirectories", config.allowedDirectories],
    ["systemPrompt", config.systemPrompt],
    // Names only: an entry's env and headers may hold secrets (`lash mcp list` shows the servers).
    ["mcpServers", { ...config.mcpServers, value: Object.keys(config.mcpServers.value) }],
  ];
  if (flags.json === true) {
    const json = Object.fromEntries(
      settings.map(([name, setting]) => [name, { value: setting.value ?? null, source: describeSource(setting.source) }]),
    );
    io.stdout.write(`${JSON.stringify({ configFile: config.configFile, settings: json }, null, 2)}\n`);
    return EXIT_CODES.finished;
  }
  const style = styleFor(io.stdout, io.env);
  io.stdout.write(
    `${formatTable(
      ["SETTING", "VALUE", "FROM"],
      settings.map(([name, setting]) => [name, shown(setting.value), describeSource(setting.source)]),
    )}\n`,
  );
  io.stdout.write(
    style.dim(
      `\nconfig file: ${config.configFile.path}${config.configFile.loaded ? "" : " (not present)"}\nprecedence: flags, then environment, then the config file, then defaults\n`,
    ),
  );
  return EXIT_CODES.finished;
}
