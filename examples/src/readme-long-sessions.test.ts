import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runSnippet, snippetAfter } from "./readme-snippet-runner.js";

describe("README code that says it runs as is: long sessions", () => {
  // A child process that loads TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("@lash/core: the long-session example cuts a tool output, compacts by hand and counts the summary apart", {
    timeout: 120_000,
  }, async () => {
    const { stdout, workingDirectory } = await runSnippet(
      await snippetAfter("packages/core/README.md", "## Long sessions: rolling history, compaction, tool-output budget"),
    );
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toBe(
      ["[... output cut: 2798 of 3000 lines (52301 of 55889 bytes) not shown here.", "compacted 4", "[ 'turn', 'compaction' ]", ""].join(
        "\n",
      ),
    );
  });
});
