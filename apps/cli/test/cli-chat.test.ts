import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

describe("lash chat driven through stdin", () => {
  it("runs turns, asks before a write, answers /session and /usage, and leaves on /exit", async () => {
    const home = await temporaryDirectory();
    const script = await writeScript(home, "chat", [
      { text: "Hello! What should I do?", usage: { input: 40, output: 7 } },
      { toolCalls: [{ name: "write_file", args: { path: "todo.txt", content: "milk" } }], usage: { input: 60, output: 12 } },
      { text: "Written to todo.txt.", usage: { input: 80, output: 6 } },
      { text: "A fresh start.", usage: { input: 5, output: 3 } },
    ]);
    const input = ["hi", "/session", "write milk to todo.txt", "y", "/usage", "/new", "hello again", "/exit", ""].join("\n");
    const result = await runLash(["chat", "--script", script], home, { input });
    expect(result.code).toBe(0);
    const sessionId = newSessionId(result.stderr);
    expect(result.stdout).toContain("Hello! What should I do?\n");
    expect(result.stdout).toContain(`session ${sessionId} · 1 turn · model scripted-model · sqlite:`);
    expect(result.stderr).toContain("? allow create todo.txt (4 bytes)? [y/N]");
    expect(result.stdout).toContain("Written to todo.txt.\n");
    expect(await readFile(join(home, "todo.txt"), "utf8")).toBe("milk");
    expect(result.stdout).toMatch(/turn\s+scripted-model\s+180\s+0\s+25\s+0\s+205\s+205\s+unpriced/);
    expect(result.stdout).toContain("A fresh start.\n");
    // /new started a second session for the last prompt.
    const listed = JSON.parse((await runLash(["sessions", "list", "--json"], home)).stdout) as {
      sessionId: string;
      title: string;
      turns: number;
      tokens: number;
    }[];
    expect(listed).toHaveLength(2);
    expect(listed.find((row) => row.sessionId === sessionId)).toMatchObject({ title: "hi", turns: 2, tokens: 205 });
    expect(listed.find((row) => row.sessionId !== sessionId)).toMatchObject({ title: "hello again", turns: 1, tokens: 8 });
    const unknown = await runLash(["chat", "--session", "nope", "--script", script], home, { input: "" });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("lash: error: no session nope in sqlite:");
  });

  it("/tasks lists the subagents a turn started in the background", async () => {
    const home = await temporaryDirectory();
    // The subagent and the main session call the model at the same time: both get the same step.
    const script = await writeScript(home, "subagent", [
      { toolCalls: [{ name: "spawn_agent", args: { task: "Say done." } }] },
      { text: "Done." },
      { text: "Done." },
    ]);
    const result = await runLash(["chat", "--script", script], home, { input: ["start a subagent", "/tasks all", "/exit", ""].join("\n") });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/✓ spawn_agent \d+ ms/);
    expect(result.stdout).toMatch(
      /ID\s+KIND\s+STATE\s+SESSION\s+STARTED\s+SUMMARY\nsubagent:subagent-[0-9a-f-]{36}\s+subagent\s+(pending|running|completed)\s+[0-9a-f-]{36}\s+\d+s ago/,
    );
  });

  it("lash tasks says where background tasks live: list exits 0, cancel of an unknown task exits 2", async () => {
    const home = await temporaryDirectory();
    const list = await runLash(["tasks", "list", "--all"], home);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain("inside `lash chat`, use /tasks and /cancel <task id>");
    const cancel = await runLash(["tasks", "cancel", "subagent:x"], home);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain("lash: error: no background task subagent:x");
  });

  it("Ctrl-C cancels the running turn and keeps its partial output; Ctrl-C twice at the prompt exits 130", async () => {
    const home = await temporaryDirectory();
    const words = Array.from({ length: 40 }, (_, index) => `word${index + 1}`).join(" ");
    const script = await writeScript(home, "slow", [{ text: words, chunks: 40, chunkDelayMs: 100 }]);
    const chat = startLash(["chat", "--script", script], home, { input: "" });
    chat.child.stdin?.write("count slowly\n");
    await waitFor(chat.stdout, (text) => text.includes("word2"));
    chat.child.kill("SIGINT");
    await waitFor(chat.stderr, (text) => text.includes("lash: cancelled ·"));
    chat.child.kill("SIGINT");
    await waitFor(chat.stderr, (text) => text.includes("press Ctrl-C again to exit"));
    chat.child.kill("SIGINT");
    const result = await chat.result;
    expect(result.code).toBe(130);

    const sessionId = newSessionId(result.stderr);
    const exported = JSON.parse((await runLash(["sessions", "export", sessionId], home)).stdout);
    const prose: string[] = exported.graph.nodes.flatMap(
      (node: { payload: { kind: string; message?: { role: string; parts: { kind: string; content?: string }[] } } }) =>
        node.payload.kind === "message" && node.payload.message?.role === "assistant"
          ? node.payload.message.parts.filter((part) => part.kind === "prose").map((part) => part.content)
          : [],
    );
    // The turn is stored with what had streamed before the cancel: a prefix of the answer, not all of it.
    expect(prose).toHaveLength(1);
    expect(prose[0]).toMatch(/^word1 word2/);
    expect(words.startsWith(prose[0] ?? "x")).toBe(true);
    expect(prose[0]).not.toBe(words);
    expect(exported.checkpoint.turnState.turnIndex).toBe(1);
    // ...and stored as cancelled.
    const stops = exported.graph.nodes
      .filter((node: { payload: { kind: string } }) => node.payload.kind === "turn_stopped")
      .map((node: { payload: unknown }) => node.payload);
    expect(stops).toEqual([{ kind: "turn_stopped", turnId: expect.any(String), turnIndex: 1, stop: { type: "cancelled" } }]);
    const shown = await runLash(["sessions", "show", sessionId], home);
    expect(shown.stdout).toContain("(turn cancelled)");
  });
});
