import { LashRuntime } from "@lash/core";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpToolProvider, type McpToolProvider } from "../src/index.js";
import { type HttpTestServer, startHttpTestServer } from "./fixtures/http-test-server.js";
import { eventually } from "./mcp-helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: { legacySse?: boolean } = {}): Promise<HttpTestServer> {
  const server = await startHttpTestServer(options);
  cleanups.push(() => server.close());
  return server;
}

function provider(servers: Record<string, unknown>, onToolListChanged?: (server: string) => void): McpToolProvider {
  const tools = createMcpToolProvider({ servers, ...(onToolListChanged === undefined ? {} : { onToolListChanged }) });
  cleanups.push(() => tools.close());
  return tools;
}

describe("MCP tools over HTTP in a lash turn", () => {
  it("calls a Streamable HTTP server's tools with the configured headers", async () => {
    const server = await serve();
    const tools = provider({ remote: { url: server.url, headers: { Authorization: "Bearer secret-1" } } });
    const model = new ScriptedProvider([
      toolCallStep([
        { name: "remote__echo", args: { text: "over http" } },
        { name: "remote__whoami", args: {} },
      ]),
      textStep("done"),
    ]);
    const runtime = await LashRuntime.builder().withProvider(model).withToolProvider(tools).build();
    const turn = await runtime.runTurn("go");
    expect(turn.toolCalls.map((call) => call.output.outcome)).toEqual([
      { status: "success", payload: "echo: over http" },
      { status: "success", payload: "Bearer secret-1" },
    ]);
    expect(tools.status()[0]).toMatchObject({ server: "remote", state: "connected", transport: "streamable-http" });
  });

  it("lists the tools again after notifications/tools/list_changed", async () => {
    const server = await serve();
    const changed: string[] = [];
    const tools = provider({ remote: { url: server.url } }, (name) => changed.push(name));
    const model = new ScriptedProvider([toolCallStep([{ name: "remote__add_tool", args: {} }]), textStep("added"), textStep("seen")]);
    const runtime = await LashRuntime.builder().withProvider(model).withToolProvider(tools).build();
    await runtime.runTurn("add a tool");
    // Over HTTP the notification comes on the session's own event stream, apart from the call's answer.
    await eventually(() => changed.includes("remote"), "the server's notification arrived");
    await runtime.runTurn("what now?");
    expect(model.requests[1]?.tools?.map((spec) => spec.name)).not.toContain("remote__extra");
    expect(model.requests[2]?.tools?.map((spec) => spec.name)).toContain("remote__extra");
  });

  it("cancels a call over HTTP when the turn is cancelled", async () => {
    const server = await serve();
    const tools = provider({ remote: { url: server.url } });
    const controller = new AbortController();
    const runtime = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([toolCallStep([{ name: "remote__hang", args: {} }]), textStep("never")]))
      .withToolProvider(tools)
      .build();
    const running = runtime.runTurn("hang", { signal: controller.signal });
    await eventually(() => server.events.includes("hang started"), "the call reached the server");
    controller.abort();
    const turn = await running;
    expect(turn.outcome).toMatchObject({ type: "stopped", stop: { type: "cancelled" } });
    await eventually(() => server.events.some((line) => line.startsWith("hang cancelled")), "the server saw the cancellation");
  });

  it("falls back to HTTP+SSE for a server that only speaks the older transport", async () => {
    const server = await serve({ legacySse: true });
    const tools = provider({ old: { url: server.url, headers: { Authorization: "Bearer old" } } });
    const model = new ScriptedProvider([toolCallStep([{ name: "old__echo", args: { text: "sse" } }]), textStep("done")]);
    const runtime = await LashRuntime.builder().withProvider(model).withToolProvider(tools).build();
    const turn = await runtime.runTurn("go");
    expect(turn.toolCalls[0]?.output.outcome).toEqual({ status: "success", payload: "echo: sse" });
    expect(tools.status()[0]).toMatchObject({ transport: "sse", state: "connected" });
    expect(server.authorizations).toContain("Bearer old");
  });

  it("reports a server that does not answer as a startup failure naming it", async () => {
    const server = await serve();
    const url = server.url;
    await server.close();
    cleanups.pop();
    const tools = provider({ gone: { url, startupTimeoutSeconds: 2 } });
    const status = await tools.connect();
    expect(status[0]).toMatchObject({
      server: "gone",
      state: "failed",
      lastError: { server: "gone", problem: "startup", code: "tool_failure" },
    });
    expect(status[0]?.lastError?.message).toMatch(/^MCP server `gone`: could not start or connect/);
  });
});
