import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LashRuntime, textInput } from "@lash/core";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure, toolContext } from "../test/tool-context.js";
import { boundText } from "./output-bounds.js";
import type { ToolApprovalRequest, WorkspaceToolsOptions } from "./workspace-tool-options.js";
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

describe("writes and shell commands need approval", () => {
  it("refuses a write when no approver is configured, and writes nothing", async () => {
    const error = await failure(call({}, "write_file", { path: "new.txt", content: "hi" }));
    expect(error.failureCode).toBe("not_approved");
    expect(error.message).toContain("create new.txt (2 bytes)");
    await expect(readFile(join(root, "new.txt"))).rejects.toThrow();
  });

  it("asks the approver with a summary and writes when allowed", async () => {
    const asked: ToolApprovalRequest[] = [];
    const approve = (request: ToolApprovalRequest): boolean => {
      asked.push(request);
      return true;
    };
    expect(await call({ approve }, "write_file", { path: "deep/new.txt", content: "hi" })).toEqual({
      path: join("deep", "new.txt"),
      bytesWritten: 2,
      created: true,
    });
    expect(await readFile(join(root, "deep", "new.txt"), "utf8")).toBe("hi");
    expect(asked.map((request) => [request.toolName, request.kind, request.summary])).toEqual([
      ["write_file", "write", `create ${join("deep", "new.txt")} (2 bytes)`],
    ]);
  });

  it("passes the approver's reason on to the model", async () => {
    const error = await failure(call({ approve: () => "run with --yes to allow it" }, "run_shell", { command: "echo hi" }));
    expect(error.message).toBe("run: echo hi: refused (run with --yes to allow it)");
  });

  it("patches text that occurs once, and refuses ambiguous text", async () => {
    const approve = (): boolean => true;
    expect(await call({ approve }, "patch_file", { path: "src/main.ts", oldText: "= 42", newText: "= 43" })).toEqual({
      path: join("src", "main.ts"),
      replacements: 1,
    });
    expect(await readFile(join(root, "src", "main.ts"), "utf8")).toBe("export const answer = 43;\nconsole.log(answer);\n");
    const ambiguous = await failure(call({ approve }, "patch_file", { path: "src/main.ts", oldText: "answer", newText: "x" }));
    expect(ambiguous.failureCode).toBe("text_not_unique");
    expect((await failure(call({ approve }, "patch_file", { path: "src/main.ts", oldText: "missing", newText: "x" }))).failureCode).toBe(
      "text_not_found",
    );
  });

  it("runs a command in the working directory with bounded output (one budget for both streams)", async () => {
    const result = await call({ approve: () => true, limits: { maxLines: 4 } }, "run_shell", {
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
    const result = await call({ approve: () => true, shellTimeoutMs: 200 }, "run_shell", { command: "echo started; sleep 30" });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true, stdout: "started\n" });
  });
});

describe("cancellation and selection", () => {
  it("a cancelled turn kills the command and everything it started", async () => {
    const controller = new AbortController();
    const pidFile = join(root, "child.pid");
    const running = call({ approve: () => true }, "run_shell", { command: `sleep 30 & echo $! > ${pidFile}; wait` }, controller.signal);
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

describe("with the runtime", () => {
  it("a read and a refused write in one turn: the model sees both results and the turn finishes", async () => {
    const provider = new ScriptedProvider([
      toolCallStep([
        { callId: "read", name: "read_file", args: { path: "README.md" } },
        { callId: "write", name: "write_file", args: { path: "x.txt", content: "x" } },
      ]),
      textStep("The answer is 42; I could not write x.txt."),
    ]);
    const runtime = await LashRuntime.builder()
      .withSessionId("tools")
      .withPolicy({ model: "scripted-model", maxContextTokens: 100_000 })
      .withProvider(provider)
      .withTools(await createWorkspaceTools({ root }))
      .build();
    const turn = await runtime.runTurn(textInput("What is the answer?"));
    expect(turn.outcome.type).toBe("finished");
    expect(turn.toolCalls.map((record) => [record.tool, record.output.outcome.status])).toEqual([
      ["read_file", "success"],
      ["write_file", "failure"],
    ]);
    const seen = JSON.stringify(provider.requests[1]?.messages.at(-1));
    expect(seen).toContain("The answer is 42.");
    expect(seen).toContain("create x.txt (1 byte): refused");
  });
});
