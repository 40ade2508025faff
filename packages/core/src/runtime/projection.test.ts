import type { AssembledTurn, LlmBlock } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool } from "../../test/fixtures.js";
import { CapturingStore, graphMessages, textOf } from "../../test/runtime-scenario-helpers.js";
import { type LashPlugin, textInput } from "../index.js";

const RAW_RECORD = {
  callId: "tool-1",
  tool: "echo_tool",
  args: { value: "sample" },
  output: { outcome: { status: "success", payload: { payload: "raw:sample" } } },
  durationMs: expect.any(Number),
};

describe("projection and persistence", () => {
  it("tool_result_projector_only_changes_model_observation", async () => {
    let committed: AssembledTurn | undefined;
    const plugin: LashPlugin = {
      id: "projector",
      projectToolResult: (record) => (record.tool === "echo_tool" ? "model projection" : undefined),
      onLifecycleEvent: (event) => {
        if (event.type === "turn_committed") committed = event.turn;
      },
    };
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "tool-1", name: "echo_tool", args: { value: "sample" } }]), textStep("done")],
      tools: [echoTool],
      plugins: [plugin],
    });

    const turn = await runtime.runTurn(textInput("echo"));

    // What the model saw of the result is the projection...
    const resultBlocks = (provider.requests[1]?.messages ?? [])
      .flatMap((message) => message.blocks)
      .filter((block): block is Extract<LlmBlock, { type: "tool_result" }> => block.type === "tool_result");
    expect(resultBlocks).toEqual([{ type: "tool_result", callId: "tool-1", toolName: "echo_tool", content: "model projection" }]);
    const resultParts = graphMessages(turn.state.sessionGraph.nodes).flatMap((message) =>
      message.parts.filter((part) => part.kind === "tool_result"),
    );
    expect(resultParts).toEqual([expect.objectContaining({ kind: "tool_result", callId: "tool-1", content: "model projection" })]);
    // ...while every record of the call keeps the raw output.
    expect(committed?.toolCalls).toEqual([RAW_RECORD]);
    expect(runtime.activeToolCalls()).toEqual([RAW_RECORD]);
    expect(turn.toolCalls).toEqual([RAW_RECORD]);
    expect(turn.assistantOutput.safeText).toBe("done");
  });

  it("completed_turns_are_persisted_for_custom_runtime_store: the store's full graph holds exactly the user and assistant messages", async () => {
    const store = new CapturingStore();
    const { runtime } = await createRuntime({ steps: [textStep("Stored answer", { chunks: ["Stored ", "answer"] })], store });

    const turn = await runtime.streamTurn(textInput("where did this go?"));

    expect(turn.assistantOutput.safeText).toBe("Stored answer");
    const read = await store.loadSession({ type: "full_graph" });
    expect(read?.sessionId).toBe("root");
    const nodes = read?.graph.nodes ?? [];
    expect(nodes).toHaveLength(2);
    expect(graphMessages(nodes).map((message) => [message.role, textOf(message)])).toEqual([
      ["user", "where did this go?"],
      ["assistant", "Stored answer"],
    ]);
    expect(read?.graph.leafNodeId).toBe(nodes[1]?.nodeId);
  });

  it("completed_turns_are_persisted_for_custom_runtime_store (stream-only response): the rebuilt answer is persisted once", async () => {
    const store = new CapturingStore();
    const { runtime } = await createRuntime({ steps: [textStep("Stored answer", { chunks: 2, streamOnly: true })], store });

    await runtime.streamTurn(textInput("where did this go?"));

    const read = await store.loadSession({ type: "full_graph" });
    expect(graphMessages(read?.graph.nodes ?? []).map((message) => [message.role, textOf(message)])).toEqual([
      ["user", "where did this go?"],
      ["assistant", "Stored answer"],
    ]);
  });

  it("completed_turns_are_persisted_in_session_graph: messages, checkpoint and one turn ledger entry", async () => {
    const store = new CapturingStore();
    const usage = { inputTokens: 12, outputTokens: 4, cachedInputTokens: 1, reasoningTokens: 2 };
    const { runtime } = await createRuntime({ steps: [textStep("Stored answer", { usage })], store });

    await runtime.streamTurn(textInput("where did this go?"));

    const read = await store.loadSession({ type: "full_graph" });
    expect(graphMessages(read?.graph.nodes ?? []).map((message) => [message.role, textOf(message)])).toEqual([
      ["user", "where did this go?"],
      ["assistant", "Stored answer"],
    ]);
    expect(read?.checkpoint).toBeDefined();
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
    expect(read?.checkpoint?.turnState.tokenUsage).toEqual(usage);
    expect(read?.tokenLedger).toEqual([{ source: "turn", model: "mock-model", usage }]);
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: "mock-model", usage }]);
  });

  it("commits are idempotent: re-sending the commit that carried the usage is a replay and usage is not counted twice", async () => {
    const store = new CapturingStore();
    const usage = { inputTokens: 12, outputTokens: 4, cachedInputTokens: 1, reasoningTokens: 2 };
    const { runtime } = await createRuntime({ steps: [textStep("Stored answer", { usage })], store });

    await runtime.streamTurn({ ...textInput("where did this go?"), traceTurnId: "turn-1" });

    // The usage goes once, with the first commit that stores the answer; the final commit adds none.
    const carrying = store.commits.filter(({ commit }) => commit.usageDeltas.length > 0);
    expect(carrying).toHaveLength(1);
    const [sent] = carrying;
    if (!sent) throw new Error("no commit carried the usage");
    expect(sent.commit.graph).not.toEqual({ type: "append", nodes: [] });
    expect(sent.result.replayed).toBe(false);
    expect(sent.commit.usageDeltas).toEqual([{ source: "turn", model: "mock-model", usage }]);
    const before = await store.loadSession({ type: "full_graph" });

    const replay = await store.commit(structuredClone(sent.commit));

    expect(replay).toEqual({ headRevision: sent.result.headRevision, commitId: sent.commit.commitId, replayed: true });
    const after = await store.loadSession({ type: "full_graph" });
    expect(after?.headRevision).toBe(before?.headRevision);
    expect(after?.tokenLedger).toEqual([{ source: "turn", model: "mock-model", usage }]);
    expect(after?.graph).toEqual(before?.graph);
    // The same id with other content is a conflict, and writes nothing.
    const tampered = structuredClone(sent.commit);
    tampered.usageDeltas = [{ source: "turn", model: "mock-model", usage: { ...usage, inputTokens: 99 } }];
    await expect(store.commit(tampered)).rejects.toMatchObject({ code: "commit_id_conflict" });
    expect((await store.loadSession({ type: "full_graph" }))?.tokenLedger).toEqual([{ source: "turn", model: "mock-model", usage }]);
    // Every commit of the turn carries an id derived from the turn id.
    expect(store.commits.every(({ commit }) => commit.commitId.startsWith("turn-1:"))).toBe(true);
  });
});
