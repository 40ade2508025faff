import { InMemorySessionDatabase, LashRuntime, type TurnStream } from "@lash/core";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/testkit";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it, vi } from "vitest";
import { createLashMcpServer } from "../src/index.js";

/** The turns the server started, to see how they ended. */
let started: TurnStream[] = [];

async function connected(model: ScriptedProvider) {
  started = [];
  const database = new InMemorySessionDatabase();
  let next = 0;
  const server = createLashMcpServer({
    openSession: async (sessionId) => {
      const id = sessionId ?? `session-${++next}`;
      if (sessionId !== undefined && (await database.openSession(sessionId).loadSessionMeta()) === undefined)
        throw new Error(`no session ${sessionId}`);
      const store = database.openSession(id);
      if (sessionId === undefined)
        await store.saveSessionMeta({
          sessionId: id,
          sessionName: id,
          createdAt: new Date().toISOString(),
          model: "scripted-model",
          relation: { type: "root" },
        });
      const runtime = await LashRuntime.builder().withProvider(model).withStore(store).build();
      const streamTurn = runtime.streamTurn.bind(runtime);
      runtime.streamTurn = (...args) => {
        const turn = streamTurn(...args);
        started.push(turn);
        return turn;
      };
      return { sessionId: id, runtime };
    },
    listSessions: async ({ limit }) =>
      (await database.listSessions({ limit })).sessions.map((session) => ({ sessionId: session.sessionId })),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "test-client", version: "1.0.0" });
  await client.connect(clientSide);
  return client;
}

describe("createLashMcpServer", () => {
  it("runs turns on new and continued sessions, with progress, and reports usage", async () => {
    const model = new ScriptedProvider([
      textStep("Hello there.", { chunks: 3, usage: usage(100, 5) }),
      textStep("Still me.", { usage: usage(120, 4) }),
    ]);
    const client = await connected(model);
    const progress: string[] = [];
    const first = await client.callTool({ name: "run_turn", arguments: { prompt: "Hi" } }, CallToolResultSchema, {
      onprogress: (update) => progress.push(update.message ?? ""),
    });
    expect(first.content).toEqual([{ type: "text", text: "Hello there." }]);
    const sessionId = (first.structuredContent as { sessionId: string }).sessionId;
    expect(first.structuredContent).toMatchObject({ sessionId: "session-1", answer: "Hello there.", outcome: { type: "finished" } });
    expect(progress[0]).toBe("model call");
    expect(progress.slice(1).join("")).toBe("Hello there.");

    const second = await client.callTool({ name: "run_turn", arguments: { prompt: "Again", sessionId } });
    expect(second.structuredContent).toMatchObject({ sessionId, turnIndex: 2, answer: "Still me." });
    // The continued session sent the first exchange back to the model.
    expect(JSON.stringify(model.requests[1]?.messages)).toContain("Hello there.");

    const listed = await client.callTool({ name: "list_sessions", arguments: {} });
    expect(listed.structuredContent).toEqual({ sessions: [{ sessionId }] });
    const spent = await client.callTool({ name: "session_usage", arguments: { sessionId } });
    expect(spent.structuredContent).toMatchObject({ sessionId, total: { inputTokens: 220, outputTokens: 9 } });
  });

  it("answers an unknown session with a tool error, and a tool call's progress", async () => {
    const model = new ScriptedProvider([toolCallStep([{ name: "missing_tool", args: {} }]), textStep("no such tool")]);
    const client = await connected(model);
    const unknown = await client.callTool({ name: "run_turn", arguments: { prompt: "Hi", sessionId: "nope" } });
    expect(unknown).toMatchObject({ isError: true, content: [{ type: "text", text: "no session nope" }] });
    const progress: string[] = [];
    await client.callTool({ name: "run_turn", arguments: { prompt: "Use a tool" } }, CallToolResultSchema, {
      onprogress: (update) => progress.push(update.message ?? ""),
    });
    expect(progress).toContain("tool missing_tool {}");
    expect(progress).toContain("tool missing_tool: failure");
  });

  it("cancels the turn when the client cancels the request; what it produced is stored", async () => {
    const model = new ScriptedProvider([{ ...textStep("too late"), delayMs: 60_000 }]);
    const client = await connected(model);
    const controller = new AbortController();
    const progress: string[] = [];
    const call = client.callTool({ name: "run_turn", arguments: { prompt: "Take your time" } }, CallToolResultSchema, {
      signal: controller.signal,
      onprogress: (update) => progress.push(update.message ?? ""),
    });
    await vi.waitFor(() => expect(progress).toContain("model call"));
    controller.abort();
    await expect(call).rejects.toThrow();
    const turn = await started[0];
    expect(turn?.outcome).toMatchObject({ type: "stopped", stop: { type: "cancelled" } });
  });
});
