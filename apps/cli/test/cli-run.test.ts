import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assembledTurnSchema } from "@lash/protocol";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { newSessionId, runLash, runLashAfterShellPipe, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

let home: string;

beforeEach(async () => {
  home = await temporaryDirectory();
  await writeFile(join(home, "notes.txt"), "remember the milk\n");
});

describe("lash run with the scripted provider", () => {
  it("streams the answer to stdout, progress and a usage summary to stderr, exit 0", async () => {
    const script = await writeScript(home, "hello", [{ text: "Hello from a script.", chunks: 4, usage: { input: 20, output: 5 } }]);
    const result = await runLash(["run", "--script", script, "Say hello"], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Hello from a script.\n");
    const sessionId = newSessionId(result.stderr);
    expect(result.stderr).toContain(`lash: finished · 1 model call · tokens 20 in, 5 out · session ${sessionId}`);
    // No colour and no spinner when stderr is not a terminal.
    expect(result.stderr).not.toContain("\u001b[");
  });

  it("runs a tool round trip: the tool reads the working directory, the activity goes to stderr", async () => {
    const script = await writeScript(home, "tool", [
      { toolCalls: [{ name: "read_file", args: { path: "notes.txt" } }], text: "Reading.", usage: { input: 30, output: 8 } },
      { text: "The note says to remember the milk.", usage: { input: 50, output: 9 } },
    ]);
    const result = await runLash(["-p", "What does notes.txt say?", "--script", script], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Reading.\n\nThe note says to remember the milk.\n");
    expect(result.stderr).toContain('⚙ read_file {"path":"notes.txt"}');
    expect(result.stderr).toMatch(/✓ read_file \d+ ms/);
    expect(result.stderr).toContain("2 model calls · tokens 80 in, 17 out");
  });

  it("makes a write wait for approval without --yes (exit 3, nothing written) and performs it with --yes", async () => {
    const steps = [{ toolCalls: [{ name: "write_file", args: { path: "out.txt", content: "written" } }] }, { text: "Done." }];
    const script = await writeScript(home, "write", steps);
    const waiting = await runLash(["run", "--script", script, "Write out.txt"], home);
    expect(waiting.code).toBe(3);
    expect(waiting.stderr).toContain("? waiting for approval: write_file create out.txt (7 bytes)");
    expect(waiting.stdout).not.toContain("Done.");
    await expect(readFile(join(home, "out.txt"), "utf8")).rejects.toThrow();
    const allowed = await runLash(["run", "--yes", "--script", script, "Write out.txt"], home);
    expect(allowed.code).toBe(0);
    expect(await readFile(join(home, "out.txt"), "utf8")).toBe("written");
  });

  it("refuses paths outside the working directory unless --allow-path names them", async () => {
    const outside = await temporaryDirectory();
    await writeFile(join(outside, "secret.txt"), "s3cret\n");
    const script = await writeScript(home, "outside", [
      { toolCalls: [{ name: "read_file", args: { path: join(outside, "secret.txt") } }] },
      { text: "ok" },
    ]);
    const refused = await runLash(["run", "--script", script, "read it"], home);
    expect(refused.stderr).toContain(`✗ read_file: ${join(outside, "secret.txt")} is outside the working directory`);
    const allowed = await runLash(["run", "--allow-path", outside, "--script", script, "read it"], home);
    expect(allowed.stderr).toMatch(/✓ read_file \d+ ms/);
  });

  it("a provider error stops the turn: exit 1 and the reason on stderr", async () => {
    const script = await writeScript(home, "error", [{ error: { message: "invalid request: bad model", status: 400 } }]);
    const result = await runLash(["run", "--script", script, "hi"], home);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("invalid request: bad model");
    expect(result.stderr).toContain("lash: stopped: the model provider failed");
  });

  it("shows retries on stderr and goes on", async () => {
    const script = await writeScript(home, "retry", [{ error: { message: "overloaded", status: 503 } }, { text: "Recovered." }], {
      retry: { maxAttempts: 3, delayMs: 10 },
    });
    const result = await runLash(["run", "--script", script, "hi"], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Recovered.\n");
    expect(result.stderr).toMatch(/↻ retrying in \d+s \(attempt 1 of 3\)/);
  });

  it("--max-model-calls stops a turn that keeps calling tools: exit 1", async () => {
    const call = { toolCalls: [{ name: "list_directory", args: {} }], text: "Looking." };
    const script = await writeScript(home, "loop", [call, call, call, { text: "never reached" }]);
    const result = await runLash(["run", "--max-model-calls", "2", "--script", script, "loop"], home);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("lash: stopped: the model-call limit was reached (--max-model-calls) · 2 model calls");
    expect(result.stdout).not.toContain("never reached");
  });

  it("--max-tokens stops the turn when its token budget runs out: exit 1", async () => {
    const call = { toolCalls: [{ name: "list_directory", args: {} }], usage: { input: 400, output: 20 } };
    const script = await writeScript(home, "budget", [call, call, { text: "never reached" }]);
    const result = await runLash(["run", "--max-tokens", "500", "--script", script, "loop"], home);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("lash: stopped: the token budget ran out (--max-tokens) · 2 model calls · tokens 800 in, 40 out");
  });

  it("appends a shell pipe's input to the prompt, and reads the whole prompt from stdin without an argument", async () => {
    const script = await writeScript(home, "pipe", [{ text: "Seen." }]);
    const appended = await runLashAfterShellPipe("line one\nline two\n", ["run", "--json", "--script", script, "Summarise this:"], home);
    expect(appended.code).toBe(0);
    const firstUserText = (stdout: string): unknown => {
      const turn = assembledTurnSchema.parse(JSON.parse(stdout));
      const node = turn.state.sessionGraph.nodes.find(
        (candidate) => candidate.payload.kind === "message" && candidate.payload.message.role === "user",
      );
      return node?.payload.kind === "message" ? node.payload.message.parts[0] : undefined;
    };
    expect(firstUserText(appended.stdout)).toMatchObject({ kind: "text", content: "Summarise this:\n\nline one\nline two\n" });
    const whole = await runLash(["run", "--json", "--script", script], home, { input: "What is 2 + 2?" });
    expect(firstUserText(whole.stdout)).toMatchObject({ kind: "text", content: "What is 2 + 2?" });
    // A parent process's stdin socket that is never closed does not hold up a prompt given as an argument.
    const started = startLash(["run", "--json", "--script", script, "Just this."], home, { input: "" });
    const result = await started.result;
    expect(result.code).toBe(0);
    expect(firstUserText(result.stdout)).toMatchObject({ kind: "text", content: "Just this." });
  });

  it("Ctrl-C cancels the turn: exit 130, the partial answer stays on stdout", async () => {
    const words = Array.from({ length: 30 }, (_, index) => `w${index + 1}`).join(" ");
    const script = await writeScript(home, "slow", [{ text: words, chunks: 30, chunkDelayMs: 100 }]);
    const run = startLash(["run", "--script", script, "count"], home);
    await waitFor(run.stdout, (text) => text.includes("w2"));
    run.child.kill("SIGINT");
    const result = await run.result;
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/^w1 w2/);
    expect(result.stdout.trim()).not.toBe(words);
    expect(result.stderr).toContain("lash: cancelled · 1 model call");
  });

  it("--json prints an AssembledTurn that the protocol schema accepts", async () => {
    const script = await writeScript(home, "json", [
      { toolCalls: [{ name: "list_directory", args: {} }] },
      { text: "Two files.", usage: { input: 12, output: 3 } },
    ]);
    const result = await runLash(["run", "--json", "--script", script, "list"], home);
    expect(result.code).toBe(0);
    const turn = assembledTurnSchema.parse(JSON.parse(result.stdout));
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Two files." } });
    expect(turn.toolCalls.map((record) => record.tool)).toEqual(["list_directory"]);
    expect(turn.state.sessionId).toBe(newSessionId(result.stderr));
  });

  it("reads the prompt from stdin with `-`, and continues a session with --session", async () => {
    const script = await writeScript(home, "echo", [{ text: "Noted." }]);
    const first = await runLash(["run", "--script", script, "-"], home, { input: "My colour is blue.\n" });
    expect(first.code).toBe(0);
    const sessionId = newSessionId(first.stderr);
    const second = await runLash(["run", "--session", sessionId, "--json", "--script", script, "Again"], home);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain("new session");
    const turn = assembledTurnSchema.parse(JSON.parse(second.stdout));
    expect(turn.state.turnIndex).toBe(2);
    const userTexts = turn.state.sessionGraph.nodes.flatMap((node) =>
      node.payload.kind === "message" && node.payload.message.role === "user"
        ? node.payload.message.parts.flatMap((part) => (part.kind === "text" ? [part.content] : []))
        : [],
    );
    expect(userTexts).toEqual(["My colour is blue.\n", "Again"]);
  });

  it("an unknown --session is a usage error (exit 2), and so is a missing prompt", async () => {
    const script = await writeScript(home, "unused", [{ text: "unused" }]);
    const unknown = await runLash(["run", "--session", "no-such-session", "--script", script, "hi"], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("lash: error: no session no-such-session in sqlite:");
    const missing = await runLash(["run", "--script", script], home);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no prompt");
  });
});

describe("a reader that goes away", () => {
  it("ends the command quietly (exit 0, no EPIPE stack) when stdout's reader has closed", async () => {
    const home = await temporaryDirectory();
    // `true` exits at once, so by the time the command writes its help the pipe has no reader.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${PIPESTATUS[0]} is for bash, not JavaScript
    const shell = spawn("bash", ["-c", 'node "$0" run --help | true; echo "lash exit: ${PIPESTATUS[0]}" >&2', inject("cliBundle")], {
      cwd: home,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    shell.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    await new Promise((resolve) => shell.once("close", resolve));
    expect(stderr).toContain("lash exit: 0");
    expect(stderr).not.toContain("EPIPE");
  });
});
