import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { McpStdioServerConfig } from "../src/index.js";

/** The test server's script, run as a child process. */
export const TEST_SERVER_SCRIPT = fileURLToPath(new URL("./fixtures/test-mcp-server.mjs", import.meta.url));

/** A stdio entry for the test server, logging to a fresh file; `readLog()` reads what the server wrote there. */
export function stdioTestServer(extra: Partial<McpStdioServerConfig> = {}): { config: McpStdioServerConfig; readLog: () => string[] } {
  const log = join(mkdtempSync(join(tmpdir(), "lash-mcp-")), "server.log");
  return {
    config: { command: process.execPath, args: [TEST_SERVER_SCRIPT], env: { MCP_TEST_LOG: log }, ...extra },
    readLog: () => {
      try {
        return readFileSync(log, "utf8")
          .split("\n")
          .filter((line) => line !== "");
      } catch {
        return [];
      }
    },
  };
}

/** Waits until `check` holds (a server's side is seen through its log, written asynchronously). */
export async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}
