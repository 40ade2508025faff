import { ScriptedProvider, textStep, toolCallStep, usage } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import { approvalListResponseSchema, turnResultSchema, usageReportSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createServerApp, openServerStore } from "../src/index.js";
import { createSession, gateTool, requestJson, startTestServer, type TestServer, waitUntil } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: TestServer | KeyedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** The samples of an exposition, by their name and label text exactly as written (`name{a="b"}`). */
function samples(text: string): Map<string, number> {
  const parsed = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    parsed.set(line.slice(0, space), line.slice(space + 1) === "+Inf" ? Number.POSITIVE_INFINITY : Number(line.slice(space + 1)));
  }
  return parsed;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${url}/metrics`, { headers });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

/** Every histogram series: its buckets never decrease, and the `+Inf` bucket equals the count. */
function expectConsistentHistograms(text: string, name: string): void {
  const parsed = samples(text);
  const series = new Map<string, number[]>();
  for (const [key, value] of parsed) {
    const match = new RegExp(`^${name}_bucket\\{(.*),le="[^"]+"\\}$`).exec(key);
    if (match === null) continue;
    const labels = match[1] ?? "";
    series.set(labels, [...(series.get(labels) ?? []), value]);
  }
  expect(series.size, name).toBeGreaterThan(0);
  for (const [labels, buckets] of series) {
    expect(buckets, labels).toEqual([...buckets].sort((left, right) => left - right));
    expect(buckets.at(-1), labels).toBe(parsed.get(`${name}_count{${labels}}`));
  }
}

describe("GET /metrics", () => {
  it("counts turns by outcome, tokens by kind, requests by route and status, and errors by code", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("Hello there.", { usage: usage(12, 3, 2, 1) })]),
    });
    const sessionId = await createSession(server);
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" } })).status).toBe(200);
    expect((await requestJson(`${server.url}/v1/sessions/no-such-session`)).status).toBe(404);
    expect((await requestJson(`${server.url}/v1/sessions`, { rawBody: "{" })).status).toBe(400);
    expect((await requestJson(`${server.url}/v1/no/such/route/${sessionId}`)).status).toBe(404);

    const scraped = await scrape(server.url);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    const parsed = samples(scraped.text);
    expect(parsed.get('lash_turns_started_total{resumed="false"}')).toBe(1);
    expect(parsed.get('lash_turns_finished_total{outcome="finished",reason="assistant_message"}')).toBe(1);
    expect(parsed.get('lash_turn_duration_seconds_count{outcome="finished"}')).toBe(1);
    expect(["input", "output", "cached_input", "reasoning"].map((kind) => parsed.get(`lash_tokens_total{kind="${kind}"}`))).toEqual([
      12, 3, 2, 1,
    ]);
    expect(parsed.get('lash_http_requests_total{method="POST",route="/v1/sessions",status="201"}')).toBe(1);
    expect(parsed.get('lash_http_requests_total{method="POST",route="/v1/sessions/:sessionId/turns",status="200"}')).toBe(1);
    expect(parsed.get('lash_http_requests_total{method="GET",route="/v1/sessions/:sessionId",status="404"}')).toBe(1);
    expect(parsed.get('lash_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(parsed.get('lash_errors_total{code="session_not_found"}')).toBe(1);
    expect(parsed.get('lash_errors_total{code="malformed_json"}')).toBe(1);
    expect(parsed.get('lash_errors_total{code="not_found"}')).toBe(1);
    expect(parsed.get("lash_running_turns")).toBe(0);
    expect(parsed.get("lash_queued_turns")).toBe(0);
    expect(parsed.has("lash_live_runtimes")).toBe(true);
    expect(parsed.has("lash_parked_sessions")).toBe(true);
    expectConsistentHistograms(scraped.text, "lash_http_request_duration_seconds");
    expectConsistentHistograms(scraped.text, "lash_turn_duration_seconds");
    // Routes are patterns: no id a client sent becomes a label.
    expect(scraped.text).not.toContain(sessionId);
    expect(scraped.text).not.toContain("no-such-session");
  });

  it("shows a running turn while it runs, and counts a turn resumed after approval once", async () => {
    const { gate, tool } = gateTool();
    const deploy = defineTool({
      name: "deploy",
      description: "Deploy a service.",
      inputSchema: z.object({ service: z.string() }),
      needsApproval: true,
      execute: ({ service }) => `${service} is live`,
    });
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ name: "wait_for_gate", args: {} }], { usage: usage(10, 1) }),
        textStep("Gate opened.", { usage: usage(20, 2) }),
        toolCallStep([{ name: "deploy", args: { service: "api" } }], { usage: usage(30, 3) }),
        textStep("api is live.", { usage: usage(40, 4) }),
      ]),
      profile: { tools: [tool, deploy] },
    });
    const url = server.url;
    const sessionId = await createSession(server);
    const running = requestJson(`${url}/v1/sessions/${sessionId}/turns`, { body: { input: "Wait" } });
    await gate.reached;
    expect(samples((await scrape(url)).text).get("lash_running_turns")).toBe(1);
    gate.open();
    expect((await running).status).toBe(200);

    const waiting = turnResultSchema.parse(
      (await requestJson(`${url}/v1/sessions/${sessionId}/turns`, { body: { input: "Deploy" } })).body,
    );
    expect(waiting.outcome).toMatchObject({ type: "stopped", stop: { type: "awaiting_approval" } });
    // A new turn while one waits for a decision opens and is refused before its first event.
    expect((await requestJson(`${url}/v1/sessions/${sessionId}/turns`, { body: { input: "Other" } })).status).toBe(409);
    const request = approvalListResponseSchema.parse((await requestJson(`${url}/v1/sessions/${sessionId}/approvals`)).body).approvals[0];
    const decided = await requestJson(`${url}/v1/sessions/${sessionId}/approvals/${request?.id}`, { body: { decision: "approve" } });
    expect(turnResultSchema.parse(decided.body).outcome.type).toBe("finished");

    const parsed = samples((await scrape(url)).text);
    expect(parsed.get('lash_turns_started_total{resumed="false"}')).toBe(3);
    expect(parsed.get('lash_turns_started_total{resumed="true"}')).toBe(1);
    expect(parsed.get('lash_turns_finished_total{outcome="stopped",reason="awaiting_approval"}')).toBe(1);
    expect(parsed.get('lash_turns_finished_total{outcome="refused",reason="none"}')).toBe(1);
    expect(parsed.get('lash_turns_finished_total{outcome="finished",reason="assistant_message"}')).toBe(2);
    expect(parsed.get('lash_errors_total{code="turn_awaiting_approval"}')).toBe(1);
    // The tokens counted are the session's: the resumed segment added only its own.
    const report = usageReportSchema.parse((await requestJson(`${url}/v1/sessions/${sessionId}/usage`)).body);
    expect(report.usage).toMatchObject({ inputTokens: 100, outputTokens: 10 });
    expect(parsed.get('lash_tokens_total{kind="input"}')).toBe(report.usage.inputTokens);
    expect(parsed.get('lash_tokens_total{kind="output"}')).toBe(report.usage.outputTokens);
    await waitUntil(() => server?.running.server.stats().runningTurns === 0);
    expect(samples((await scrape(url)).text).get("lash_running_turns")).toBe(0);
  });

  it("needs no API key and names no tenant, on a server with keys", async () => {
    const keyed = await startKeyedServer({ provider: new ScriptedProvider([textStep("Hi.")]), tenants: ["acme-secret-customer"] });
    server = keyed;
    const key = keyed.keys["acme-secret-customer"] ?? "";
    const sessionId = await createSessionAs(keyed, key);
    expect((await requestJson(`${keyed.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" }, headers: bearer(key) })).status).toBe(
      200,
    );
    expect((await requestJson(`${keyed.url}/v1/sessions`)).status).toBe(401);
    const scraped = await scrape(keyed.url);
    expect(scraped.status).toBe(200);
    expect(samples(scraped.text).get('lash_errors_total{code="unauthorized"}')).toBe(1);
    expect(samples(scraped.text).get('lash_http_requests_total{method="GET",route="/v1/sessions",status="401"}')).toBe(1);
    for (const secret of ["acme-secret-customer", sessionId, key, key.slice(4, 16)]) expect(scraped.text).not.toContain(secret);
  });

  it("asks for the host's own token when it sets one, and is absent when turned off", async () => {
    const store = await openServerStore("memory:");
    const profiles = { default: { provider: new ScriptedProvider([]) } };
    const guarded = createServerApp({ store, profiles, metrics: { bearerToken: "metrics-token-1" } });
    const get = (app: ReturnType<typeof createServerApp>, headers: Record<string, string> = {}) =>
      app.fetch(new Request("http://127.0.0.1/metrics", { headers }));
    const wrong: Record<string, string>[] = [{}, { authorization: "Bearer metrics-token-2" }, { authorization: "Basic metrics-token-1" }];
    for (const headers of wrong) {
      const refused = await get(guarded, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(401);
      expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="lash-metrics"');
      expect(await refused.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const allowed = await get(guarded, { authorization: "Bearer metrics-token-1" });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain("# TYPE lash_http_requests_total counter");

    const posted = await guarded.fetch(new Request("http://127.0.0.1/metrics", { method: "POST" }));
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET");

    const off = createServerApp({ store, profiles, metrics: false });
    expect((await get(off)).status).toBe(404);
    await store.close();
  });
});
