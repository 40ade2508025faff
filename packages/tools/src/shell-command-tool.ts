import { spawn } from "node:child_process";
import { defineTool } from "@lash/core";
import type { ToolDefinition } from "@lash/protocol";
import { z } from "zod";
import { boundTextPair, replaceControlCharacters } from "./output-bounds.js";
import type { WorkspaceToolContext } from "./workspace-tool-options.js";

const inputSchema = z.object({
  command: z.string().min(1).describe("A shell command line, run by /bin/sh (cmd.exe on Windows) in the working directory."),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe("Kill the command after this many seconds (default: the host's limit)."),
});

/** Most bytes kept of each stream while the command runs; the rest is counted and dropped. */
const MAX_CAPTURED_BYTES = 1024 * 1024;
/**
 * How long to wait for the output pipes to close once the shell has exited and its process group
 * was killed. Only a process that left the group (`setsid`) can still hold them; its output after
 * this is dropped rather than keeping the call alive.
 */
const PIPE_DRAIN_MS = 500;

function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `run_shell`: runs a command in its own process group, and answers its exit code and bounded
 * output. Every call needs approval (the runtime's approver decides, shown the command line). The
 * call ends when the shell exits: whatever the command left running in its process group is killed
 * then (and said in the answer), as on a timeout or a cancelled turn, so no background process
 * outlives the call or keeps it waiting.
 */
export function createShellCommandTool(context: WorkspaceToolContext): ToolDefinition<z.infer<typeof inputSchema>> {
  return defineTool({
    name: "run_shell",
    description:
      "Run a shell command in the working directory and answer its exit code and output. Processes it starts in the background are killed when it exits. Needs the user's approval.",
    inputSchema,
    executionMode: "serial",
    // Nothing to check before the question: what a command may do is exactly what is being asked.
    needsApproval: true,
    describeApproval: ({ command }) => `run: ${command}`,
    async execute({ command, timeoutSeconds }, toolContext) {
      const timeoutMs = Math.min(timeoutSeconds === undefined ? context.shellTimeoutMs : timeoutSeconds * 1000, context.shellTimeoutMs);
      const groups = process.platform !== "win32";
      const child = spawn(command, { cwd: context.guard.root, shell: true, detached: groups, stdio: ["ignore", "pipe", "pipe"] });
      const captured = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      const sizes = { stdout: 0, stderr: 0 };
      for (const name of ["stdout", "stderr"] as const) {
        child[name].on("data", (chunk: Buffer) => {
          if (sizes[name] < MAX_CAPTURED_BYTES) captured[name].push(chunk.subarray(0, MAX_CAPTURED_BYTES - sizes[name]));
          sizes[name] += chunk.length;
        });
      }
      // Kills the whole group whether or not the shell itself has exited: its background children
      // stay in the group after it is gone.
      const killGroup = (): void => {
        if (child.pid === undefined) return;
        try {
          if (groups) process.kill(-child.pid, "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          // ESRCH: the group is already gone. Nothing else is worth throwing from an abort listener
          // or a timer, where it would be an uncaught exception.
        }
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      toolContext.signal.addEventListener("abort", killGroup, { once: true });
      let backgroundProcessesKilled = false;
      let drainCut = false;
      const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
      try {
        const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
          child.once("error", reject);
          child.once("exit", (code, exitSignal) => resolve({ exitCode: code, signal: exitSignal }));
        });
        if (groups && child.pid !== undefined && isGroupAlive(child.pid)) {
          backgroundProcessesKilled = !timedOut && !toolContext.signal.aborted;
          killGroup();
        } else if (!groups) {
          killGroup();
        }
        let drainTimer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (drainTimer = setTimeout(resolve, PIPE_DRAIN_MS)))]);
        clearTimeout(drainTimer);
        if (child.stdout.readable || child.stderr.readable) {
          drainCut = true;
          child.stdout.destroy();
          child.stderr.destroy();
        }
        toolContext.signal.throwIfAborted();
        const [stdout, stderr] = boundTextPair(
          replaceControlCharacters(Buffer.concat(captured.stdout).toString("utf8")),
          replaceControlCharacters(Buffer.concat(captured.stderr).toString("utf8")),
          context.limits,
        );
        const stdoutCut = stdout.truncated || sizes.stdout > MAX_CAPTURED_BYTES;
        const stderrCut = stderr.truncated || sizes.stderr > MAX_CAPTURED_BYTES;
        return {
          exitCode,
          ...(signal === null ? {} : { signal }),
          ...(timedOut ? { timedOut: true, timeoutMs } : {}),
          stdout: stdout.text,
          stderr: stderr.text,
          ...(stdoutCut ? { stdoutTruncated: { totalBytes: sizes.stdout } } : {}),
          ...(stderrCut ? { stderrTruncated: { totalBytes: sizes.stderr } } : {}),
          ...(backgroundProcessesKilled
            ? {
                backgroundProcessesKilled: true,
                note: "the command left processes running in the background; they were killed when it exited",
              }
            : {}),
          ...(drainCut
            ? {
                outputCut:
                  "a process outside the command's process group still held the output; what it wrote after the command exited is not shown",
              }
            : {}),
        };
      } finally {
        clearTimeout(timer);
        toolContext.signal.removeEventListener("abort", killGroup);
      }
    },
  });
}
