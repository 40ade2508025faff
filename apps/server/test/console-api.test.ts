import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import type { TraceRecord } from "@lash/protocol";
import {
  sessionGraphResponseSchema,
  sessionListResponseSchema,
  tenantUsageReportSchema,
  turnTraceListResponseSchema,
  turnTraceResponseSchema,
} from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { findConsoleDirectory, openServerStore, type RunningServer, startServer } from "../src/index.js";
import { createSession, requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const lookup = defineTool({
  name: "lookup_order",
  description: "An order's status.",
  inputSchema: z.object({ id: z.number() }),
  execute: ({ id }) => ({ id, status: "shipped" }),
});

describe("what the console reads", () => {
  it("lists sessions with their turns, last activity and tokens, and searches them by id", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Hi.", { usage: usage(100, 20) })]) });
    const first = await createSession(server);
    const second = await createSession(server);
    expect((await requestJson(`${server.url}/v1/sessions/${first}/turns`, { body: { input: "Hello" } })).status).toBe(200);

    const listed = sessionListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions`)).body);
    const ran = listed.sessions.find((session) => session.id === first);
    expect(ran).toMatchObject({ turnCount: 1, tokenUsage: { inputTokens: 100, outputTokens: 20 } });
    expect(ran?.lastActivityAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // Server sessions are named after their id: no title of their own.
    expect(ran?.title).toBeUndefined();

    const searched = sessionListResponseSchema.parse(
      (await requestJson(`${server.url}/v1/sessions?q=${second.slice(0, 13).toUpperCase()}`)).body,
    );
    expect(searched.sessions.map((session) => session.id)).toEqual([second]);
    expect((await requestJson(`${server.url}/v1/sessions?q=`)).status).toBe(400);
  });

  it("serves the session graph with every node and the active leaf, and a turn's trace records", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ name: "lookup_order", args: { id: 7 } }], { usage: usage(50, 5) }),
        textStep("Order 7 shipped.", { chunks: 3, usage: usage(80, 6) }),
      ]),
      profile: { tools: [lookup] },
    });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Order 7?" } });
    expect(turn.status).toBe(200);
    const turnId = (turn.body as { turnId: string }).turnId;

    const graph = sessionGraphResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/graph`)).body);
    expect(graph.children).toEqual([]);
    expect(graph.leafNodeId).toBe(graph.nodes.at(-1)?.nodeId);
    const kinds = graph.nodes.map((node) => node.payload.kind);
    expect(kinds).toContain("message");
    expect(kinds).toContain("tool_invocation");

    const trace = turnTraceResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/trace`)).body);
    expect(trace.complete).toBe(true);
    expect(trace.truncated).toBe(false);
    const types = trace.records.map((record) => record.type);
    expect(types[0]).toBe("turn_started");
    expect(types.at(-1)).toBe("turn_completed");
    expect(types.filter((type) => type === "llm_call_completed")).toHaveLength(2);
    expect(types).toContain("tool_call_completed");
    expect(types).toContain("commit");
    const streamed = trace.records.find((record) => record.type === "llm_call_completed" && record.streamSummary.textDeltaCount > 0);
    expect(streamed?.type === "llm_call_completed" ? streamed.streamSummary.firstTokenLatencyMs : null).not.toBeNull();

    const traces = turnTraceListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/traces`)).body);
    expect(traces.turns).toEqual([expect.objectContaining({ turnId, turnIndex: 1, complete: true })]);

    const unknown = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/no-such-turn/trace`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "turn_not_found" } } });
    expect((await requestJson(`${server.url}/v1/sessions/no-such-session/graph`)).status).toBe(404);
  });

  it("still gives the host's own trace sink every record", async () => {
    const seen: TraceRecord[] = [];
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("Hi.")]),
      profile: { configureEnvironment: (builder) => builder.withTraceSink({ record: (record) => void seen.push(record) }) },
    });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hello" } });
    const turnId = (turn.body as { turnId: string }).turnId;
    expect(seen.map((record) => record.type)).toContain("turn_completed");
    const trace = turnTraceResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/trace`)).body);
    expect(trace.records.map((record) => record.type)).toEqual(seen.map((record) => record.type));
  });

  it("keeps no traces with maxTracedTurns: 0", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Hi.")]), limits: { maxTracedTurns: 0 } });
    const sessionId = await createSession(server);
    const turn = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hello" } });
    const turnId = (turn.body as { turnId: string }).turnId;
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns/${turnId}/trace`)).status).toBe(404);
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/traces`)).body).toEqual({ turns: [] });
  });

  it("sums the tenant's usage over its sessions, by source and model, and by day", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("One.", { usage: usage(100, 10) }), textStep("Two.", { usage: usage(200, 20) })], {
        defaultModel: "gpt-5",
      }),
    });
    for (const input of ["First", "Second"]) {
      const sessionId = await createSession(server);
      expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input } })).status).toBe(200);
    }
    await createSession(server);
    const response = await requestJson(`${server.url}/v1/usage?days=7`);
    expect(response.status).toBe(200);
    const report = tenantUsageReportSchema.parse(response.body);
    expect(report).toMatchObject({ sessionCount: 3, truncated: false, usage: { inputTokens: 300, outputTokens: 30, totalTokens: 330 } });
    expect(report.rows).toEqual([
      expect.objectContaining({ source: "turn", model: "gpt-5", cost: expect.objectContaining({ priced: true }) }),
    ]);
    expect(report.daily).toHaveLength(7);
    const today = new Date().toISOString().slice(0, 10);
    expect(report.daily.at(-1)).toEqual({ date: today, totalTokens: 330, sessions: 3 });
    expect((await requestJson(`${server.url}/v1/usage?days=0`)).status).toBe(400);
    expect((await requestJson(`${server.url}/v1/usage?week=1`)).status).toBe(400);
  });
});

async function startWithConsole(directory: string | false): Promise<RunningServer> {
  const folder = await mkdtemp(join(tmpdir(), "lash-console-route-"));
  const running = await startServer({
    store: await openServerStore("memory:"),
    port: 0,
    profiles: { default: { provider: new ScriptedProvider([]) } },
    console: directory === false ? false : { directory },
  });
  cleanups.push(async () => {
    await running.close();
    await rm(folder, { recursive: true, force: true });
  });
  return running;
}

describe("the console's files at /", () => {
  it("serves index.html and hashed assets with their content types and safe headers", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-console-build-"));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    await mkdir(join(directory, "assets"));
    await writeFile(join(directory, "index.html"), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
    await writeFile(join(directory, "assets", "index-abc123.js"), "console.log('console');");
    await writeFile(join(directory, "assets", "index-abc123.css"), "body{}");
    await writeFile(join(directory, "secret.txt"), "not an asset");
    const running = await startWithConsole(directory);

    const page = await fetch(`${running.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const policy = page.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(await page.text()).toContain("/assets/index-abc123.js");

    const script = await fetch(`${running.url}/assets/index-abc123.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${running.url}/assets/index-abc123.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    for (const path of ["/assets/..%2Fsecret.txt", "/assets/.hidden.js", "/assets/missing.js", "/secret.txt"]) {
      const response = await fetch(`${running.url}${path}`);
      expect(response.status, path).toBe(404);
      await response.body?.cancel();
    }
  });

  it("says how to build it when the build is missing, and serves nothing with console: false", async () => {
    const missing = await startWithConsole(join(tmpdir(), "lash-console-nowhere"));
    const page = await fetch(`${missing.url}/`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("pnpm --filter @lash/console build");
    const none = await startWithConsole(false);
    const response = await fetch(`${none.url}/`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    await response.body?.cancel();
  });

  it("finds the console of the checkout the server runs from", () => {
    const found = findConsoleDirectory(undefined, join(process.cwd(), "src", "console"));
    // Built by the test run's build step; a checkout that has not built it finds none.
    if (found !== undefined) expect(found).toMatch(/apps[/\\]console[/\\]dist$/);
    expect(findConsoleDirectory(join(tmpdir(), "lash-console-nowhere"))).toBeUndefined();
  });
});
