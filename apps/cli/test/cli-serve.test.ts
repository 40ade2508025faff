import { beforeEach, describe, expect, it } from "vitest";
import { runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

let home: string;

beforeEach(async () => {
  home = await temporaryDirectory("lash-cli-serve-");
});

/** Starts `lash serve` and resolves with the address it prints first, or rejects when it exits before. */
async function startServe(args: readonly string[]): Promise<{ url: string; served: ReturnType<typeof startLash> }> {
  const served = startLash(["serve", ...args], home);
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = /^lash serve listening on (http:\/\/\S+)$/m.exec(served.stdout());
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    served.child.stdout?.on("data", check);
    void served.result.then(({ code, stderr }) => reject(new Error(`lash serve exited with ${code} before listening: ${stderr}`)));
  });
  return { url, served };
}

async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text()) as unknown;
}

describe("lash serve", () => {
  it("serves the command's own store on the address it prints, and stops on SIGTERM with exit 0", async () => {
    const script = await writeScript(home, "serve", [{ text: "Hello over HTTP.", usage: { input: 10, output: 4 } }]);
    const { url, served } = await startServe(["--port", "0", "--script", script]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await json(health)).toEqual({ status: "ok" });

    const created = await fetch(`${url}/v1/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(created.status).toBe(201);
    const sessionId = ((await json(created)) as { id: string }).id;
    const turn = await fetch(`${url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: "Hello" }),
    });
    expect(await json(turn)).toMatchObject({ answer: { text: "Hello over HTTP." } });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      'lash_turns_finished_total{outcome="finished",reason="assistant_message"} 1',
    );

    served.child.kill("SIGTERM");
    const exit = await served.result;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("lash serve: SIGTERM: shutting down");
    // The server used the store the command uses ($LASH_HOME/lash.db): the session is there.
    const listed = await runLash(["sessions", "list", "--json"], home);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(sessionId);
  });

  it("prints the console's link to the latest session: after `lash demo`, the demo's", async () => {
    const demo = await runLash(["demo"], home);
    expect(demo.code, demo.stderr).toBe(0);
    const demoSessionId = /as session ([0-9a-f-]{36})/.exec(demo.stderr)?.[1];
    expect(demoSessionId).toBeDefined();
    const script = await writeScript(home, "serve", [{ text: "Unused." }]);
    const { url, served } = await startServe(["--port", "0", "--script", script]);
    const line = `lash serve: latest session demo: orders 7 and 8: ${url}/#/sessions/${demoSessionId}`;
    await waitFor(served.stderr, (text) => text.includes(line));
    // After the console's own line.
    expect(served.stderr().indexOf(`lash serve: console at ${url}/`)).toBeLessThan(served.stderr().indexOf(line));
    served.child.kill("SIGTERM");
    expect((await served.result).code).toBe(0);
  });

  it("takes lash-server's flags: --help lists them with exit 0, a bad flag or store exits 2", async () => {
    const help = await runLash(["serve", "--help"], home);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: lash serve [options]");
    expect(help.stdout).toContain("--grace-period <secs>");
    for (const args of [["--no-such-flag"], ["--store", "postgress://x/y"], ["--port", "99999"]]) {
      const refused = await runLash(["serve", ...args], home);
      expect(refused.code, `${args.join(" ")}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toContain("lash serve: error:");
    }
  });
});
