import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runSnippet, snippetAfter } from "./readme-snippet-runner.js";

describe("README code that says it runs as is: RLM", () => {
  it("@lash/rlm: a model's JavaScript cell calls a tool, a second one submits", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/rlm/README.md", "## Example"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toBe(
      [
        "cell printed: 3",
        "cell printed: ",
        "{",
        "  type: 'finished',",
        "  finish: { type: 'submitted_value', value: { words: 3, first: 'alpha' } }",
        "}",
        "[ 'read_file' ]",
        "true",
        "",
      ].join("\n"),
    );
  });
});
