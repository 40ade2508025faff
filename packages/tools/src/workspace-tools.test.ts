import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure, toolContext } from "../test/tool-context.js";
import { boundText } from "./output-bounds.js";
import type { WorkspaceToolsOptions } from "./workspace-tool-options.js";
import { createWorkspaceTools } from "./workspace-tools.js";

let root: string;
let outside: string;

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), "lash-tools-"));
  root = join(base, "work");
  outside = join(base, "outside");
  await mkdir(join(root, "src"), { recursive: true });
  await mkdir(join(root, "node_modules", "dep"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, "README.md"), "# Demo\nThe answer is 42.\n");
  await writeFile(join(root, "src", "main.ts"), "export const answer = 42;\nconsole.log(answer);\n");
  await writeFile(join(root, "node_modules", "dep", "index.js"), "answer = 42\n");
  await writeFile(join(outside, "secret.txt"), "secret\n");
});

afterEach(async () => {
  await rm(join(root, ".."), { recursive: true, force: true });
});

async function toolsFor(options: Partial<WorkspaceToolsOptions> = {}): Promise<Map<string, ToolDefinition<unknown>>> {
  const tools = await createWorkspaceTools({ root, ...options });
  return new Map(tools.map((tool) => [tool.name, tool]));
}

async function call(options: Partial<WorkspaceToolsOptions>, name: string, input: unknown, signal?: AbortSignal): Promise<JsonValue> {
  const tool = (await toolsFor(options)).get(name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return (await tool.execute(input, toolContext(signal))) as JsonValue;
}

describe("boundText", () => {
  it("keeps the first lines and says what was cut", () => {
    const bounded = boundText("a\nb\nc\nd\n", { maxLines: 2, maxBytes: 100 });
    expect(bounded).toEqual({ text: "a\nb\n", truncated: true, totalLines: 4, totalBytes: 8 });
  });

  it("cuts bytes without splitting a character", () => {
    const bounded = boundText("ééé", { maxLines: 10, maxBytes: 5 });
    expect(bounded.text).toBe("éé");
    expect(bounded.truncated).toBe(true);
  });

  it("leaves short text alone", () => {
    expect(boundText("ok\n")).toEqual({ text: "ok\n", truncated: false, totalLines: 1, totalBytes: 3 });
  });
});

describe("path confinement", () => {
  it("refuses paths outside the working directory, by .. , absolute path or symbolic link", async () => {
    await symlink(outside, join(root, "escape"));
    for (const path of ["../outside/secret.txt", join(outside, "secret.txt"), "escape/secret.txt"]) {
      const error = await failure(call({}, "read_file", { path }));
      expect(error.failureClass).toBe("permission_denied");
      expect(error.failureCode).toBe("path_outside_workspace");
      expect(error.message).toContain("outside the working directory");
    }
  });

  it("allows an extra directory, or any path with allowAnyPath", async () => {
    const allowed = await call({ allowedDirectories: [outside] }, "read_file", { path: join(outside, "secret.txt") });
    expect(allowed).toMatchObject({ content: "secret" });
    const any = await call({ allowAnyPath: true }, "read_file", { path: "../outside/secret.txt" });
    expect(any).toMatchObject({ content: "secret" });
  });
});

describe("read_file", () => {
  it("reads a file with line numbers and continues from nextOffset", async () => {
    await writeFile(join(root, "long.txt"), Array.from({ length: 10 }, (_, index) => `line ${index + 1}`).join("\n"));
    const first = await call({ limits: { maxLines: 4 } }, "read_file", { path: "long.txt" });
    expect(first).toEqual({
      path: "long.txt",
      content: "line 1\nline 2\nline 3\nline 4",
      startLine: 1,
      endLine: 4,
      complete: false,
      nextOffset: 5,
    });
    const last = await call({ limits: { maxLines: 4 } }, "read_file", { path: "long.txt", offset: 9 });
    expect(last).toEqual({ path: "long.txt", content: "line 9\nline 10", startLine: 9, endLine: 10, complete: true });
  });

  it("stops at the byte limit, so a huge file cannot fill the context", async () => {
    await writeFile(join(root, "huge.txt"), `${"x".repeat(99)}\n`.repeat(50_000));
    const result = (await call({ limits: { maxBytes: 1000, maxLines: 10_000 } }, "read_file", { path: "huge.txt" })) as {
      content: string;
      nextOffset: number;
    };
    expect(result.content.length).toBeLessThanOrEqual(1000);
    expect(result.nextOffset).toBe(11);
  });

  it("refuses binary files and names missing ones", async () => {
    await writeFile(join(root, "image.bin"), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    expect((await failure(call({}, "read_file", { path: "image.bin" }))).failureCode).toBe("binary_file");
    const missing = await failure(call({}, "read_file", { path: "nope.txt" }));
    expect(missing.failureClass).toBe("not_found");
    expect(missing.message).toContain("nope.txt");
  });
});

describe("list_directory and search_files", () => {
  it("lists folders first, files with sizes", async () => {
    expect(await call({}, "list_directory", {})).toEqual({ path: ".", entries: ["node_modules/", "src/", "README.md (25 bytes)"] });
  });

  it("finds matching lines as path:line: text, skipping node_modules", async () => {
    const result = await call({}, "search_files", { query: "ANSWER" });
    expect(result).toEqual({
      matches: ["README.md:2: The answer is 42.", "src/main.ts:1: export const answer = 42;", "src/main.ts:2: console.log(answer);"],
      filesSearched: 2,
    });
  });

  it("bounds the matches and says more exist", async () => {
    const result = await call({ limits: { maxLines: 2 } }, "search_files", { query: "answer", regex: true, caseSensitive: true });
    expect(result).toMatchObject({
      matches: ["README.md:2: The answer is 42.", "src/main.ts:1: export const answer = 42;"],
      truncated: true,
    });
  });

  it("names a bad regular expression", async () => {
    expect((await failure(call({}, "search_files", { query: "(", regex: true }))).failureCode).toBe("invalid_regex");
  });
});

describe("write_file, patch_file and run_shell", () => {
  it("declare that every call needs approval, with a one-line summary; the read-only tools need none", async () => {
    const tools = await toolsFor();
    const summary = async (name: string, input: unknown): Promise<string> => {
      const describeApproval = tools.get(name)?.describeApproval;
      if (describeApproval === undefined) throw new Error(`${name} describes no approval`);
      return describeApproval(input, toolContext());
    };
    const declared = async (name: string, input: unknown): Promise<[boolean, string]> => {
      const needsApproval = tools.get(name)?.needsApproval;
      if (typeof needsApproval !== "function") throw new Error(`${name} declares no approval function`);
      return [await needsApproval(input, toolContext()), await summary(name, input)];
    };
    expect(await declared("write_file", { path: "deep/new.txt", content: "hi" })).toEqual([
      true,
      `create ${join("deep", "new.txt")} (2 bytes)`,
    ]);
    expect(await declared("write_file", { path: "README.md", content: "x" })).toEqual([true, "overwrite README.md (1 byte)"]);
    expect(await declared("patch_file", { path: "src/main.ts", oldText: "answer", newText: "x", replaceAll: true })).toEqual([
      true,
      `patch ${join("src", "main.ts")} (2 replacements)`,
    ]);
    expect(tools.get("run_shell")?.needsApproval).toBe(true);
    expect(await summary("run_shell", { command: "npm test" })).toBe("run: npm test");
    for (const name of ["read_file", "list_directory", "search_files"]) expect(tools.get(name)?.needsApproval, name).toBeUndefined();
  });

  it("checks before approval is asked: a call that cannot succeed throws its ToolError instead", async () => {
    const tools = await toolsFor();
    const needsApproval = async (name: string, input: unknown): Promise<boolean> => {
      const declared = tools.get(name)?.needsApproval;
      if (typeof declared !== "function") throw new Error(`${name} declares no approval function`);
      return declared(input, toolContext());
    };
    expect((await failure(needsApproval("write_file", { path: "../outside/x.txt", content: "x" }))).failureCode).toBe(
      "path_outside_workspace",
    );
    expect((await failure(needsApproval("write_file", { path: "src", content: "x" }))).failureCode).toBe("not_a_file");
    expect((await failure(needsApproval("patch_file", { path: "src/main.ts", oldText: "missing", newText: "x" }))).failureCode).toBe(
      "text_not_found",
    );
    expect((await failure(needsApproval("patch_file", { path: "nope.ts", oldText: "a", newText: "b" }))).failureClass).toBe("not_found");
  });

  it("writes a file when executed, creating missing folders", async () => {
    expect(await call({}, "write_file", { path: "deep/new.txt", content: "hi" })).toEqual({
      path: join("deep", "new.txt"),
      bytesWritten: 2,
      created: true,
    });
    expect(await readFile(join(root, "deep", "new.txt"), "utf8")).toBe("hi");
  });

  it("patches text that occurs once, and refuses ambiguous text", async () => {
    expect(await call({}, "patch_file", { path: "src/main.ts", oldText: "= 42", newText: "= 43" })).toEqual({
      path: join("src", "main.ts"),
      replacements: 1,
    });
    expect(await readFile(join(root, "src", "main.ts"), "utf8")).toBe("export const answer = 43;\nconsole.log(answer);\n");
    const ambiguous = await failure(call({}, "patch_file", { path: "src/main.ts", oldText: "answer", newText: "x" }));
    expect(ambiguous.failureCode).toBe("text_not_unique");
    expect((await failure(call({}, "patch_file", { path: "src/main.ts", oldText: "missing", newText: "x" }))).failureCode).toBe(
      "text_not_found",
    );
  });

  it("runs a command in the working directory with bounded output (one budget for both streams)", async () => {
    const result = await call({ limits: { maxLines: 4 } }, "run_shell", {
      command: "pwd; for i in 1 2 3 4 5; do echo $i; done; echo oops >&2; exit 3",
    });
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: expect.stringMatching(/work\n1\n2\n$/),
      stderr: "oops\n",
      stdoutTruncated: { totalBytes: expect.any(Number) },
    });
  });

  it("kills a command that runs past its timeout", async () => {
    const result = await call({ shellTimeoutMs: 200 }, "run_shell", { command: "echo started; sleep 30" });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true, stdout: "started\n" });
  });
});

describe("cancellation and selection", () => {
  it("a cancelled turn kills the command and everything it started", async () => {
    const controller = new AbortController();
    const pidFile = join(root, "child.pid");
    const running = call({}, "run_shell", { command: `sleep 30 & echo $! > ${pidFile}; wait` }, controller.signal);
    let pid: number | undefined;
    while (pid === undefined) {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      if (text.trim() !== "") pid = Number(text.trim());
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort();
    await expect(running).rejects.toThrow();
    // The grandchild (`sleep`) went with its process group.
    const alive = (): boolean => {
      try {
        process.kill(pid ?? 0, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let attempt = 0; attempt < 500 && alive(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alive()).toBe(false);
  });

  it("offers only the named tools, and names an unknown one", async () => {
    const tools = await createWorkspaceTools({ root, tools: ["read_file", "search_files"] });
    expect(tools.map((tool) => tool.name)).toEqual(["read_file", "search_files"]);
    await expect(createWorkspaceTools({ root, tools: ["rm_rf" as never] })).rejects.toThrow("unknown workspace tool `rm_rf`");
  });
});
