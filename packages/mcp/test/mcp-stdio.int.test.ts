import { InMemoryAttachmentStore, LashRuntime } from "@lash/core";
import type { ToolCallRecord } from "@lash/protocol";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpToolProvider, McpServerError, type McpToolProvider } from "../src/index.js";
import { eventually, stdioTestServer } from "./mcp-helpers.js";

const providers: McpToolProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
});

function track(provider: McpToolProvider): McpToolProvider {
  providers.push(provider);
  return provider;
}

async function runTurn(
  tools: McpToolProvider,
  steps: ConstructorParameters<typeof ScriptedProvider>[0],
  options: { attachments?: InMemoryAttachmentStore; signal?: AbortSignal } = {},
) {
  const model = new ScriptedProvider(steps);
  let builder = LashRuntime.builder()
    .withProvider(model)
    .withToolProvider(tools)
    .withApprovals({ approve: () => ({ type: "approve", decidedBy: "test" }) });
  if (options.attachments !== undefined) builder = builder.withAttachmentStore(options.attachments);
  const runtime = await builder.build();
  const turn = await runtime.runTurn("go", options.signal === undefined ? {} : { signal: options.signal });
  return { turn, model };
}

function outcomeOf(call: ToolCallRecord | undefined) {
  return call?.output.outcome;
}

describe("MCP tools over stdio in a lash turn", () => {
  it("offers the server's tools as server__tool with their schemas, and runs a call in a turn", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const { turn, model } = await runTurn(tools, [toolCallStep([{ name: "test__echo", args: { text: "hi" } }]), textStep("done")]);
    const specs = model.requests[0]?.tools ?? [];
    const echo = specs.find((spec) => spec.name === "test__echo");
    expect(echo?.inputSchema).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(specs.map((spec) => spec.name)).toEqual(
      expect.arrayContaining(["test__echo", "test__delete_file", "test__weather", "test__hang"]),
    );
    expect(outcomeOf(turn.toolCalls[0])).toEqual({ status: "success", payload: "echo: hi" });
    expect(turn.outcome.type).toBe("finished");
    const status = tools.status()[0];
    expect(status).toMatchObject({
      server: "test",
      state: "connected",
      transport: "stdio",
      serverInfo: { name: "test-server", version: "1.2.3" },
    });
    expect(status?.tools.find((tool) => tool.name === "test__echo")?.needsApproval).toBe(false);
    expect(status?.tools.find((tool) => tool.name === "test__delete_file")?.needsApproval).toBe(true);
  });

  it("asks for approval for destructive tools and waits when nobody decides", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const runtime = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([toolCallStep([{ name: "test__delete_file", args: { path: "a.txt" } }])]))
      .withToolProvider(tools)
      .build();
    const turn = await runtime.runTurn("delete a.txt");
    expect(turn.outcome).toMatchObject({ type: "stopped", stop: { type: "awaiting_approval" } });
    if (turn.outcome.type !== "stopped" || turn.outcome.stop.type !== "awaiting_approval") throw new Error("expected a wait");
    expect(turn.outcome.stop.approvals[0]).toMatchObject({ tool: "test__delete_file", summary: 'test: delete_file {"path":"a.txt"}' });
  });

  it("maps structured content, images (into the attachment store) and isError", async () => {
    const server = stdioTestServer();
    const attachments = new InMemoryAttachmentStore();
    const tools = track(createMcpToolProvider({ servers: { test: server.config }, attachments }));
    const { turn, model } = await runTurn(
      tools,
      [
        toolCallStep([
          { name: "test__weather", args: { city: "Lisbon" } },
          { name: "test__picture", args: {} },
          { name: "test__fail", args: {} },
        ]),
        textStep("done"),
      ],
      { attachments },
    );
    expect(outcomeOf(turn.toolCalls[0])).toEqual({
      status: "success",
      payload: { content: [{ type: "text", text: '{"city":"Lisbon","celsius":21}' }], structuredContent: { city: "Lisbon", celsius: 21 } },
    });
    const picture = outcomeOf(turn.toolCalls[1]);
    expect(picture).toMatchObject({
      status: "success",
      payload: {
        content: [
          { type: "text", text: "here it is" },
          { type: "image", mediaType: "image/png" },
        ],
      },
    });
    const image = (picture?.payload as { content: { attachmentId?: string }[] } | undefined)?.content[1];
    expect(await attachments.get(image?.attachmentId ?? "")).toBeInstanceOf(Uint8Array);
    expect(outcomeOf(turn.toolCalls[2])).toMatchObject({
      status: "failure",
      payload: { class: "external", code: "mcp_tool_error", message: "MCP server `test`: the database is down" },
    });
    // The model read the failure and the turn went on.
    const lastRequest = JSON.stringify(model.requests[1]?.messages);
    expect(lastRequest).toContain("the database is down");
    expect(turn.outcome.type).toBe("finished");
  });

  it("fails a call that hangs past the timeout, tells the server, and goes on", async () => {
    const server = stdioTestServer({ callTimeoutSeconds: 0.5 });
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const { turn } = await runTurn(tools, [
      toolCallStep([{ name: "test__hang", args: {} }]),
      toolCallStep([{ name: "test__echo", args: { text: "still here" } }]),
      textStep("done"),
    ]);
    expect(outcomeOf(turn.toolCalls[0])).toMatchObject({ status: "failure", payload: { class: "timeout", code: "mcp_timeout" } });
    expect(outcomeOf(turn.toolCalls[1])).toEqual({ status: "success", payload: "echo: still here" });
    await eventually(() => server.readLog().some((line) => line.startsWith("hang cancelled")), "the server saw the cancellation");
  });

  it("cancels a running call when the turn is cancelled (the server gets notifications/cancelled)", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const controller = new AbortController();
    const running = runTurn(tools, [toolCallStep([{ name: "test__hang", args: {} }]), textStep("never")], { signal: controller.signal });
    await eventually(() => server.readLog().includes("hang started"), "the call reached the server");
    controller.abort();
    const { turn } = await running;
    expect(turn.outcome).toMatchObject({ type: "stopped", stop: { type: "cancelled" } });
    await eventually(() => server.readLog().some((line) => line.startsWith("hang cancelled")), "the server saw the cancellation");
  });

  it("turns a crash mid-call into a failure naming the server, and restarts the server on the next call", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const { turn } = await runTurn(tools, [
      toolCallStep([{ name: "test__crash", args: {} }]),
      toolCallStep([{ name: "test__echo", args: { text: "back" } }]),
      textStep("done"),
    ]);
    const crash = outcomeOf(turn.toolCalls[0]);
    expect(crash).toMatchObject({ status: "failure", payload: { class: "unavailable", code: "mcp_disconnected" } });
    expect(crash?.status === "failure" ? crash.payload.message : "").toMatch(/^MCP server `test`: the connection was lost during the call/);
    expect(outcomeOf(turn.toolCalls[1])).toEqual({ status: "success", payload: "echo: back" });
    expect(server.readLog().filter((line) => line.startsWith("started"))).toHaveLength(2);
    expect(turn.outcome.type).toBe("finished");
  });

  it("backs off after crashes in a row: the call after a second crash fails at once, naming the server", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const { turn } = await runTurn(tools, [
      toolCallStep([{ name: "test__crash", args: {} }]),
      toolCallStep([{ name: "test__crash", args: {} }]),
      toolCallStep([{ name: "test__echo", args: { text: "too soon" } }]),
      textStep("done"),
    ]);
    expect(turn.toolCalls.map((call) => call.output.outcome.status)).toEqual(["failure", "failure", "failure"]);
    const third = outcomeOf(turn.toolCalls[2]);
    expect(third?.status === "failure" ? third.payload.message : "").toMatch(
      /^MCP server `test`: not connected \(the connection was lost during the call.*\); the next attempt is in \d+ s$/,
    );
    // Two starts: the first, and the restart the second call made; the third call started nothing.
    expect(server.readLog().filter((line) => line.startsWith("started"))).toHaveLength(2);
  });

  it("turns an answer that is not MCP into a protocol failure", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const { turn } = await runTurn(tools, [toolCallStep([{ name: "test__garbage", args: {} }]), textStep("done")]);
    expect(outcomeOf(turn.toolCalls[0])).toMatchObject({ status: "failure", payload: { code: "mcp_protocol" } });
    expect(turn.outcome.type).toBe("finished");
  });

  it("lists the tools again after notifications/tools/list_changed, for the next turn", async () => {
    const server = stdioTestServer();
    const tools = track(createMcpToolProvider({ servers: { test: server.config } }));
    const model = new ScriptedProvider([
      toolCallStep([{ name: "test__add_tool", args: {} }]),
      textStep("added"),
      toolCallStep([{ name: "test__extra", args: {} }]),
      textStep("done"),
    ]);
    const runtime = await LashRuntime.builder().withProvider(model).withToolProvider(tools).build();
    await runtime.runTurn("add a tool");
    expect(model.requests[1]?.tools?.map((spec) => spec.name)).not.toContain("test__extra");
    const second = await runtime.runTurn("use it");
    expect(model.requests[2]?.tools?.map((spec) => spec.name)).toContain("test__extra");
    expect(outcomeOf(second.toolCalls[0])).toEqual({ status: "success", payload: "extra!" });
  });

  it("reports a server that cannot start, naming it, while the turn and the other servers go on", async () => {
    const errors: McpServerError[] = [];
    const good = stdioTestServer();
    const tools = track(
      createMcpToolProvider({
        servers: { broken: { command: "/nonexistent/mcp-server" }, test: good.config },
        onServerError: (error) => errors.push(error),
      }),
    );
    const { turn, model } = await runTurn(tools, [toolCallStep([{ name: "test__echo", args: { text: "ok" } }]), textStep("done")]);
    expect(turn.outcome.type).toBe("finished");
    expect(model.requests[0]?.tools?.some((spec) => spec.name.startsWith("broken__"))).toBe(false);
    expect(errors[0]).toBeInstanceOf(McpServerError);
    expect(errors[0]).toMatchObject({ server: "broken", problem: "startup" });
    expect(tools.status().find((status) => status.server === "broken")).toMatchObject({ state: "failed", lastError: { server: "broken" } });
  });

  it("shares one server process between sessions and stops it on close", async () => {
    const server = stdioTestServer();
    const tools = createMcpToolProvider({ servers: { test: server.config } });
    for (const text of ["one", "two"]) {
      const { turn } = await runTurn(tools, [toolCallStep([{ name: "test__echo", args: { text } }]), textStep("done")]);
      expect(outcomeOf(turn.toolCalls[0])).toEqual({ status: "success", payload: `echo: ${text}` });
    }
    expect(server.readLog().filter((line) => line.startsWith("started"))).toHaveLength(1);
    await tools.close();
    expect(tools.status()[0]?.state).toBe("closed");
    await expect(tools.listTools()).resolves.toEqual([]);
  });
});
