// The workspace tools in a real runtime: writes and commands wait for the runtime's approver
// (`withApprovals`), the checks that can refuse a call run before anyone is asked, and `execute`
// checks again after the approval.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LashRuntime, textInput } from "@lash/core";
import type { ApprovalAnswer, ApprovalRequest, AssembledTurn, LlmRequest } from "@lash/protocol";
import { ScriptedProvider, type ScriptedToolCall, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorkspaceTools } from "./workspace-tools.js";

let root: string;
let outside: string;

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), "lash-tools-approval-"));
  root = join(base, "work");
  outside = join(base, "outside");
  await mkdir(join(root, "src"), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, "README.md"), "# Demo\nThe answer is 42.\n");
  await writeFile(join(root, "src", "main.ts"), "export const answer = 42;\n");
});

afterEach(async () => {
  await rm(join(root, ".."), { recursive: true, force: true });
});

/** One turn: the model makes `calls`, then answers "Done."; every approval request goes to `answer`. */
async function runTurnWith(
  calls: readonly ScriptedToolCall[],
  answer: (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>,
): Promise<{ turn: AssembledTurn; asked: ApprovalRequest[]; provider: ScriptedProvider }> {
  const asked: ApprovalRequest[] = [];
  const provider = new ScriptedProvider([toolCallStep(calls), textStep("Done.")]);
  const runtime = await LashRuntime.builder()
    .withSessionId("approvals")
    .withPolicy({ model: "scripted-model", maxContextTokens: 100_000 })
    .withProvider(provider)
    .withTools(await createWorkspaceTools({ root }))
    .withApprovals({
      approve: (request) => {
        asked.push(request);
        return answer(request);
      },
    })
    .build();
  const turn = await runtime.runTurn(textInput("Go."));
  return { turn, asked, provider };
}

/** What the model saw as the result of each call, by call id, in its second request. */
function toolResults(request: LlmRequest | undefined): Map<string, string> {
  const results = new Map<string, string>();
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result") results.set(block.callId, block.content);
  }
  return results;
}

const approveAll = (): ApprovalAnswer => ({ type: "approve", decidedBy: "test" });

describe("write_file under the runtime's approver", () => {
  it("asks with the one-line summary, and writes the file once approved", async () => {
    const { turn, asked } = await runTurnWith(
      [{ callId: "w", name: "write_file", args: { path: "notes/todo.txt", content: "milk\n" } }],
      approveAll,
    );
    expect(asked).toEqual([
      expect.objectContaining({
        callId: "w",
        tool: "write_file",
        args: { path: "notes/todo.txt", content: "milk\n" },
        summary: `create ${join("notes", "todo.txt")} (5 bytes)`,
      }),
    ]);
    expect(turn.outcome.type).toBe("finished");
    expect(turn.toolCalls[0]?.output.outcome).toEqual({
      status: "success",
      payload: { path: join("notes", "todo.txt"), bytesWritten: 5, created: true },
    });
    expect(turn.toolCalls[0]?.approval).toMatchObject({ decision: "approved", decidedBy: "test" });
    expect(await readFile(join(root, "notes", "todo.txt"), "utf8")).toBe("milk\n");
  });

  it("says `overwrite` for an existing file", async () => {
    const { asked } = await runTurnWith([{ callId: "w", name: "write_file", args: { path: "README.md", content: "x" } }], approveAll);
    expect(asked.map((request) => request.summary)).toEqual(["overwrite README.md (1 byte)"]);
    expect(await readFile(join(root, "README.md"), "utf8")).toBe("x");
  });

  it("leaves the disk untouched when rejected, and the model sees the reason", async () => {
    const { turn, asked, provider } = await runTurnWith(
      [
        { callId: "new", name: "write_file", args: { path: "new.txt", content: "x" } },
        { callId: "old", name: "write_file", args: { path: "README.md", content: "gone" } },
      ],
      () => ({ type: "reject", reason: "not today" }),
    );
    expect(asked.map((request) => request.callId)).toEqual(["new", "old"]);
    expect(turn.outcome.type).toBe("finished");
    expect(turn.toolCalls.map((record) => record.approval?.decision)).toEqual(["rejected", "rejected"]);
    await expect(readFile(join(root, "new.txt"))).rejects.toThrow();
    expect(await readFile(join(root, "README.md"), "utf8")).toBe("# Demo\nThe answer is 42.\n");
    const results = toolResults(provider.requests[1]);
    expect(results.get("new")).toBe("[Tool execution failed]\nThe user rejected this call: not today");
    expect(results.get("old")).toBe("[Tool execution failed]\nThe user rejected this call: not today");
  });

  it("fails a path outside the working directory without asking anyone", async () => {
    const { turn, asked, provider } = await runTurnWith(
      [{ callId: "escape", name: "write_file", args: { path: "../outside/owned.txt", content: "owned" } }],
      approveAll,
    );
    expect(asked).toEqual([]);
    expect(turn.toolCalls[0]?.approval).toBeUndefined();
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { class: "permission_denied", code: "path_outside_workspace" },
    });
    expect(toolResults(provider.requests[1]).get("escape")).toContain("outside the working directory");
    expect(await readdir(outside)).toEqual([]);
  });
});

describe("the other tools under the runtime's approver", () => {
  it("never asks about read_file, list_directory or search_files", async () => {
    const { turn, asked, provider } = await runTurnWith(
      [
        { callId: "read", name: "read_file", args: { path: "README.md" } },
        { callId: "list", name: "list_directory", args: {} },
        { callId: "search", name: "search_files", args: { query: "answer" } },
      ],
      approveAll,
    );
    expect(asked).toEqual([]);
    expect(turn.toolCalls.map((record) => [record.tool, record.output.outcome.status, record.approval])).toEqual([
      ["read_file", "success", undefined],
      ["list_directory", "success", undefined],
      ["search_files", "success", undefined],
    ]);
    expect(toolResults(provider.requests[1]).get("read")).toContain("The answer is 42.");
  });

  it("a read and a rejected write in one turn: only the write is asked about, the model sees both results", async () => {
    const { turn, asked, provider } = await runTurnWith(
      [
        { callId: "read", name: "read_file", args: { path: "README.md" } },
        { callId: "write", name: "write_file", args: { path: "x.txt", content: "x" } },
      ],
      () => ({ type: "reject", reason: "read only" }),
    );
    expect(asked.map((request) => request.tool)).toEqual(["write_file"]);
    expect(turn.toolCalls.map((record) => [record.tool, record.output.outcome.status])).toEqual([
      ["read_file", "success"],
      ["write_file", "failure"],
    ]);
    const results = toolResults(provider.requests[1]);
    expect(results.get("read")).toContain("The answer is 42.");
    expect(results.get("write")).toBe("[Tool execution failed]\nThe user rejected this call: read only");
  });

  it("asks about run_shell with the command line, and runs nothing when rejected", async () => {
    const command = "echo ran > ran.txt";
    const rejected = await runTurnWith([{ callId: "sh", name: "run_shell", args: { command } }], () => ({ type: "reject" }));
    expect(rejected.asked.map((request) => request.summary)).toEqual([`run: ${command}`]);
    expect(toolResults(rejected.provider.requests[1]).get("sh")).toBe("[Tool execution failed]\nThe user rejected this call.");
    await expect(readFile(join(root, "ran.txt"))).rejects.toThrow();

    const approved = await runTurnWith([{ callId: "sh", name: "run_shell", args: { command } }], approveAll);
    expect(approved.turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "success", payload: { exitCode: 0 } });
    expect(await readFile(join(root, "ran.txt"), "utf8")).toBe("ran\n");
  });

  it("asks about patch_file with the replacement count, and fails a patch that cannot apply without asking", async () => {
    const { turn, asked } = await runTurnWith(
      [
        { callId: "ok", name: "patch_file", args: { path: "src/main.ts", oldText: "= 42", newText: "= 43" } },
        { callId: "missing", name: "patch_file", args: { path: "src/main.ts", oldText: "= 99", newText: "= 0" } },
      ],
      approveAll,
    );
    expect(asked.map((request) => [request.callId, request.summary])).toEqual([["ok", `patch ${join("src", "main.ts")} (1 replacement)`]]);
    expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(["success", "failure"]);
    expect(turn.toolCalls[1]?.output.outcome).toMatchObject({ payload: { code: "text_not_found" } });
    expect(await readFile(join(root, "src", "main.ts"), "utf8")).toBe("export const answer = 43;\n");
  });

  it("checks again after the approval: a patch whose text vanished while the user was asked fails", async () => {
    const { turn, asked } = await runTurnWith(
      [{ callId: "patch", name: "patch_file", args: { path: "src/main.ts", oldText: "= 42", newText: "= 43" } }],
      async () => {
        // Someone edits the file while the question is open.
        await writeFile(join(root, "src", "main.ts"), "export const answer = 7;\n");
        return { type: "approve" };
      },
    );
    expect(asked).toHaveLength(1);
    expect(turn.toolCalls[0]?.approval?.decision).toBe("approved");
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { code: "text_not_found" } });
    expect(await readFile(join(root, "src", "main.ts"), "utf8")).toBe("export const answer = 7;\n");
  });
});
