import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";

/** What a finished `lash` process left. */
export interface LashResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one `lash` process. */
export interface LashOptions {
  /** The working directory (default: a fresh temporary one). */
  readonly cwd?: string;
  /** Added to a clean environment: only PATH, HOME and LASH_HOME are inherited or set. */
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  readonly input?: string;
}

/** A temporary folder for one test. */
export function temporaryDirectory(prefix = "lash-cli-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * The environment of a child: a private HOME (so no real ~/.lash is read), no keys from the
 * machine, and whatever the test adds.
 */
function childEnvironment(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "", HOME: home, LASH_HOME: join(home, ".lash") };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `lash` with `args`; the caller drives stdin and waits. */
export function startLash(
  args: readonly string[],
  home: string,
  options: LashOptions = {},
): { child: ChildProcess; result: Promise<LashResult>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [inject("cliBundle"), ...args], {
    cwd: options.cwd ?? home,
    env: childEnvironment(home, options.env),
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const result = new Promise<LashResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `lash` with `args` to the end. */
export async function runLash(args: readonly string[], home: string, options: LashOptions = {}): Promise<LashResult> {
  const started = startLash(args, home, options);
  if (options.input !== undefined) started.child.stdin?.end(options.input);
  return started.result;
}

/** Runs `printf '%s' <input> | lash <args>` through /bin/sh: stdin is then a real pipe (a FIFO), as from a shell. */
export async function runLashAfterShellPipe(input: string, args: readonly string[], home: string): Promise<LashResult> {
  const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;
  const command = `printf '%s' ${quote(input)} | ${quote(process.execPath)} ${[inject("cliBundle"), ...args].map(quote).join(" ")}`;
  const child = spawn("/bin/sh", ["-c", command], { cwd: home, env: childEnvironment(home), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes a scripted conversation file and returns its path. */
export async function writeScript(
  directory: string,
  name: string,
  steps: readonly unknown[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = join(directory, `${name}.json`);
  await writeFile(path, JSON.stringify({ format: "lash.scripted-conversation.v1", ...extra, steps }));
  return path;
}

/** The session id a run printed (`lash: new session <id>`). */
export function newSessionId(stderr: string): string {
  const match = /new session ([0-9a-f-]{36})/.exec(stderr);
  if (match?.[1] === undefined) throw new Error(`no new session in:\n${stderr}`);
  return match[1];
}

/** Resolves once `read()` satisfies `ready` (checked as output arrives), or rejects after `timeoutMs`. */
export async function waitFor(read: () => string, ready: (text: string) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
