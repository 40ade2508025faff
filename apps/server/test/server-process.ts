import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

/** A `lash-server` process started from the bundled command. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves when the process ended, with its exit code and what it wrote on stderr. */
  readonly exit: Promise<{ code: number | null; stderr: string }>;
  /** What it wrote on stderr so far. */
  stderr(): string;
}

/** Writes a scripted conversation (`lash.scripted-conversation.v1`) and returns its path. */
export async function writeScript(directory: string, name: string, steps: readonly unknown[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, JSON.stringify({ format: "lash.scripted-conversation.v1", model: "scripted-model", steps }));
  return path;
}

/**
 * Starts the bundled `lash-server` on a free loopback port with `args` and waits for the line that
 * names its URL. Its home is private (`directory`), so nothing of the machine's reaches it.
 */
export async function startServerProcess(directory: string, args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [inject("serverBundle"), "--port", "0", ...args], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? "", HOME: directory, LASH_HOME: join(directory, ".lash") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stderr })));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^lash-server listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exit.then(({ code }) => reject(new Error(`lash-server exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exit, stderr: () => stderr };
}

/** Stops a server gracefully (SIGTERM) and resolves with its exit code; a process that already ended is left alone. */
export async function stopServerProcess(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
  return (await server.exit).code;
}
