// Turns that wait for approval across processes (ADR 0029): `lash run` without --yes suspends and
// exits 3, `lash approve` / `lash reject` continue the stored turn in a new process. The scripted
// provider starts at step 1 in every process, so a deciding process gets a script holding only the
// continuation: the model's answer after the tool result.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { assembledTurnSchema } from "@lash/protocol";
import { beforeEach, describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, writeScript } from "./run-lash.js";

let home: string;

beforeEach(async () => {
  home = await temporaryDirectory();
});

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** The one request id a suspended run listed. */
function requestId(stderr: string): string {
  const match = new RegExp(`waiting for approval: .* \\[(${UUID})\\]`).exec(stderr);
  if (match?.[1] === undefined) throw new Error(`no approval request in:\n${stderr}`);
  return match[1];
}

/** A model that asks to write out.txt, and the continuation a deciding process plays. */
async function writeScripts(): Promise<{ ask: string; answer: string }> {
  return {
    ask: await writeScript(home, "ask", [
      { text: "Writing it.", toolCalls: [{ name: "write_file", args: { path: "out.txt", content: "written" } }] },
    ]),
    answer: await writeScript(home, "answer", [{ text: "Handled out.txt." }]),
  };
}

interface ExportedSession {
  graph: { nodes: { payload: { kind: string; message?: { parts: { kind: string; content?: string }[] }; record?: unknown } }[] };
}

/** The tool results the model was sent, from the stored session. */
async function toolResultsSeen(sessionId: string): Promise<string[]> {
  const exported = JSON.parse((await runLash(["sessions", "export", sessionId], home)).stdout) as ExportedSession;
  return exported.graph.nodes.flatMap((node) =>
    (node.payload.message?.parts ?? []).flatMap((part) => (part.kind === "tool_result" ? [part.content ?? ""] : [])),
  );
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

describe("lash run without --yes, then lash approve", () => {
  it("run waits (exit 3, nothing written); approve from another folder writes where the turn asked and finishes it", async () => {
    const { ask, answer } = await writeScripts();
    const run = await runLash(["run", "--script", ask, "Write out.txt"], home);
    expect(run.code).toBe(3);
    const sessionId = newSessionId(run.stderr);
    const id = requestId(run.stderr);
    expect(run.stderr).toContain(`? waiting for approval: write_file create out.txt (7 bytes) [${id}]`);
    expect(run.stderr).toContain(`lash: waiting for approval (1 call) · 1 model call`);
    expect(run.stderr).toContain(`1 call waits for approval in session ${sessionId}:\n  ${id}  write_file  create out.txt (7 bytes)\n`);
    expect(run.stderr).toContain(`approve: lash approve ${sessionId} ${id}`);
    expect(run.stderr).toContain(`reject:  lash reject ${sessionId} ${id} --reason`);
    expect(run.stdout).toBe("Writing it.\n");
    expect(await exists(join(home, "out.txt"))).toBe(false);

    // Without ids: the open requests, exit 3. An unknown id decides nothing: exit 2.
    const listed = await runLash(["approve", sessionId, "--script", answer], home);
    expect(listed.code).toBe(3);
    expect(listed.stderr).toContain(`  ${id}  write_file  create out.txt (7 bytes)`);
    const unknown = await runLash(["approve", sessionId, "no-such-request", "--script", answer], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`lash: error: session ${sessionId} has no approval request no-such-request waiting for a decision`);

    // No new prompt while the turn waits: it would reach the model with the calls unanswered.
    const blocked = await runLash(["run", "--session", sessionId, "--script", answer, "Something else"], home);
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toContain(`lash: error: session ${sessionId} has a turn waiting for approval: answer it before a new prompt`);

    // Another working directory: the tools still run in the folder the turn ran in.
    const elsewhere = await temporaryDirectory();
    const approved = await runLash(["approve", sessionId, id, "--by", "alice", "--script", answer], home, { cwd: elsewhere });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toBe("Handled out.txt.\n");
    expect(approved.stderr).toContain(`✓ write_file approved by alice [${id}]`);
    expect(approved.stderr).toMatch(/✓ write_file \d+ ms/);
    expect(approved.stderr).toContain(`lash: finished · 1 model call`);
    expect(await readFile(join(home, "out.txt"), "utf8")).toBe("written");
    expect(await exists(join(elsewhere, "out.txt"))).toBe(false);

    // Decided once: the same id again is a usage error naming the decision; nothing is left to list.
    const again = await runLash(["reject", sessionId, id, "--script", answer], home);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`lash: error: approval request ${id} was already decided: approved by alice`);
    const empty = await runLash(["approve", sessionId, "--script", answer], home);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain(`session ${sessionId} has no calls waiting for approval`);
    const nothing = await runLash(["approve", sessionId, "--all", "--script", answer], home);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain(`lash: error: session ${sessionId} has no turn waiting for approval`);
  });

  it("reject --all --reason reaches the model; run --json prints the waiting outcome", async () => {
    const { ask, answer } = await writeScripts();
    const run = await runLash(["run", "--json", "--script", ask, "Write out.txt"], home);
    expect(run.code).toBe(3);
    const turn = assembledTurnSchema.parse(JSON.parse(run.stdout));
    const stop = turn.outcome.type === "stopped" ? turn.outcome.stop : undefined;
    expect(stop).toMatchObject({ type: "awaiting_approval", approvals: [{ tool: "write_file", summary: "create out.txt (7 bytes)" }] });
    const sessionId = turn.state.sessionId;
    const id = stop?.type === "awaiting_approval" ? stop.approvals[0]?.id : undefined;
    expect(run.stderr).toContain(`  ${id}  write_file  create out.txt (7 bytes)`);

    const rejected = await runLash(["reject", sessionId, "--all", "--reason", "not now", "--script", answer], home);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toBe("Handled out.txt.\n");
    expect(rejected.stderr).toMatch(new RegExp(`✗ write_file rejected by cli:\\S+ \\(not now\\) \\[${id}\\]`));
    expect(await exists(join(home, "out.txt"))).toBe(false);
    expect(await toolResultsSeen(sessionId)).toEqual([expect.stringContaining("The user rejected this call: not now")]);
    const shown = await runLash(["sessions", "show", sessionId], home);
    expect(shown.stdout).toContain("(turn paused for approval: write_file)");
    expect(shown.stdout).toContain("✗ write_file");
  });

  it("two approve processes racing on one request: one continues the turn, the other is told who decided; the command runs once", async () => {
    const ask = await writeScript(home, "shell", [{ toolCalls: [{ name: "run_shell", args: { command: "echo once >> marker.txt" } }] }]);
    const answer = await writeScript(home, "answer", [{ text: "Ran it." }]);
    const run = await runLash(["run", "--script", ask, "Mark it"], home);
    expect(run.code).toBe(3);
    const sessionId = newSessionId(run.stderr);
    const id = requestId(run.stderr);
    expect(run.stderr).toContain(`? waiting for approval: run_shell run: echo once >> marker.txt [${id}]`);

    const racers = [
      startLash(["approve", sessionId, id, "--script", answer], home),
      startLash(["approve", sessionId, id, "--script", answer], home),
    ];
    const results = await Promise.all(racers.map((racer) => racer.result));
    const winners = results.filter((result) => result.code === 0);
    const losers = results.filter((result) => result.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(winners[0]?.stdout).toBe("Ran it.\n");
    // The loser either lost the compare-and-set (1) or came after the decision was stored (2).
    expect([1, 2]).toContain(losers[0]?.code);
    expect(losers[0]?.stderr).toMatch(
      new RegExp(
        `lash: error: (another process decided first: ${id} approved by cli:\\S+|approval request ${id} was already decided: approved by cli:\\S+)`,
      ),
    );
    expect(losers[0]?.stdout).toBe("");
    expect(await readFile(join(home, "marker.txt"), "utf8")).toBe("once\n");
  });
});

describe("lash chat and approvals", () => {
  it("asks inline; end of input defers, so the turn waits; chat --session asks again first and goes on", async () => {
    const ask = await writeScript(home, "chat", [{ toolCalls: [{ name: "write_file", args: { path: "todo.txt", content: "milk" } }] }]);
    const chat = await runLash(["chat", "--script", ask], home, { input: "write milk to todo.txt\n" });
    expect(chat.code).toBe(0);
    const sessionId = newSessionId(chat.stderr);
    expect(chat.stderr).toContain("? allow create todo.txt (4 bytes)? [y/N]");
    expect(chat.stderr).toContain(`1 call waits for approval in session ${sessionId}:`);
    expect(await exists(join(home, "todo.txt"))).toBe(false);

    const answer = await writeScript(home, "answer", [{ text: "Milk is on the list." }]);
    const listed = await runLash(["approve", sessionId, "--script", answer], home);
    expect(listed.code).toBe(3);
    expect(listed.stderr).toMatch(new RegExp(`  ${UUID}  write_file  create todo\\.txt \\(4 bytes\\)`));

    const resumed = await runLash(["chat", "--session", sessionId, "--script", answer], home, { input: "y\n/exit\n" });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("? a turn of this session waits for approval");
    expect(resumed.stderr).toContain("? allow create todo.txt (4 bytes)? [y/N]");
    expect(resumed.stdout).toContain("Milk is on the list.\n");
    expect(await readFile(join(home, "todo.txt"), "utf8")).toBe("milk");
    const after = await runLash(["approve", sessionId, "--script", answer], home);
    expect(after.code).toBe(0);
  });
});

describe("the approval commands", () => {
  it("are in lash --help, with exit code 3", async () => {
    const help = await runLash(["--help"], home);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/approve \[options\] <session> \[ids\.\.\.\]\s+approve calls a stored turn waits on/);
    expect(help.stdout).toMatch(/reject \[options\] <session> \[ids\.\.\.\]\s+reject calls a stored turn waits on/);
    expect(help.stdout).toContain("3 waiting for approval");
    const both = await runLash(["approve", "some-session", "an-id", "--all"], home);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give request ids or --all, not both");
  });
});
