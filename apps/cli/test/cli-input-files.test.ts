import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { LashOptions, LashResult } from "./run-lash.js";
import { startLash, temporaryDirectory, writeScript } from "./run-lash.js";

let home: string;

beforeEach(async () => {
  home = await temporaryDirectory();
  await mkdir(join(home, ".lash"));
});

/**
 * Runs `lash` to the end, but kills it if it is still running after `guardMs`: these defects made
 * the command spin or block forever, and a test that fails must not leave such a process behind.
 * The guard is far above the time the command needs; the tests assert how it ends, not how fast.
 */
async function runGuarded(args: readonly string[], options: LashOptions = {}, guardMs = 40_000): Promise<LashResult> {
  const started = startLash(args, home, options);
  const guard = setTimeout(() => started.child.kill("SIGKILL"), guardMs);
  try {
    return await started.result;
  } finally {
    clearTimeout(guard);
  }
}

describe.skipIf(process.platform !== "linux")("a LASH_HOME or a store on a pseudo filesystem", () => {
  it("LASH_HOME=/proc/self/lash fails with a clear message instead of spinning in mkdir", { timeout: 90_000 }, async () => {
    const result = await runGuarded(["sessions", "list"], { env: { LASH_HOME: "/proc/self/lash" } });
    expect(result.stderr).toContain("lash: error: the store sqlite:/proc/self/lash/lash.db cannot be used");
    expect(result.stderr).toContain("is on a pseudo filesystem (proc)");
    expect(result.stderr).toContain("set LASH_HOME to a writable folder");
    expect(result.code).toBe(2);
  });

  it("a store under /sys is refused the same way", { timeout: 90_000 }, async () => {
    const result = await runGuarded(["sessions", "list", "--store", "fs:/sys/lash-sessions"]);
    expect(result.stderr).toContain("lash: error: the store fs:/sys/lash-sessions cannot be used");
    expect(result.stderr).toContain("pseudo filesystem (sys)");
    expect(result.code).toBe(2);
  });
});

describe("input files that are not small regular files", () => {
  it("--script /dev/zero is refused without reading it: usage error", { timeout: 90_000 }, async () => {
    const result = await runGuarded(["run", "--script", "/dev/zero", "hi"]);
    expect(result.stderr).toContain("lash: error: cannot read the script /dev/zero: it is a character device, not a regular file");
    expect(result.code).toBe(2);
  });

  it("--config /dev/zero and LASH_CONFIG=/dev/zero are refused the same way", { timeout: 90_000 }, async () => {
    const flag = await runGuarded(["config", "--config", "/dev/zero"]);
    expect(flag.stderr).toContain("lash: error: cannot read the config file /dev/zero: it is a character device, not a regular file");
    expect(flag.code).toBe(2);
    const env = await runGuarded(["config"], { env: { LASH_CONFIG: "/dev/zero" } });
    expect(env.stderr).toContain("lash: error: cannot read the config file /dev/zero: it is a character device");
    expect(env.code).toBe(2);
  });

  it.skipIf(process.platform === "win32")(
    "a named pipe as --config or --script is refused without blocking on it",
    { timeout: 90_000 },
    async () => {
      const fifo = join(home, "pipe");
      execFileSync("mkfifo", [fifo]);
      const config = await runGuarded(["config", "--config", fifo]);
      expect(config.stderr).toContain(`lash: error: cannot read the config file ${fifo}: it is a named pipe, not a regular file`);
      expect(config.code).toBe(2);
      const script = await runGuarded(["run", "--script", fifo, "hi"]);
      expect(script.stderr).toContain(`lash: error: cannot read the script ${fifo}: it is a named pipe`);
      expect(script.code).toBe(2);
    },
  );

  it("a config file or script larger than 4 MiB is refused; one just under the cap is read", async () => {
    const padding = " ".repeat(4 * 1024 * 1024);
    const big = join(home, "big.json");
    await writeFile(big, `{${padding}}`);
    const config = await runGuarded(["config", "--config", big]);
    expect(config.stderr).toContain(`lash: error: cannot read the config file ${big}: it is larger than 4 MiB`);
    expect(config.code).toBe(2);
    const bigScript = join(home, "big-script.json");
    await writeFile(bigScript, `{${padding}"format": "lash.scripted-conversation.v1", "steps": [{ "text": "x" }]}`);
    const script = await runGuarded(["run", "--script", bigScript, "hi"]);
    expect(script.stderr).toContain(`lash: error: cannot read the script ${bigScript}: it is larger than 4 MiB`);
    expect(script.code).toBe(2);
    const fits = join(home, "fits.json");
    const document = JSON.stringify({ format: "lash.scripted-conversation.v1", steps: [{ text: "fits" }] });
    await writeFile(fits, document + " ".repeat(4 * 1024 * 1024 - document.length));
    const ok = await runGuarded(["run", "--script", fits, "hi"]);
    expect(ok.stdout).toBe("fits\n");
    expect(ok.code).toBe(0);
  });
});

describe("a prompt read from stdin", () => {
  it("over 4 MiB is refused as a usage error instead of being read without end", { timeout: 90_000 }, async () => {
    const script = await writeScript(home, "never", [{ text: "never reached" }]);
    const started = startLash(["run", "--provider", "scripted", "--script", script, "-"], home, { input: "" });
    // The command stops reading and closes its stdin: the rest of this write fails, as a pipe does.
    started.child.stdin?.on("error", () => undefined);
    started.child.stdin?.end("x".repeat(5 * 1024 * 1024));
    const guard = setTimeout(() => started.child.kill("SIGKILL"), 40_000);
    const result = await started.result.finally(() => clearTimeout(guard));
    expect(result.stderr).toContain("lash: error: the prompt read from stdin is larger than 4 MiB");
    expect(result.code).toBe(2);
  });
});
