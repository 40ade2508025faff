import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runLash, temporaryDirectory } from "./run-lash.js";

const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));

async function runCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { code, stdout, stderr };
}

describe("lash demo", () => {
  it("streams an offline turn with a tool round trip and a usage table, and stores it", async () => {
    const home = await temporaryDirectory();
    const result = await runLash(["demo"], home);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('⚙ lookup_order {"id":7}');
    expect(result.stderr).toContain('⚙ lookup_order {"id":8}');
    expect(result.stderr).toContain('⚙ spawn_agent {"task":"Write a two-sentence note');
    expect(result.stderr).toMatch(/✓ await_agent \d+ ms/);
    expect(result.stdout).toContain(
      "Order 7 has shipped: DHL picked it up on 2 March. Order 8 is still being packed, so it has not shipped yet.\n",
    );
    expect(result.stdout).toContain(
      'Note for the customer of order 8: "Your order 8 is being packed and will ship soon. Thank you for your patience!"\n',
    );
    // The subagent's usage is in the parent's ledger under its own source.
    expect(result.stdout).toMatch(/subagent\s+scripted-model\s+96\s+0\s+21\s+0\s+117\s+117\s+unpriced/);
    expect(result.stdout).toMatch(/turn\s+scripted-model\s+1622\s+896\s+134\s+0\s+1756\s+2652\s+unpriced/);
    const stored = /as session ([0-9a-f-]{36})/.exec(result.stderr)?.[1];
    expect(stored).toBeDefined();
    const listed = await runLash(["sessions", "list", "--json"], home);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ sessionId: stored, title: "demo: orders 7 and 8", turns: 1, tokens: 1873 }]);
    // The subagent ran in a child session of its own, listed with --all.
    const all = JSON.parse((await runLash(["sessions", "list", "--all", "--json"], home)).stdout) as {
      sessionId: string;
      parentSessionId?: string;
      tokens: number;
    }[];
    expect(all.find((row) => row.parentSessionId === stored)).toMatchObject({
      sessionId: expect.stringMatching(/^subagent-/),
      tokens: 117,
    });
    // Removing the session removes the subagent's child session with it.
    const removed = await runLash(["sessions", "rm", stored ?? ""], home);
    expect(removed.stderr).toContain(`removed session ${stored} and its 1 child session`);
    expect(JSON.parse((await runLash(["sessions", "list", "--all", "--json"], home)).stdout)).toEqual([]);
  });

  it("the README's first command ends in `pnpm demo`, which runs from source and suggests `pnpm lash` commands that work", async () => {
    const home = await temporaryDirectory();
    const environment = { PATH: process.env.PATH ?? "", HOME: home, LASH_HOME: join(home, "lash-home") };
    const pnpm = (args: string[]) => runCommand("pnpm", args, repositoryRoot, environment);
    const demo = await pnpm(["--silent", "demo"]);
    expect(demo.stderr).toContain(`stored in sqlite:${join(home, "lash-home", "lash.db")}`);
    expect(demo.stdout).toContain("Order 7 has shipped");
    expect(demo.code).toBe(0);
    const sessionId = /as session ([0-9a-f-]{36})/.exec(demo.stderr)?.[1] ?? "";
    expect(demo.stderr).toContain(
      `next: pnpm lash sessions list · pnpm lash sessions show ${sessionId} · pnpm lash sessions usage ${sessionId}`,
    );
    // What the demo suggests next works as printed, flags included.
    const listed = await pnpm(["--silent", "lash", "sessions", "list", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ sessionId, title: "demo: orders 7 and 8" }]);
  });
});
