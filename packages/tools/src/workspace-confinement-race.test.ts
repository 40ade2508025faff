import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { ToolError } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFolderSwapper } from "../test/folder-swapper.js";
import { toolContext } from "../test/tool-context.js";
import { createWorkspaceTools } from "./workspace-tools.js";

let base: string;
let root: string;
let outside: string;

const OUTSIDE_FILES: Record<string, string> = { "secret.txt": "outside secret\n", "only-outside.txt": "outside only\n" };

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "lash-tools-race-"));
  root = join(base, "work");
  outside = join(base, "outside");
  await mkdir(join(root, "dir"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, "dir", "secret.txt"), "inside secret\n");
  for (const [name, content] of Object.entries(OUTSIDE_FILES)) await writeFile(join(outside, name), content);
  // The swapper exchanges `work/dir` with this link, so `dir` is now the folder, now a link outside.
  await symlink(outside, join(base, "swap"));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Bounded, not timed: enough rounds for the swap to land between every check and use many times. */
const ROUNDS = 300;

describe("workspace confinement while a folder is swapped for a link outside", () => {
  it("read_file, write_file, patch_file, list_directory and search_files never reach outside, leave nothing there, and fail only with tool errors", async (context) => {
    if (process.platform !== "linux") {
      context.skip("needs Linux: the confinement checks the opened file through /proc/self/fd, and the test swaps with renameat2");
      return;
    }
    const tools = new Map((await createWorkspaceTools({ root })).map((tool): [string, ToolDefinition<unknown>] => [tool.name, tool]));
    const outsideBefore = await Promise.all(Object.keys(OUTSIDE_FILES).map(async (name) => (await stat(join(outside, name))).mtimeMs));
    const leaks: string[] = [];
    // Short entries, so a failure stays readable however many calls leaked.
    const leak = (name: string, result: JsonValue | undefined): void => {
      leaks.push(`${name}: ${JSON.stringify(result).slice(0, 160)}`);
    };
    const untypedErrors: string[] = [];
    const failureCodes = new Map<string, number>();
    let successes = 0;
    const run = async (name: string, input: unknown): Promise<JsonValue | undefined> => {
      const tool = tools.get(name);
      if (tool === undefined) throw new Error(`no tool ${name}`);
      try {
        const result = (await tool.execute(input, toolContext())) as JsonValue;
        successes += 1;
        return result;
      } catch (error) {
        if (!ToolError.isInstance(error)) untypedErrors.push(`${name}: ${String(error)}`);
        else failureCodes.set(error.failureCode, (failureCodes.get(error.failureCode) ?? 0) + 1);
        return undefined;
      }
    };

    const swapper = await startFolderSwapper(join(root, "dir"), join(base, "swap"));
    let swaps: number;
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        const read = await run("read_file", { path: "dir/secret.txt" });
        if (JSON.stringify(read ?? "").includes("outside")) leak("read_file", read);
        await run("write_file", { path: "dir/secret.txt", content: `inside secret ${round}\n` });
        await run("patch_file", { path: "dir/secret.txt", oldText: "secret", newText: "secret (patched)" });
        await run("write_file", { path: `dir/new-${round}.txt`, content: "new\n" });
        await run("write_file", { path: `dir/folder-${round}/file.txt`, content: "new\n" });
        const listing = await run("list_directory", { path: "dir" });
        if (JSON.stringify(listing ?? "").includes("only-outside")) leak("list_directory", listing);
        const search = await run("search_files", { query: "outside", path: "dir" });
        if (JSON.stringify(search ?? "").includes("outside secret")) leak("search_files", search);
      }
    } finally {
      swaps = await swapper.stop();
    }

    // The race really ran, and the swapper put everything back as it was.
    expect(swaps).toBeGreaterThan(0);
    expect((await lstat(join(root, "dir"))).isDirectory()).toBe(true);
    expect((await lstat(join(base, "swap"))).isSymbolicLink()).toBe(true);
    console.info(
      `folder swap (${swapper.mode}): ${swaps} swaps, ${successes} calls succeeded, failures by code: ${JSON.stringify(Object.fromEntries(failureCodes))}`,
    );

    // Soft: one run reports every broken property, not just the first.
    expect.soft(leaks.slice(0, 10), `${leaks.length} call(s) answered with what is outside`).toEqual([]);
    expect.soft([...new Set(untypedErrors)].slice(0, 10), `${untypedErrors.length} failure(s) were not tool errors`).toEqual([]);
    // Nothing was written, patched, emptied or created outside.
    expect.soft((await readdir(outside)).sort(), "the files outside").toEqual(Object.keys(OUTSIDE_FILES).sort());
    for (const [name, content] of Object.entries(OUTSIDE_FILES)) expect.soft(await readFile(join(outside, name), "utf8")).toBe(content);
    const outsideAfter = await Promise.all(Object.keys(OUTSIDE_FILES).map(async (name) => (await stat(join(outside, name))).mtimeMs));
    expect.soft(outsideAfter, "modification times outside").toEqual(outsideBefore);
    // Nor next to the workspace.
    expect.soft((await readdir(base)).sort()).toEqual(["outside", "swap", "work"]);
  }, 180_000);
});
