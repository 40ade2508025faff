import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { failure, toolContext } from "../test/tool-context.js";
import { openConfinedDirectory } from "./confined-directory.js";
import { readConfinedFile, writeConfinedFile } from "./confined-file-access.js";
import { createConfiningPathGuard } from "./path-guard.js";
import { createWorkspaceTools } from "./workspace-tools.js";

// Lets a test take the fallback by path that platforms without /proc/self/fd use.
const platform = vi.hoisted(() => ({ fdPaths: true }));
vi.mock("./fd-paths.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./fd-paths.js")>();
  return { ...actual, fdPathsAvailable: async () => platform.fdPaths && (await actual.fdPathsAvailable()) };
});

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  platform.fdPaths = true;
  base = await mkdtemp(join(tmpdir(), "lash-tools-confined-"));
  root = join(base, "work");
  outside = join(base, "outside");
  await mkdir(join(root, "dir"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, "dir", "secret.txt"), "inside\n");
  await writeFile(join(outside, "secret.txt"), "outside\n");
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const linux = process.platform === "linux";

describe.runIf(linux)("checks on the opened file (Linux, /proc/self/fd)", () => {
  it("reaches children through the open folder: a folder swapped for a link after it was opened leads nowhere else", async () => {
    const guard = await createConfiningPathGuard({ root });
    const directory = await openConfinedDirectory(guard, join(root, "dir"), { create: false });
    try {
      await rename(join(root, "dir"), join(root, "dir-moved"));
      await symlink(outside, join(root, "dir"));
      const { handle } = await directory.openFile("secret.txt", "read");
      try {
        expect(await handle.readFile("utf8")).toBe("inside\n");
      } finally {
        await handle.close();
      }
    } finally {
      await directory.close();
    }
  });

  it("refuses a file whose folder was moved out of the workspace after the check, and removes a file it had just created there", async () => {
    const guard = await createConfiningPathGuard({ root });
    const directory = await openConfinedDirectory(guard, join(root, "dir"), { create: false });
    try {
      await rename(join(root, "dir"), join(base, "moved"));
      expect((await failure(directory.openFile("secret.txt", "read"))).failureCode).toBe("path_outside_workspace");
      const write = await failure(directory.openFile("new.txt", "write", true));
      expect(write.failureCode).toBe("path_outside_workspace");
      expect(write.message).toContain("escapes the workspace");
      expect(await readdir(join(base, "moved"))).toEqual(["secret.txt"]);
      expect((await failure(directory.openDirectory("sub", true))).failureCode).toBe("path_outside_workspace");
    } finally {
      await directory.close();
    }
  });

  it("refuses an allowed directory that was replaced by a link after the guard was made", async () => {
    const guard = await createConfiningPathGuard({ root });
    await rename(root, join(base, "work-moved"));
    await symlink(outside, root);
    const error = await failure(readConfinedFile(guard, join(root, "secret.txt")));
    expect(error.failureCode).toBe("path_outside_workspace");
    expect((await failure(writeConfinedFile(guard, join(root, "new.txt"), "x"))).failureCode).toBe("path_outside_workspace");
    expect(await readdir(outside)).toEqual(["secret.txt"]);
  });
});

describe("the fallback by path, where /proc/self/fd is missing (macOS, Windows)", () => {
  async function call(name: string, input: unknown): Promise<JsonValue> {
    const tools = new Map((await createWorkspaceTools({ root })).map((tool): [string, ToolDefinition<unknown>] => [tool.name, tool]));
    const tool = tools.get(name);
    if (tool === undefined) throw new Error(`no tool ${name}`);
    return (await tool.execute(input, toolContext())) as JsonValue;
  }

  beforeEach(() => {
    platform.fdPaths = false;
  });

  it("reads, writes, patches, lists and searches as usual", async () => {
    expect(await call("read_file", { path: "dir/secret.txt" })).toMatchObject({ content: "inside" });
    expect(await call("write_file", { path: "dir/deep/new.txt", content: "one two\n" })).toEqual({
      path: join("dir", "deep", "new.txt"),
      bytesWritten: 8,
      created: true,
    });
    expect(await call("patch_file", { path: "dir/deep/new.txt", oldText: "two", newText: "three" })).toMatchObject({ replacements: 1 });
    expect(await readFile(join(root, "dir", "deep", "new.txt"), "utf8")).toBe("one three\n");
    expect(await call("list_directory", { path: "dir" })).toEqual({ path: "dir", entries: ["deep/", "secret.txt (7 bytes)"] });
    expect(await call("search_files", { query: "three" })).toMatchObject({ matches: [`${join("dir", "deep", "new.txt")}:1: one three`] });
  });

  it("still refuses a link swapped in after the check, and a folder on the way that became a link", async () => {
    const guard = await createConfiningPathGuard({ root });
    const absolute = await guard.resolve("dir/swapped.txt");
    await symlink(join(outside, "swapped.txt"), absolute);
    expect((await failure(writeConfinedFile(guard, absolute, "owned"))).failureCode).toBe("path_outside_workspace");
    const inDir = await guard.resolve("dir/secret.txt");
    await rename(join(root, "dir"), join(root, "dir-moved"));
    await symlink(outside, join(root, "dir"));
    expect((await failure(readConfinedFile(guard, inDir))).failureCode).toBe("path_outside_workspace");
    expect(await readdir(outside)).toEqual(["secret.txt"]);
  });

  it.runIf(process.platform !== "win32")(
    "refuses a named pipe without blocking",
    async () => {
      execFileSync("mkfifo", [join(root, "pipe")]);
      const error = await failure(call("read_file", { path: "pipe" }));
      expect(error.failureCode).toBe("not_a_file");
      expect(error.message).toContain("a named pipe");
    },
    8_000,
  );
});
