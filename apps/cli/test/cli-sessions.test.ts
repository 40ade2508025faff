import { beforeAll, describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

let home: string;
let first: string;
let second: string;

beforeAll(async () => {
  home = await temporaryDirectory();
  const toolScript = await writeScript(home, "tool", [
    { toolCalls: [{ name: "list_directory", args: {} }], text: "Let me look.", usage: { input: 100, output: 10 } },
    { text: "Two scripts are here.", usage: { input: 150, output: 6, cached: 40 } },
  ]);
  const textScript = await writeScript(home, "text", [{ text: "Hi!", usage: { input: 10, output: 2 } }]);
  first = newSessionId((await runLash(["run", "--script", toolScript, "What is in this folder?"], home)).stderr);
  second = newSessionId((await runLash(["run", "--script", textScript, "Say hi"], home)).stderr);
  await runLash(["run", "--session", second, "--script", textScript, "Once more"], home);
});

describe("lash sessions", () => {
  it("list: newest first, with title, model, turns and tokens", async () => {
    const table = await runLash(["sessions", "list"], home);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+TITLE\s+MODEL\s+TURNS\s+LAST ACTIVITY \(UTC\)\s+TOKENS$/);
    expect(lines[1]).toMatch(new RegExp(`^${second}\\s+Say hi\\s+scripted-model\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+24$`));
    expect(lines[2]).toMatch(new RegExp(`^${first}\\s+What is in this folder\\?\\s+scripted-model\\s+1\\s+.*\\s+266$`));
    const json = await runLash(["sessions", "list", "--json"], home);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { sessionId: second, title: "Say hi", turns: 2, tokens: 24 },
      { sessionId: first, title: "What is in this folder?", turns: 1, tokens: 266 },
    ]);
  });

  it("show: the transcript with the tool call folded into one line", async () => {
    const result = await runLash(["sessions", "show", first], home);
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toContain("What is in this folder?");
    expect(text).toMatch(/you [\d-]+T[\d:.]+Z\nWhat is in this folder\?/);
    expect(text).toContain("Let me look.\n  ✓ list_directory {} → ");
    expect(text).toMatch(/assistant [\d-]+T[\d:.]+Z\nTwo scripts are here\./);
    expect(text.indexOf("Let me look.")).toBeLessThan(text.indexOf("Two scripts are here."));
  });

  it("usage: the ledger as a table and as JSON", async () => {
    const table = await runLash(["sessions", "usage", first], home);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/turn\s+scripted-model\s+250\s+40\s+16\s+0\s+266\s+306\s+unpriced/);
    expect(table.stdout).toMatch(/TOTAL\s+250\s+40\s+16\s+0\s+266\s+306/);
    const json = await runLash(["sessions", "usage", "--json", first], home);
    expect(JSON.parse(json.stdout)).toMatchObject({
      rows: [
        {
          source: "turn",
          model: "scripted-model",
          usage: { inputTokens: 250, outputTokens: 16, cachedInputTokens: 40, totalTokens: 266 },
          cost: { priced: false },
        },
      ],
      cost: { unpricedModels: ["scripted-model"] },
    });
  });

  it("export: meta, graph and ledger as JSON", async () => {
    const result = await runLash(["sessions", "export", second], home);
    const exported = JSON.parse(result.stdout);
    expect(exported).toMatchObject({
      format: "lash.session-export.v1",
      sessionId: second,
      meta: { sessionName: "Say hi", model: "scripted-model" },
      tokenLedger: [{ source: "turn", usage: { inputTokens: 20, outputTokens: 4 } }],
    });
    expect(exported.graph.nodes.length).toBe(4);
  });

  it("an unknown id is a usage error (exit 2) for show, usage, export and rm", async () => {
    for (const command of ["show", "usage", "export", "rm"]) {
      const result = await runLash(["sessions", command, "missing-id"], home);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("lash: error: no session missing-id in sqlite:");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("rm: removes the session, which then is gone from the list", async () => {
    const removed = await runLash(["sessions", "rm", first], home);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain(`removed session ${first}`);
    const listed = JSON.parse((await runLash(["sessions", "list", "--json"], home)).stdout) as { sessionId: string }[];
    expect(listed.map((row) => row.sessionId)).toEqual([second]);
  });
});

describe("lash sessions list after a killed turn", () => {
  it("TURNS counts completed turns: a prompt whose process was killed mid-turn is not one", async () => {
    const home = await temporaryDirectory();
    const words = Array.from({ length: 40 }, (_, index) => `w${index + 1}`).join(" ");
    const slow = await writeScript(home, "slow", [{ text: words, chunks: 40, chunkDelayMs: 100 }]);
    const quick = await writeScript(home, "quick", [{ text: "Done." }]);
    // The prompt is stored when the turn starts; the process dies before the turn completes.
    const killed = startLash(["run", "--script", slow, "Count slowly"], home);
    await waitFor(killed.stdout, (text) => text.includes("w2"));
    killed.child.kill("SIGKILL");
    const sessionId = newSessionId((await killed.result).stderr);
    const afterKill = JSON.parse((await runLash(["sessions", "list", "--json"], home)).stdout) as { sessionId: string; turns: number }[];
    expect(afterKill).toMatchObject([{ sessionId, turns: 0 }]);
    const table = await runLash(["sessions", "list"], home);
    expect(table.stdout).toMatch(new RegExp(`^${sessionId}\\s+Count slowly\\s+scripted-model\\s+0\\s`, "m"));
    // A turn that completes counts, a cancelled (Ctrl-C) one too: it ran to its end and was stored.
    expect((await runLash(["run", "--session", sessionId, "--script", quick, "Again"], home)).code).toBe(0);
    const cancelled = startLash(["run", "--session", sessionId, "--script", slow, "Once more"], home);
    await waitFor(cancelled.stdout, (text) => text.includes("w2"));
    cancelled.child.kill("SIGINT");
    expect((await cancelled.result).code).toBe(130);
    const final = JSON.parse((await runLash(["sessions", "list", "--json"], home)).stdout) as { sessionId: string; turns: number }[];
    expect(final).toMatchObject([{ sessionId, turns: 2 }]);
  });
});
