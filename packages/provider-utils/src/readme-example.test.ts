import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDirectory = fileURLToPath(new URL("..", import.meta.url));
const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));

describe("the README example", () => {
  // A child process that loads TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("streams the answer from its server", { timeout: 120_000 }, async () => {
    const readme = await readFile(join(packageDirectory, "README.md"), "utf8");
    const example = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Inside the package, so that `@lash/provider-utils` resolves to itself (through its source).
    const folder = await mkdtemp(join(packageDirectory, ".readme-snippet-"));
    try {
      const file = join(folder, "example.ts");
      await writeFile(file, example ?? "");
      const { stdout } = await run(join(repositoryRoot, "node_modules", ".bin", "tsx"), ["--conditions=@lash/source", file], {
        encoding: "utf8",
      });
      expect(stdout.trim()).toBe("Hello");
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
