import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { newSessionId, runLash, temporaryDirectory, writeScript } from "./run-lash.js";

const NOTES_SERVER = fileURLToPath(new URL("./fixtures/notes-mcp-server.mjs", import.meta.url));

let home: string;

async function writeConfig(mcpServers: unknown): Promise<void> {
  await mkdir(join(home, ".lash"), { recursive: true });
  await writeFile(join(home, ".lash", "config.json"), JSON.stringify({ mcpServers }));
}

beforeEach(async () => {
  home = await temporaryDirectory();
});

describe("MCP servers in the config file", () => {
  it("gives lash run the servers' tools, named server__tool", async () => {
    await writeConfig({ notes: { command: process.execPath, args: [NOTES_SERVER] } });
    const script = await writeScript(home, "mcp", [
      { toolCalls: [{ name: "notes__lookup", args: { topic: "shopping" } }], usage: { input: 30, output: 8 } },
      { text: "Buy milk.", usage: { input: 50, output: 3 } },
    ]);
    const result = await runLash(["run", "--script", script, "What is on my list?"], home);
    expect(result.stderr).toContain('⚙ notes__lookup {"topic":"shopping"}');
    expect(result.stderr).toMatch(/✓ notes__lookup \d+ ms/);
    expect(result.stdout).toBe("Buy milk.\n");
    expect(result.code).toBe(0);
    const shown = await runLash(["sessions", "show", newSessionId(result.stderr)], home);
    expect(shown.stdout).toContain("note about shopping: buy milk");
  });

  it("makes a destructive MCP tool wait for approval without --yes, and lash approve runs it", async () => {
    await writeConfig({ notes: { command: process.execPath, args: [NOTES_SERVER] } });
    const script = await writeScript(home, "erase", [
      { toolCalls: [{ name: "notes__erase", args: { topic: "old" } }] },
      { text: "Erased." },
    ]);
    const waiting = await runLash(["run", "--script", script, "Erase the old note"], home);
    expect(waiting.code).toBe(3);
    expect(waiting.stderr).toContain('notes: erase {"topic":"old"}');
    const sessionId = newSessionId(waiting.stderr);
    // The approving process plays the rest of the conversation: the model's answer after the call.
    const rest = await writeScript(home, "erase-rest", [{ text: "Erased." }]);
    const approved = await runLash(["approve", sessionId, "--all", "--script", rest], home);
    expect(approved.stderr).toMatch(/✓ notes__erase \d+ ms/);
    expect(approved.code).toBe(0);
  });

  it("lash mcp list shows each server, its state and its tools; a server that cannot start is an error naming it", async () => {
    await writeConfig({
      notes: { command: process.execPath, args: [NOTES_SERVER] },
      broken: { command: join(home, "no-such-server") },
      later: { command: "x", disabled: true },
    });
    const listed = await runLash(["mcp", "list"], home);
    expect(listed.stdout).toMatch(/^SERVER\s+TRANSPORT\s+STATUS\s+TOOLS/);
    expect(listed.stdout).toMatch(/^notes\s+stdio\s+connected\s+2\s/m);
    expect(listed.stdout).toMatch(/^broken\s+failed\s+0\s/m);
    expect(listed.stdout).toContain("notes__lookup  Reads a note.");
    expect(listed.stdout).toContain("notes__erase (asks first)");
    expect(listed.stdout).toContain("error: MCP server `broken`: could not start or connect");
    expect(listed.stdout).toContain("disabled: later");
    expect(listed.code).toBe(1);
    const json = JSON.parse((await runLash(["mcp", "list", "--json"], home)).stdout) as { servers: { server: string; state: string }[] };
    expect(json.servers.map((server) => [server.server, server.state])).toEqual([
      ["broken", "failed"],
      ["notes", "connected"],
    ]);
  });

  it("refuses a bad mcpServers entry naming the field (exit 2)", async () => {
    await writeConfig({ notes: { command: "", args: "x" }, remote: { url: "not a url" } });
    const result = await runLash(["mcp", "list"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("`mcpServers.notes.command`");
    expect(result.stderr).toContain("`mcpServers.notes.args`");
    expect(result.stderr).toContain("`mcpServers.remote.url`");
  });
});

describe("lash mcp serve", () => {
  it("serves the agent to an MCP client over stdio: run_turn with progress, a continued session, list_sessions, session_usage", async () => {
    const script = await writeScript(home, "serve", [
      // Pauses between the pieces, so the first progress notifications do not reach the client together with the result.
      { text: "Hello from lash.", chunks: 3, chunkDelayMs: 100, usage: { input: 40, output: 5 } },
      { toolCalls: [{ name: "list_directory", args: {} }], usage: { input: 60, output: 6 } },
      { text: "I see the script.", usage: { input: 80, output: 5 } },
    ]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [inject("cliBundle"), "mcp", "serve", "--script", script],
      cwd: home,
      env: { HOME: home, LASH_HOME: join(home, ".lash") },
      stderr: "pipe",
    });
    const client = new Client({ name: "test-client", version: "1.0.0" });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name).sort()).toEqual(["list_sessions", "run_turn", "session_usage"]);
      const progress: string[] = [];
      const first = await client.callTool({ name: "run_turn", arguments: { prompt: "Hi" } }, CallToolResultSchema, {
        onprogress: (update) => progress.push(update.message ?? ""),
      });
      expect(first.content).toEqual([{ type: "text", text: "Hello from lash." }]);
      // The SDK's client dispatches notifications after a response read with them, so the last ones may be missed; the first are there.
      expect(progress.slice(0, 2)).toEqual(["model call", "Hello "]);
      const sessionId = (first.structuredContent as { sessionId: string }).sessionId;
      const second = await client.callTool({ name: "run_turn", arguments: { prompt: "What is here?", sessionId } });
      expect(second.structuredContent).toMatchObject({
        sessionId,
        turnIndex: 2,
        answer: "I see the script.",
        toolCalls: [{ tool: "list_directory", status: "success" }],
      });
      const listed = await client.callTool({ name: "list_sessions", arguments: {} });
      expect((listed.structuredContent as { sessions: { sessionId: string }[] }).sessions.map((session) => session.sessionId)).toEqual([
        sessionId,
      ]);
      const spent = await client.callTool({ name: "session_usage", arguments: { sessionId } });
      expect(spent.structuredContent).toMatchObject({ total: { inputTokens: 180, outputTokens: 16 } });
      const unknown = await client.callTool({ name: "run_turn", arguments: { prompt: "Hi", sessionId: "no-such-session" } });
      expect(unknown.isError).toBe(true);
    } finally {
      await client.close();
    }
    // The sessions are stored like any other.
    const sessions = await runLash(["sessions", "list"], home);
    expect(sessions.stdout).toContain("Hi");
  });
});
