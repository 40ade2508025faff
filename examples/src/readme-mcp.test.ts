import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runSnippet, snippetAfter } from "./readme-snippet-runner.js";

describe("README code that says it runs as is: MCP", () => {
  // A child process that loads TypeScript through tsx and starts itself again as the MCP server (no time is asserted).
  it("@lash/mcp: a model calls an MCP server's tool over stdio", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/mcp/README.md", "## Example"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toBe(
      ['weather__forecast → "Lisbon: sunny, 23 °C"', "Sunny tomorrow in Lisbon.", "weather: connected over stdio, 1 tool", ""].join("\n"),
    );
  });
});
