import { spawn } from "node:child_process";
import type { ToolDefinition } from "@lash/protocol";
import { defineTool } from "@lash/core";
import { z } from "zod";
import { boundText } from "./output-bounds.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  command: z.string().min(1).describe("A shell command line, run by /bin/sh (cmd.exe on Windows) in the working directory."),
  timeoutSeconds: z.number().int().min(1).max(3600).optional().describe("Kill the command after this many seconds (default: the host's limit)."),
});

/** Most bytes kept of each stream while the command runs; the rest is counted and dropped. */
const MAX_CAPTURED_BYTES = 1024 * 1024;

/**
 * `run_shell`: runs a command after approval, in its own process group so that a timeout or a
 * cancelled turn kills everything it started, and answers its exit code and bounded output.
 */
export function createShellCommandTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "run_shell",
    description: "Run a shell command in the working directory and return its exit code, stdout and stderr (long output is cut). Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    async execute({ command, timeoutSeconds }, toolContext) {
      await context.requireApproval({ toolName: "run_shell", kind: "shell", summary: `run: ${command}`, args: { command }, signal: toolContext.signal });
      const timeoutMs = Math.min(timeoutSeconds === undefined ? context.shellTimeoutMs : timeoutSeconds * 1000, context.shellTimeoutMs);
      const child = spawn(command, { cwd: context.guard.root, shell: true, detached: process.platform !== "win32", stdio: ["ignore", "pipe", "pipe"] });
      const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      const sizes = { stdout: 0, stderr: 0 };
      for (const name of ["stdout", "stderr"] as const) {
        child[name].on("data", (chunk: Buffer) => {
          if (sizes[name] < MAX_CAPTURED_BYTES) captured[name].push(chunk.subarray(0, MAX_CAPTURED_BYTES - sizes[name]));
          sizes[name] += chunk.length;
        });
      }
      let timedOut = false;
      const kill = (): void => {
        if (child.exitCode !== null || child.pid === undefined) return;
        try {
          if (process.platform === "win32") child.kill("SIGKILL");
          else process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      toolContext.signal.addEventListener("abort", kill, { once: true });
      const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code, closeSignal) => resolve({ exitCode: code, signal: closeSignal }));
      }).finally(() => {
        clearTimeout(timer);
        toolContext.signal.removeEventListener("abort", kill);
      });
      toolContext.signal.throwIfAborted();
      const stdout = boundText(Buffer.concat(captured.stdout).toString("utf8"), context.limits);
      const stderr = boundText(Buffer.concat(captured.stderr).toString("utf8"), context.limits);
      return {
        exitCode,
        ...(signal === null ? {} : { signal }),
        ...(timedOut ? { timedOut: true, timeoutMs } : {}),
        stdout: stdout.text,
        stderr: stderr.text,
        ...(stdout.truncated || sizes.stdout > MAX_CAPTURED_BYTES ? { stdoutTruncated: { totalBytes: sizes.stdout } } : {}),
        ...(stderr.truncated || sizes.stderr > MAX_CAPTURED_BYTES ? { stderrTruncated: { totalBytes: sizes.stderr } } : {}),
      };
    },
  });
}
