import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure, toolContext } from "../test/tool-context.js";
import { readConfinedFile, writeConfinedFile } from "./confined-file-access.js";
import { createConfiningPathGuard } from "./path-guard.js";
import type { WorkspaceToolsOptions } from "./workspace-tool-options.js";
import { createWorkspaceTools } from "./workspace-tools.js";

let root: string;
let outside: string;

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), "lash-tools-hardening-"));
  root = join(base, "work");
  outside = join(base, "outside");
  await mkdir(join(root, "src"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, "secret.txt"), "secret\n");
});

afterEach(async () => {
  await rm(join(root, ".."), { recursive: true, force: true });
});

async function call(options: Partial<WorkspaceToolsOptions>, name: string, input: unknown, signal?: AbortSignal): Promise<JsonValue> {
  const tools = new Map(
    (await createWorkspaceTools({ root, ...options })).map((tool): [string, ToolDefinition<unknown>] => [tool.name, tool]),
  );
  const tool = tools.get(name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return (await tool.execute(input, toolContext(signal))) as JsonValue;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  // A killed process disappears once reaped; poll a bounded number of times instead of timing it.
  for (let attempt = 0; attempt < 500 && isAlive(pid); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  return !isAlive(pid);
}

describe("dangling and chained symbolic links", () => {
  it("refuses to write, patch or read through a dangling link that points outside", async () => {
    await symlink(join(outside, "pwned.txt"), join(root, "dangling"));
    const write = await failure(call({}, "write_file", { path: "dangling", content: "owned" }));
    expect(write.failureCode).toBe("path_outside_workspace");
    const patch = await failure(call({}, "patch_file", { path: "dangling", oldText: "a", newText: "b" }));
    expect(patch.failureCode).toBe("path_outside_workspace");
    const read = await failure(call({}, "read_file", { path: "dangling" }));
    expect(read.failureCode).toBe("path_outside_workspace");
    expect(await exists(join(outside, "pwned.txt"))).toBe(false);
  });

  it("refuses a dangling link reached through a folder, and a dangling link in a missing folder's place", async () => {
    await mkdir(join(root, "nested"));
    await symlink(join(outside, "made", "deep.txt"), join(root, "nested", "deep"));
    await symlink(join(outside, "newdir"), join(root, "dirlink"));
    for (const path of ["nested/deep", "dirlink/file.txt", "missing/../dirlink/x.txt"]) {
      expect((await failure(call({}, "write_file", { path, content: "owned" }))).failureCode).toBe("path_outside_workspace");
    }
    expect(await exists(join(outside, "made", "deep.txt"))).toBe(false);
    expect(await exists(join(outside, "newdir", "file.txt"))).toBe(false);
  });

  it("follows a chain of links to its end, inside or outside", async () => {
    await symlink(join(outside, "final.txt"), join(root, "third"));
    await symlink("third", join(root, "second"));
    await symlink(join(root, "second"), join(root, "first"));
    expect((await failure(call({}, "write_file", { path: "first", content: "owned" }))).failureCode).toBe("path_outside_workspace");
    expect(await exists(join(outside, "final.txt"))).toBe(false);
    await symlink("src/target.txt", join(root, "inner-second"));
    await symlink("inner-second", join(root, "inner-first"));
    expect(await call({}, "write_file", { path: "inner-first", content: "kept" })).toMatchObject({
      path: join("src", "target.txt"),
      created: true,
    });
    expect(await readFile(join(root, "src", "target.txt"), "utf8")).toBe("kept");
  });

  it("a link to a missing file inside the root still works, for write, read and patch", async () => {
    await symlink("src/later.txt", join(root, "later"));
    expect(await call({}, "write_file", { path: "later", content: "one two\n" })).toEqual({
      path: join("src", "later.txt"),
      bytesWritten: 8,
      created: true,
    });
    expect(await call({}, "read_file", { path: "later" })).toMatchObject({ content: "one two" });
    expect(await call({}, "patch_file", { path: "later", oldText: "two", newText: "three" })).toEqual({
      path: join("src", "later.txt"),
      replacements: 1,
    });
    expect(await readFile(join(root, "src", "later.txt"), "utf8")).toBe("one three\n");
  });

  it("refuses to open a file that became a link after the check, and never follows it", async () => {
    const guard = await createConfiningPathGuard({ root });
    const absolute = await guard.resolve("swapped.txt");
    await symlink(join(outside, "swapped.txt"), absolute);
    expect((await failure(writeConfinedFile(guard, absolute, "owned"))).failureCode).toBe("path_outside_workspace");
    expect(await exists(join(outside, "swapped.txt"))).toBe(false);
    await rm(absolute);
    await symlink(join(outside, "secret.txt"), absolute);
    expect((await failure(readConfinedFile(guard, absolute))).failureCode).toBe("path_outside_workspace");
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("secret\n");
  });

  it("names a loop of links instead of hanging", async () => {
    await symlink("loop-b", join(root, "loop-a"));
    await symlink("loop-a", join(root, "loop-b"));
    const error = await failure(call({}, "write_file", { path: "loop-a", content: "x" }));
    expect(error.failureCode).toBe("invalid_path");
    expect(error.message).toContain("symbolic links");
  });
});

describe("run_shell and background processes", () => {
  it("ends when the shell exits, killing a background process that holds its output", async () => {
    const result = (await call({}, "run_shell", { command: "sleep 40 & echo $!", timeoutSeconds: 30 })) as {
      exitCode: number;
      stdout: string;
      backgroundProcessesKilled?: boolean;
    };
    expect(result).toMatchObject({ exitCode: 0, backgroundProcessesKilled: true });
    const pid = Number(result.stdout.trim());
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it("kills a background process that no longer holds the output, so nothing outlives the command", async () => {
    const result = (await call({}, "run_shell", { command: "sleep 123 >/dev/null 2>&1 & echo $!" })) as { stdout: string };
    const pid = Number(result.stdout.trim());
    try {
      expect(result).toMatchObject({ exitCode: 0, backgroundProcessesKilled: true });
      expect(await waitUntilGone(pid)).toBe(true);
    } finally {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("a plain command answers just its output", async () => {
    expect(await call({}, "run_shell", { command: "echo hi" })).toEqual({ exitCode: 0, stdout: "hi\n", stderr: "" });
  });

  it("does not wait for a process that left the group and still holds the output", async () => {
    const script =
      "const c = require('node:child_process').spawn('sleep', ['60'], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] }); console.log(c.pid); c.unref();";
    const result = (await call({}, "run_shell", { command: `"${process.execPath}" -e "${script}"` })) as {
      stdout: string;
      outputCut?: string;
    };
    const pid = Number(result.stdout.trim());
    try {
      expect(pid).toBeGreaterThan(0);
      expect(result.outputCut).toContain("outside the command's process group");
    } finally {
      if (pid > 0 && isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("a timeout kills the shell and its background processes", async () => {
    const pidFile = join(root, "background.pid");
    const result = await call({ shellTimeoutMs: 300 }, "run_shell", { command: `sleep 40 & echo $! > ${pidFile}; sleep 30` });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true });
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    expect(await waitUntilGone(pid)).toBe(true);
  });
});

describe("regular expression search runs off the main thread", () => {
  it("ends a catastrophic pattern with search_timeout while the process stays responsive", async () => {
    await writeFile(join(root, "src", "evil.txt"), `${"a".repeat(28)}!\n`);
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 5);
    try {
      const error = await failure(call({ searchTimeoutMs: 150 }, "search_files", { query: "^(a+)+$", regex: true }));
      expect(error.failureCode).toBe("search_timeout");
      expect(error.failureClass).toBe("timeout");
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
  });

  it("a cancelled turn ends a runaway regular expression search", async () => {
    await writeFile(join(root, "src", "evil.txt"), `${"a".repeat(32)}!\n`);
    const controller = new AbortController();
    const reason = new Error("turn cancelled");
    setTimeout(() => controller.abort(reason), 50);
    await expect(call({ searchTimeoutMs: 600_000 }, "search_files", { query: "^(a+)+$", regex: true }, controller.signal)).rejects.toBe(
      reason,
    );
  });

  it("searches long lines on their prefix and says they were cut", async () => {
    await writeFile(join(root, "src", "long.txt"), `${"x".repeat(5000)}needle\nshort needle\n`);
    const result = await call({}, "search_files", { query: "need+le", regex: true, path: "src" });
    expect(result).toMatchObject({ matches: [`${join("src", "long.txt")}:2: short needle`], filesSearched: 1, linesCut: 1 });
  });
});

describe("read_file on a huge line", () => {
  it("answers within the byte limit and says the line was cut", async () => {
    await writeFile(join(root, "one-line.txt"), Buffer.alloc(4 * 1024 * 1024, "y"));
    const result = (await call({ limits: { maxBytes: 2000, maxLines: 100 } }, "read_file", { path: "one-line.txt" })) as {
      content: string;
      complete: boolean;
    };
    expect(Buffer.byteLength(result.content)).toBeLessThanOrEqual(2000);
    expect(result.content).toMatch(/^y+ \[line cut\]$/);
    expect(result.complete).toBe(true);
  });

  it("stops before a long second line and continues from it", async () => {
    await writeFile(join(root, "two-lines.txt"), `first\n${"z".repeat(3 * 1024 * 1024)}\nthird\n`);
    expect(await call({ limits: { maxBytes: 1000, maxLines: 100 } }, "read_file", { path: "two-lines.txt" })).toEqual({
      path: "two-lines.txt",
      content: "first",
      startLine: 1,
      endLine: 1,
      complete: false,
      nextOffset: 2,
    });
    const second = (await call({ limits: { maxBytes: 1000, maxLines: 100 } }, "read_file", { path: "two-lines.txt", offset: 2 })) as {
      content: string;
      nextOffset: number;
    };
    expect(Buffer.byteLength(second.content)).toBeLessThanOrEqual(1000);
    expect(second).toMatchObject({ startLine: 2, endLine: 2, nextOffset: 3 });
    expect(await call({}, "read_file", { path: "two-lines.txt", offset: 3 })).toMatchObject({ content: "third", complete: true });
  });
});

describe("output stays within the cap as the model sees it", () => {
  it("run_shell shares one budget between stdout and stderr", async () => {
    const result = (await call({ limits: { maxBytes: 1000, maxLines: 1000 } }, "run_shell", {
      command: "head -c 5000 /dev/zero | tr '\\0' o; head -c 5000 /dev/zero | tr '\\0' e >&2",
    })) as { stdout: string; stderr: string; stdoutTruncated?: unknown; stderrTruncated?: unknown };
    expect(Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(1000);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stderr.length).toBeGreaterThan(0);
    expect(result).toMatchObject({ stdoutTruncated: { totalBytes: 5000 }, stderrTruncated: { totalBytes: 5000 } });
  });

  it("run_shell replaces control characters, so JSON escaping cannot blow up the answer", async () => {
    const result = await call({ limits: { maxBytes: 3000, maxLines: 1000 } }, "run_shell", {
      command: "head -c 30000 /dev/zero | tr '\\0' '\\001'; printf 'a\\tb\\n'",
    });
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(3000 + 200);
    expect(JSON.stringify(result)).not.toContain("\\u0001");
  });

  it("list_directory keeps to the byte limit and replaces control characters in names", async () => {
    for (let index = 0; index < 20; index += 1) await writeFile(join(root, `${"n".repeat(200)}${String(index).padStart(2, "0")}`), "");
    await writeFile(join(root, "src", "bell\x07name"), "");
    const listing = (await call({ limits: { maxBytes: 1000, maxLines: 100 } }, "list_directory", {})) as {
      entries: string[];
      truncated?: boolean;
      totalEntries?: number;
    };
    expect(listing.entries.join("\n").length).toBeLessThanOrEqual(1000);
    expect(listing).toMatchObject({ truncated: true, totalEntries: 21 });
    expect(await call({}, "list_directory", { path: "src" })).toEqual({ path: "src", entries: ["bell\uFFFDname (0 bytes)"] });
  });

  it("read_file and search_files replace control characters too", async () => {
    await writeFile(join(root, "control.txt"), "bell\x07 here\ttab\r\nnext\n");
    expect(await call({}, "read_file", { path: "control.txt" })).toMatchObject({ content: "bell\uFFFD here\ttab\nnext" });
    expect(await call({}, "search_files", { query: "bell" })).toMatchObject({ matches: ["control.txt:1: bell\uFFFD here\ttab"] });
  });
});

describe("read_file on a directory", () => {
  it("names a directory as not a file", async () => {
    expect((await failure(call({}, "read_file", { path: "src" }))).failureCode).toBe("not_a_file");
  });
});
