import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTool, LashRuntime, READ_TOOL_OUTPUT_NAME, RecordingTurnActivitySink, RuntimeEnvironment, textInput } from "@lash/core";
import type { LlmRequest, LlmResponse, ModelProvider, ProviderCallOptions, TokenLedgerEntry, TurnActivity } from "@lash/protocol";
import { addTokenUsage, MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { createSqlSessionDatabase, type SqlSessionDatabase } from "@lash/stores/sql";
import { ScriptedProvider, type ScriptedStep, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { LocalBackgroundTaskHost } from "../local/local-background-task-host.js";
import type { SubagentOptions } from "./subagent-options.js";
import { createSubagentTools, PARENT_TURN_CANCELLED } from "./subagent-tools.js";

const PARENT_MODEL = "parent-model";

/**
 * The model: one scripted provider per model name. Parent and children run concurrently, so one
 * shared script would be consumed in a racy order; routing by the request's model keeps each
 * session's script its own.
 */
function routedProvider(
  scripts: Record<string, readonly ScriptedStep[]>,
): ModelProvider & { readonly scripted: Map<string, ScriptedProvider> } {
  const scripted = new Map(
    Object.entries(scripts).map(([model, steps]) => [model, new ScriptedProvider(steps, { providerId: "routed", defaultModel: model })]),
  );
  return {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: "routed",
    defaultModel: PARENT_MODEL,
    scripted,
    doComplete(request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse> {
      const provider = scripted.get(request.model);
      if (provider?.doComplete === undefined) throw new Error(`no script for model \`${request.model}\``);
      return provider.doComplete(request, options);
    },
  };
}

/** A parent model whose next step is computed from the request (to use ids only known at run time). */
function dynamicModel(
  model: string,
  steps: readonly ((request: LlmRequest) => ScriptedStep)[],
): ModelProvider & { readonly requests: LlmRequest[] } {
  const requests: LlmRequest[] = [];
  return {
    specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
    providerId: "dynamic",
    defaultModel: model,
    requests,
    doComplete(request: LlmRequest, options: ProviderCallOptions): Promise<LlmResponse> {
      const step = steps[requests.length];
      requests.push(request);
      if (step === undefined) throw new Error(`unexpected call #${requests.length} to \`${model}\``);
      const scripted = new ScriptedProvider([step(request)], { providerId: "dynamic", defaultModel: model });
      if (scripted.doComplete === undefined) throw new Error("a scripted provider completes");
      return scripted.doComplete(request, options);
    },
  };
}

/** The JSON a tool returned to the model in the request's last tool result. */
function lastToolResult(request: LlmRequest): Record<string, unknown> {
  for (const message of [...request.messages].reverse()) {
    for (const block of [...message.blocks].reverse())
      if (block.type === "tool_result") return JSON.parse(block.content) as Record<string, unknown>;
  }
  throw new Error("no tool result in the request");
}

const CHILD_A_USAGE = { inputTokens: 7, outputTokens: 2, cachedInputTokens: 4, reasoningTokens: 1 };
const CHILD_B_USAGE = { inputTokens: 5, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0 };

function byModel(entries: readonly TokenLedgerEntry[]): TokenLedgerEntry[] {
  return [...entries].sort((left, right) => `${left.source}/${left.model}`.localeCompare(`${right.source}/${right.model}`));
}

describe("subagents end to end (scripted model, SQLite stores, local host)", () => {
  let folder: string;
  let database: SqlSessionDatabase;
  let host: LocalBackgroundTaskHost;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), "lash-subagents-"));
    database = createSqlSessionDatabase({ connection: `sqlite:${join(folder, "lash.db")}` });
    await database.migrateToLatest();
    host = new LocalBackgroundTaskHost();
  });

  afterEach(async () => {
    await host.close();
    await database.destroy();
    await rm(folder, { recursive: true, force: true });
  });

  async function parentRuntime(provider: ModelProvider, options: SubagentOptions = {}): Promise<LashRuntime> {
    const environment = RuntimeEnvironment.builder()
      .withProvider(provider)
      .withSessionStoreFactory(database)
      .withBackgroundTaskHost(host)
      .withToolProvider(createSubagentTools(options))
      .build();
    return LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId("root")
      .withPolicy({ model: PARENT_MODEL, maxContextTokens: 100_000 })
      .withStore(database.openSession("root"))
      .build();
  }

  it("a parent turn spawns two children, awaits them, and answers; outputs, activities and ledger are right", async () => {
    const provider = routedProvider({
      [PARENT_MODEL]: [
        toolCallStep(
          [
            { callId: "spawn-a", name: "spawn_agent", args: { task: "find A", model: "child-a" } },
            { callId: "spawn-b", name: "spawn_agent", args: { task: "find B", model: "child-b" } },
          ],
          { usage: { inputTokens: 10, outputTokens: 3 } },
        ),
        toolCallStep([{ callId: "await-all", name: "await_agent", args: {} }], { usage: { inputTokens: 20, outputTokens: 4 } }),
        textStep("A and B are both found", { usage: { inputTokens: 30, outputTokens: 5 } }),
      ],
      "child-a": [textStep("answer A", { usage: CHILD_A_USAGE })],
      "child-b": [textStep("answer B", { usage: CHILD_B_USAGE })],
    });
    const runtime = await parentRuntime(provider);
    const activities = new RecordingTurnActivitySink();

    const turn = await runtime.streamTurn(textInput("find A and B"), { activities });

    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "A and B are both found" } });
    const spawned = turn.toolCalls.filter((call) => call.tool === "spawn_agent").map((call) => call.output.outcome);
    expect(spawned).toHaveLength(2);
    for (const outcome of spawned)
      expect(outcome).toMatchObject({ status: "success", payload: { agent_id: expect.stringMatching(/^subagent-/) } });
    const awaited = turn.toolCalls.find((call) => call.tool === "await_agent")?.output.outcome;
    expect(awaited?.status).toBe("success");
    const agents = (awaited!.payload as { agents: { agent_id: string; state: string; output: string }[] }).agents;
    expect(agents.map((agent) => [agent.state, agent.output]).sort()).toEqual([
      ["completed", "answer A"],
      ["completed", "answer B"],
    ]);

    // Child usage: live activities, the turn's children usage, and the parent ledger under `subagent`.
    const childUsage = activities.activities.filter(
      (activity): activity is Extract<TurnActivity, { type: "child_usage" }> => activity.type === "child_usage",
    );
    expect(childUsage.map((activity) => [activity.source, activity.model, activity.usage]).sort()).toEqual([
      ["subagent", "child-a", CHILD_A_USAGE],
      ["subagent", "child-b", CHILD_B_USAGE],
    ]);
    expect(byModel(turn.childrenUsage)).toEqual([
      { source: "subagent", model: "child-a", usage: CHILD_A_USAGE },
      { source: "subagent", model: "child-b", usage: CHILD_B_USAGE },
    ]);
    expect(turn.tokenUsage).toEqual({ inputTokens: 60, outputTokens: 12, cachedInputTokens: 0, reasoningTokens: 0 });
    const ledger = byModel(runtime.tokenLedger());
    expect(ledger).toEqual([
      { source: "subagent", model: "child-a", usage: CHILD_A_USAGE },
      { source: "subagent", model: "child-b", usage: CHILD_B_USAGE },
      { source: "turn", model: PARENT_MODEL, usage: { inputTokens: 60, outputTokens: 12, cachedInputTokens: 0, reasoningTokens: 0 } },
    ]);
    const stored = await database.openSession("root").loadSession({ type: "full_graph" });
    expect(byModel(stored?.tokenLedger ?? [])).toEqual(ledger);

    // Each child is a stored child session and a completed `subagent` task of the parent.
    const tasks = await runtime.backgroundTasks().list({ includeTerminal: true });
    expect(tasks.map((task) => [task.kind, task.state, task.producer])).toEqual([
      ["subagent", "completed", "subagent"],
      ["subagent", "completed", "subagent"],
    ]);
    for (const task of tasks) {
      const childId = task.childSessionId ?? "";
      expect(task.id).toBe(`subagent:${childId}`);
      const child = database.openSession(childId);
      expect(await child.loadSessionMeta()).toMatchObject({
        sessionId: childId,
        parentSessionId: "root",
        relation: { type: "child", parentSessionId: "root" },
      });
      const childRead = await child.loadSession({ type: "full_graph" });
      expect(childRead?.config.model).toMatch(/^child-[ab]$/);
    }
    // Closed after their turn: the parent manages no child sessions any more.
    expect(runtime.sessions.sessionIds).toEqual([]);
    for (const scripted of provider.scripted.values()) scripted.assertAllConsumed();
  });

  it("list_agents and cancel_agent; a child spawned with a tool subset sees only those tools", async () => {
    const child = new ScriptedProvider([{ events: [{ type: "sleep", ms: 600_000 }], response: {} }], {
      providerId: "routed",
      defaultModel: "child-slow",
    });
    let agentId = "";
    const parent = dynamicModel(PARENT_MODEL, [
      () => toolCallStep([{ callId: "spawn", name: "spawn_agent", args: { task: "wait", model: "child-slow", tools: ["list_agents"] } }]),
      (request) => {
        agentId = String(lastToolResult(request).agent_id);
        return toolCallStep([{ callId: "list", name: "list_agents", args: {} }]);
      },
      () => toolCallStep([{ callId: "cancel", name: "cancel_agent", args: { agent_id: agentId } }]),
      () => toolCallStep([{ callId: "unknown", name: "await_agent", args: { agent_id: "nobody" } }]),
      () => textStep("stopped it"),
    ]);
    const provider: ModelProvider = {
      ...parent,
      doComplete: (request, options) => {
        if (request.model === PARENT_MODEL) return parent.doComplete?.(request, options) ?? Promise.reject(new Error("no parent model"));
        return child.doComplete?.(request, options) ?? Promise.reject(new Error("no child model"));
      },
    };
    const runtime = await parentRuntime(provider);

    const turn = await runtime.runTurn(textInput("start and stop"));

    expect(turn.assistantOutput.safeText).toBe("stopped it");
    const outputs = Object.fromEntries(turn.toolCalls.map((call) => [call.tool, call.output.outcome]));
    expect(outputs.list_agents).toEqual({ status: "success", payload: { agents: [{ agent_id: agentId, state: "running" }] } });
    expect(outputs.cancel_agent).toEqual({
      status: "success",
      payload: { agent_id: agentId, state: "cancelled", error: "cancelled by the parent agent" },
    });
    expect(outputs.await_agent).toMatchObject({ status: "failure", payload: { code: "unknown_agent" } });
    // Besides the built-in tools (the mode's `batch`, the runtime's `read_tool_output`), only the subset.
    const childTools = child.requests[0]?.tools
      ?.map((tool) => tool.name)
      .filter((name) => name !== "batch" && name !== READ_TOOL_OUTPUT_NAME);
    expect(childTools).toEqual(["list_agents"]);
  });

  it("cancelling the parent turn cancels the child it spawned", async () => {
    const controller = new AbortController();
    const provider = routedProvider({
      [PARENT_MODEL]: [
        toolCallStep([{ callId: "spawn", name: "spawn_agent", args: { task: "take forever", model: "child-slow" } }]),
        toolCallStep([{ callId: "await", name: "await_agent", args: {} }]),
      ],
      // The child's model call cancels the parent turn, then runs until its own signal aborts.
      "child-slow": [
        { expect: () => controller.abort(new Error("user pressed stop")), events: [{ type: "sleep", ms: 600_000 }], response: {} },
      ],
    });
    const runtime = await parentRuntime(provider);

    const turn = await runtime.runTurn(textInput("go"), { signal: controller.signal });

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    const [task] = await runtime.backgroundTasks().list({ includeTerminal: true });
    expect(task?.kind).toBe("subagent");
    const ended = await runtime.backgroundTasks().waitFor(task?.id ?? "");
    expect(ended.state).toBe("cancelled");
    expect(ended.failure?.summary).toBe(PARENT_TURN_CANCELLED);
  });

  it("depth and fan-out limits are clear tool errors; a missing host is one too", async () => {
    const provider = routedProvider({
      [PARENT_MODEL]: [
        toolCallStep([
          { callId: "one", name: "spawn_agent", args: { task: "first", model: "child-wait" } },
          { callId: "two", name: "spawn_agent", args: { task: "second", model: "child-wait" } },
        ]),
        textStep("done"),
      ],
      "child-wait": [{ events: [{ type: "sleep", ms: 600_000 }], response: {} }],
    });
    const runtime = await parentRuntime(provider, { maxLiveChildren: 1, maxDepth: 1 });
    const turn = await runtime.runTurn(textInput("go"));
    expect(turn.toolCalls.map((call) => call.tool)).toEqual(["spawn_agent", "spawn_agent"]);
    const failures = turn.toolCalls.filter((call) => call.output.outcome.status === "failure");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.output.outcome.payload).toMatchObject({ code: "subagent_fan_out_exceeded" });
    expect(JSON.stringify(failures[0]?.output.outcome.payload)).toContain("at most 1");
    const cancelled = await runtime.backgroundTasks().cancelAll("test over");
    for (const task of cancelled) expect((await runtime.backgroundTasks().waitFor(task.id)).state).toBe("cancelled");

    const noHost = RuntimeEnvironment.builder()
      .withProvider(routedProvider({ [PARENT_MODEL]: [toolCallStep([{ name: "list_agents", args: {} }]), textStep("ok")] }))
      .withToolProvider(createSubagentTools())
      .build();
    const plain = await LashRuntime.builder()
      .withEnvironment(noHost)
      .withPolicy({ model: PARENT_MODEL, maxContextTokens: 100_000 })
      .build();
    const plainTurn = await plain.runTurn(textInput("list"));
    expect(plainTurn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { code: "subagents_unavailable" } });
    expect(() => plain.backgroundTasks()).toThrow(/withBackgroundTaskHost/);
  });

  it("a child at the depth limit cannot spawn further", async () => {
    const provider = routedProvider({
      [PARENT_MODEL]: [
        toolCallStep([{ callId: "spawn", name: "spawn_agent", args: { task: "delegate again", model: "child-deep" } }]),
        toolCallStep([{ callId: "await", name: "await_agent", args: {} }]),
        textStep("done"),
      ],
      "child-deep": [toolCallStep([{ callId: "nested", name: "spawn_agent", args: { task: "too deep" } }]), textStep("could not delegate")],
    });
    const runtime = await parentRuntime(provider, { maxDepth: 1 });
    const turn = await runtime.runTurn(textInput("go"));
    const awaited = turn.toolCalls.find((call) => call.tool === "await_agent")?.output.outcome.payload as { agents: { output: string }[] };
    expect(awaited.agents.map((agent) => agent.output)).toEqual(["could not delegate"]);
    const [task] = await runtime.backgroundTasks().list({ includeTerminal: true });
    const childRead = await database.openSession(task?.childSessionId ?? "").loadSession({ type: "full_graph" });
    const nested = JSON.stringify(childRead?.graph.nodes ?? []);
    expect(nested).toContain("subagent_depth_exceeded");
  });

  it("a child that needs approval suspends: its task waits, await_agent and pendingApprovals report it, resuming finishes it with usage counted once", async () => {
    const written: string[] = [];
    const write = defineTool({
      name: "write",
      description: "Write a file.",
      inputSchema: z.object({ path: z.string() }),
      needsApproval: true,
      describeApproval: ({ path }) => `write ${path}`,
      execute: ({ path }) => {
        written.push(path);
        return `wrote ${path}`;
      },
    });
    const childScript = new ScriptedProvider(
      [
        toolCallStep([{ callId: "w1", name: "write", args: { path: "a.txt" } }], { usage: CHILD_A_USAGE }),
        textStep("a.txt written", { usage: CHILD_B_USAGE }),
      ],
      { providerId: "routed", defaultModel: "child-writer" },
    );
    let agentId = "";
    const parent = dynamicModel(PARENT_MODEL, [
      () => toolCallStep([{ callId: "spawn", name: "spawn_agent", args: { task: "write a.txt", model: "child-writer" } }]),
      (request) => {
        agentId = String(lastToolResult(request).agent_id);
        return toolCallStep([{ callId: "await", name: "await_agent", args: { agent_id: agentId } }]);
      },
      () => textStep("The subagent waits for your approval."),
      () => toolCallStep([{ callId: "await-again", name: "await_agent", args: { agent_id: agentId } }]),
      () => textStep("Done."),
    ]);
    const provider: ModelProvider = {
      specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
      providerId: "routed",
      defaultModel: PARENT_MODEL,
      doComplete: (request, options) => {
        const target = request.model === PARENT_MODEL ? parent : childScript;
        if (target.doComplete === undefined) throw new Error("a scripted provider completes");
        return target.doComplete(request, options);
      },
    };
    const environment = RuntimeEnvironment.builder()
      .withProvider(provider)
      .withSessionStoreFactory(database)
      .withBackgroundTaskHost(host)
      .withToolProvider(createSubagentTools())
      .withTools([write])
      .build();
    const runtime = await LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId("root")
      .withPolicy({ model: PARENT_MODEL, maxContextTokens: 100_000 })
      .withStore(database.openSession("root"))
      .build();

    const first = await runtime.runTurn(textInput("have a subagent write a.txt"));
    expect(first.outcome.type).toBe("finished");
    const awaited = first.toolCalls.find((call) => call.callId === "await")?.output.outcome;
    const report =
      awaited?.status === "success"
        ? (awaited.payload as { state: string; awaiting_approval: { id: string; tool: string; summary: string }[] })
        : undefined;
    expect(report?.state).toBe("waiting");
    expect(report?.awaiting_approval.map((request) => [request.tool, request.summary])).toEqual([["write", "write a.txt"]]);
    expect(written).toEqual([]);
    expect((await runtime.backgroundTasks().get(`subagent:${agentId}`))?.state).toBe("waiting");
    const pending = await runtime.pendingApprovals();
    expect(pending.map((request) => [request.sessionId, request.id])).toEqual([[agentId, report?.awaiting_approval[0]?.id]]);

    const resumed = await runtime.sessions.resumeTurn(agentId, {
      decisions: [{ id: pending[0]?.id ?? "", decision: "approve" }],
      decidedBy: "alice",
    }).result;
    expect(resumed.outcome.type).toBe("finished");
    expect(written).toEqual(["a.txt"]);
    const task = await runtime.backgroundTasks().waitFor(`subagent:${agentId}`);
    expect(task.state).toBe("completed");
    expect(await runtime.pendingApprovals()).toEqual([]);

    const second = await runtime.runTurn(textInput("is it done?"));
    const again = second.toolCalls.find((call) => call.callId === "await-again")?.output.outcome;
    expect(again).toMatchObject({ status: "success", payload: { state: "completed", output: "a.txt written" } });
    // The child's two model calls reach the parent's ledger once each, across the suspension.
    const subagentUsage = runtime.tokenLedger().filter((entry) => entry.source === "subagent");
    expect(subagentUsage).toEqual([{ source: "subagent", model: "child-writer", usage: addTokenUsage(CHILD_A_USAGE, CHILD_B_USAGE) }]);
  });
});
