import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSnippet, snippetAfter } from "./readme-snippet-runner.js";

describe("README code that says it runs as is", () => {
  // Child processes that load TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("@lash/tools: the example lists the working directory through a scripted turn", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/tools/README.md", "## Example"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toContain("status: 'success'");
    expect(stdout).toContain("path: '.'");
  });

  it("@lash/adapter-scripted: the example plays a tool call and an answer", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/adapters/scripted/README.md", "## Example"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toContain("Order 7 has shipped.");
    expect(stdout).toContain("tool_result");
  });

  it("the CLI's embedding example runs a turn with a custom tool on a SQLite store", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(
      await snippetAfter("apps/cli/README.md", "## Extension point: embedding lash in your own host"),
    );
    const stored = await readFile(join(workingDirectory, "support.db")).then((bytes) => bytes.length);
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toContain("[ticket_status: success]");
    expect(stdout).toContain("Ticket 42 is open.");
    expect(stdout).toContain("finished");
    expect(stored).toBeGreaterThan(0);
  });

  it("@lash/core: the example streams a tool turn with for await and prints the typed result", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/core/README.md", "## Example"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toContain("tool_call_started");
    expect(stdout).toContain("type: 'finished'");
    expect(stdout).toContain("2 + 3 = 5.");
  });

  it("@lash/core: the approval example suspends a turn and another runtime resumes it with decisions", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(
      await snippetAfter("packages/core/README.md", "## Waiting for a decision: suspend and resume"),
    );
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toBe(
      [
        "waiting: deploy api to production",
        "waiting: deploy billing to production",
        "finished api is live; billing was not deployed (frozen until Monday).",
        "deploy approved by alice, deploy rejected by alice",
        "",
      ].join("\n"),
    );
  });

  it("@lash/core: the persistence example parks a session and resumes it", { timeout: 120_000 }, async () => {
    const { stdout, workingDirectory } = await runSnippet(
      await snippetAfter("packages/core/README.md", "## Persistence: stores, residency, park and resume"),
    );
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toBe("Blue.\n2\n");
  });

  it("@lash/stores: park and resume on SQLite, and the filesystem store read back by another database object", {
    timeout: 120_000,
  }, async () => {
    const parked = await runSnippet(await snippetAfter("packages/stores/README.md", "## With the runtime: park and resume"));
    await rm(parked.workingDirectory, { recursive: true, force: true });
    expect(parked.stdout).toBe("You said blue.\n");
    const files = await runSnippet(await snippetAfter("packages/stores/README.md", "## Filesystem store (`@lash/stores/fs`)"));
    await rm(files.workingDirectory, { recursive: true, force: true });
    expect(files.stdout).toContain("inputTokens: 12");
    expect(files.stdout).toContain("[ 'demo-session' ]");
  });

  it("@lash/stores: a turn's image kept in the SQLite database, streamed, then collected with its session", {
    timeout: 120_000,
  }, async () => {
    const { stdout, workingDirectory } = await runSnippet(await snippetAfter("packages/stores/README.md", "## Attachments"));
    await rm(workingDirectory, { recursive: true, force: true });
    expect(stdout).toContain("mediaType: 'image/png'");
    expect(stdout).toContain("byteLength: 70");
    expect(stdout).toContain("deletedCount: 1");
  });
});
