import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue, ToolDefinition } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure, toolContext } from "../test/tool-context.js";
import type { WorkspaceToolsOptions } from "./workspace-tool-options.js";
import { createWorkspaceTools } from "./workspace-tools.js";

let root: string;
let fifos: string[];
let servers: Server[];

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), "lash-tools-special-"));
  root = join(base, "work");
  await mkdir(join(root, "src"), { recursive: true });
  await writeFile(join(root, "src", "plain.txt"), "plain text, needle here\n");
  fifos = [];
  servers = [];
});

afterEach(async () => {
  // A call that blocked in `open` on a pipe (the defect) would hold a thread-pool thread forever:
  // opening each pipe for reading and writing, which never blocks, lets such an `open` return.
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    } catch {
      // Already gone.
    }
  }
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(join(root, ".."), { recursive: true, force: true });
});

function makeFifo(path: string): string {
  execFileSync("mkfifo", [path]);
  fifos.push(path);
  return path;
}

async function call(options: Partial<WorkspaceToolsOptions>, name: string, input: unknown): Promise<JsonValue> {
  const tools = new Map(
    (await createWorkspaceTools({ root, ...options })).map((tool): [string, ToolDefinition<unknown>] => [tool.name, tool]),
  );
  const tool = tools.get(name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return (await tool.execute(input, toolContext())) as JsonValue;
}

/** A hang is what these tests catch: a short timeout, well above what a refusal takes. */
const HANG = 8_000;
const posix = process.platform !== "win32";

describe.runIf(posix)("named pipes and other special files", () => {
  it(
    "read_file, write_file and patch_file refuse a named pipe at once, naming it",
    async () => {
      makeFifo(join(root, "pipe"));
      for (const [name, input] of [
        ["read_file", { path: "pipe" }],
        ["write_file", { path: "pipe", content: "x" }],
        ["patch_file", { path: "pipe", oldText: "a", newText: "b" }],
      ] as const) {
        const error = await failure(call({}, name, input));
        expect(error.failureCode, name).toBe("not_a_file");
        expect(error.message, name).toContain("a named pipe");
      }
    },
    HANG,
  );

  it(
    "six calls on named pipes at once leave the thread pool free: a normal read still completes",
    async () => {
      const calls = Array.from({ length: 6 }, (_, index) => {
        const path = `pipe-${index}`;
        makeFifo(join(root, path));
        const [name, input] =
          index % 3 === 0
            ? ["read_file", { path }]
            : index % 3 === 1
              ? ["write_file", { path, content: "x" }]
              : ["patch_file", { path, oldText: "a", newText: "b" }];
        return failure(call({}, name, input));
      });
      // Started after the pipe calls, so it needs a thread they would otherwise hold.
      expect(await call({}, "read_file", { path: "src/plain.txt" })).toMatchObject({ content: "plain text, needle here" });
      for (const error of await Promise.all(calls)) expect(error.failureCode).toBe("not_a_file");
    },
    HANG,
  );

  it(
    "refuses a character device reached through a link inside the workspace as outside it",
    async () => {
      await symlink("/dev/zero", join(root, "zero"));
      for (const [name, input] of [
        ["read_file", { path: "zero" }],
        ["write_file", { path: "zero", content: "x" }],
        ["patch_file", { path: "zero", oldText: "a", newText: "b" }],
        ["search_files", { query: "x", path: "zero" }],
      ] as const) {
        expect((await failure(call({}, name, input))).failureCode, name).toBe("path_outside_workspace");
      }
    },
    HANG,
  );

  it(
    "refuses a character device by its kind when any path is allowed, without reading or writing it",
    async () => {
      await symlink("/dev/zero", join(root, "zero"));
      for (const [name, input] of [
        ["read_file", { path: "zero" }],
        ["write_file", { path: "zero", content: "x" }],
        ["patch_file", { path: "zero", oldText: "a", newText: "b" }],
      ] as const) {
        const error = await failure(call({ allowAnyPath: true }, name, input));
        expect(error.failureCode, name).toBe("not_a_file");
        expect(error.message, name).toContain("a character device");
      }
    },
    HANG,
  );

  it(
    "refuses a socket, naming it",
    async () => {
      const path = join(root, "server.sock");
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(path, resolve));
      for (const [name, input] of [
        ["read_file", { path: "server.sock" }],
        ["write_file", { path: "server.sock", content: "x" }],
      ] as const) {
        const error = await failure(call({}, name, input));
        expect(error.failureCode, name).toBe("not_a_file");
        expect(error.message, name).toContain("a socket");
      }
    },
    HANG,
  );

  it(
    "search_files and list_directory do not block on a named pipe",
    async () => {
      makeFifo(join(root, "src", "pipe"));
      expect(await call({}, "search_files", { query: "needle" })).toEqual({
        matches: [`${join("src", "plain.txt")}:1: plain text, needle here`],
        filesSearched: 1,
      });
      expect(await call({}, "search_files", { query: "needle", path: "src/pipe" })).toEqual({ matches: [], filesSearched: 0 });
      expect(await call({}, "list_directory", { path: "src" })).toEqual({
        path: "src",
        entries: ["pipe (named pipe)", "plain.txt (24 bytes)"],
      });
      // Nothing was written into the pipe's place.
      expect(await readFile(join(root, "src", "plain.txt"), "utf8")).toBe("plain text, needle here\n");
    },
    HANG,
  );
});
