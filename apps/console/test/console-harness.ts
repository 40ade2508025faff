import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { inject } from "vitest";

/** Where Debian's Chromium lives (`apt-get install -y chromium`; `.ci/run` installs it). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Whether the browser tests run: `true` with Chromium installed; `false` (skip, with the reason on
 * stderr) without it; a thrown error under `CI=true`, so CI never goes green without them.
 */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const reason = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium); the console's browser tests are skipped`;
  if (process.env.CI === "true") throw new Error(reason);
  console.warn(reason);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  // The sandbox needs user namespaces that containers (and root) often lack; the pages are our own.
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

/** A `lash-server` child process with the console of this run. */
export interface ConsoleServer {
  readonly url: string;
  readonly directory: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts the bundled `lash-server` on a free loopback port over `database` (a SQLite file), with the
 * scripted conversation `steps` as its model and the console built for this run, and waits for the
 * line that names its URL. Its home is private, so nothing of the machine's reaches it.
 */
export async function startConsoleServer(directory: string, database: string, steps: readonly unknown[]): Promise<ConsoleServer> {
  const script = join(directory, "script.json");
  await writeFile(script, JSON.stringify({ format: "lash.scripted-conversation.v1", model: "scripted-model", steps }));
  const home = join(directory, "home");
  await mkdir(home, { recursive: true });
  const child = spawn(
    process.execPath,
    [inject("consoleServerBundle"), "--port", "0", "--store", `sqlite:${database}`, "--script", script],
    {
      cwd: directory,
      env: { PATH: process.env.PATH ?? "", HOME: home, LASH_HOME: join(home, ".lash"), LASH_CONSOLE_DIR: inject("consoleBuild") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^lash-server listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exit.then((code) => reject(new Error(`lash-server exited with ${code} before listening: ${stderr}`)));
  });
  return {
    url,
    directory,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exit;
    },
  };
}

export async function temporaryDirectory(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "lash-console-test-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
