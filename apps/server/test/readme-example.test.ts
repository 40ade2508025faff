import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDirectory = fileURLToPath(new URL("..", import.meta.url));
const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));

describe("the README's embedding example", () => {
  // A child process that loads TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("serves a turn with the host's own profile and tool", { timeout: 120_000 }, async () => {
    const readme = await readFile(join(packageDirectory, "README.md"), "utf8");
    const example = /## Extension point[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Inside the package, so that `@lash/server` resolves to itself (through its source); the
    // example's SQLite file lands in the same folder.
    const folder = await mkdtemp(join(packageDirectory, ".readme-snippet-"));
    try {
      const file = join(folder, "example.ts");
      await writeFile(file, example ?? "");
      const { stdout } = await run(join(repositoryRoot, "node_modules", ".bin", "tsx"), ["--conditions=@lash/source", file], {
        cwd: folder,
        encoding: "utf8",
      });
      expect(stdout.trim()).toBe("Ticket 42 is open.");
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe("the remote protocol's README example", () => {
  // It talks to this server, so it runs here: the protocol package cannot depend on the server.
  it("parses every body it gets back with the schemas", { timeout: 120_000 }, async () => {
    const readme = await readFile(join(repositoryRoot, "packages", "remote-protocol", "README.md"), "utf8");
    const example = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const folder = await mkdtemp(join(packageDirectory, ".readme-snippet-"));
    try {
      const file = join(folder, "example.ts");
      await writeFile(file, example ?? "");
      const { stdout } = await run(join(repositoryRoot, "node_modules", ".bin", "tsx"), ["--conditions=@lash/source", file], {
        cwd: folder,
        encoding: "utf8",
      });
      expect(stdout.trim().split("\n")).toEqual(["finished Hello from lash.", "invalid_request"]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
