import { describe, expect, it } from "vitest";
import { McpConfigurationError, parseMcpServers } from "./mcp-server-config.js";

describe("parseMcpServers", () => {
  it("reads the shape other MCP clients use, with lash's own fields", () => {
    expect(
      parseMcpServers({
        files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "."], env: { DEBUG: "1" }, cwd: "/tmp" },
        github: { url: "https://api.githubcopilot.com/mcp/", headers: { Authorization: "Bearer x" }, approval: "always" },
        old: { type: "sse", url: "http://127.0.0.1:9000/sse", callTimeoutSeconds: 5 },
      }),
    ).toMatchObject({ files: { command: "npx" }, github: { approval: "always" }, old: { type: "sse" } });
  });

  it("names every wrong field, in the shape the entry was meant to have", () => {
    const attempt = () =>
      parseMcpServers({
        a: { command: "", args: "x" },
        b: { url: "ftp://example.com" },
        c: { command: "x", timeout: 5 },
        "bad name": { command: "x" },
        d: 7,
      });
    expect(attempt).toThrow(McpConfigurationError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as McpConfigurationError).problems.join("\n");
      expect(problems).toMatch(/^a\.command: /m);
      expect(problems).toMatch(/^a\.args: /m);
      expect(problems).toMatch(/^b\.url: /m);
      expect(problems).toMatch(/^c\.timeout: /m);
      expect(problems).toMatch(/^"bad name": a server name is/m);
      expect(problems).toMatch(/^d: must be \{ "command"/m);
      expect((error as McpConfigurationError).code).toBe("invalid_configuration");
    }
  });
});
