import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repository = fileURLToPath(new URL("../..", import.meta.url));
const examples = fileURLToPath(new URL("..", import.meta.url));

/** The first ```ts block after `heading` in a README: what a reader copies. */
async function snippetAfter(readme: string, heading: string): Promise<string> {
  const text = await readFile(join(repository, readme), "utf8");
  const from = text.indexOf(heading);
  if (from < 0) throw new Error(`${readme} has no heading ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  if (!match?.[1]) throw new Error(`${readme} has no ts block after ${heading}`);
  return match[1];
}

/**
 * Runs a snippet as a reader would: as a file of its own (placed under `examples/` so that it
 * resolves the packages), from an empty working directory.
 */
async function runSnippet(code: string): Promise<{ stdout: string; workingDirectory: string }> {
  const folder = await mkdtemp(join(examples, ".readme-snippet-"));
  const workingDirectory = await mkdtemp(join(tmpdir(), "lash-readme-snippet-"));
  try {
    const file = join(folder, "snippet.ts");
    await writeFile(file, code);
    const { stdout } = await run(join(repository, "node_modules", ".bin", "tsx"), ["--conditions=@lash/source", file], {
      cwd: workingDirectory,
      encoding: "utf8",
    });
    return { stdout, workingDirectory };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

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
    expect(stdout).toContain("Ticket 42 is open.");
    expect(stdout).toContain("finished");
    expect(stored).toBeGreaterThan(0);
  });
});
