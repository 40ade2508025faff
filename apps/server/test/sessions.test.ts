import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { sessionListResponseSchema, sessionResourceSchema, sessionStateSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createSession, requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function storedSessionIds(test: TestServer): Promise<string[]> {
  return (await test.store.listSessions({ limit: 1000 })).sessions.map((session) => session.sessionId);
}

describe("sessions", () => {
  it("creates, reads, lists and deletes sessions", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider([textStep("Hi.")]),
      profiles: { support: { provider: new ScriptedProvider([]), model: "support-model", systemPrompt: "Be kind." } },
    });
    const created = await requestJson(`${server.url}/v1/sessions`, { body: { profile: "support", metadata: { customer: "42" } } });
    expect(created.status).toBe(201);
    const resource = sessionResourceSchema.parse(created.body);
    expect(resource).toMatchObject({ profile: "support", metadata: { customer: "42" }, model: "support-model", turnIndex: 0 });
    expect(created.headers.get("location")).toBe(`/v1/sessions/${resource.id}`);

    const state = await requestJson(`${server.url}/v1/sessions/${resource.id}`);
    expect(state.status).toBe(200);
    expect(sessionStateSchema.parse(state.body)).toMatchObject({
      id: resource.id,
      profile: "support",
      metadata: { customer: "42" },
      createdAt: resource.createdAt,
      policy: { model: "support-model" },
      turnIndex: 0,
      messages: [],
      awaitingApproval: false,
    });

    const defaultSession = await createSession(server);
    const listed = sessionListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions`)).body);
    expect(listed.sessions.map((session) => session.id).sort()).toEqual([resource.id, defaultSession].sort());
    expect(listed.sessions.find((session) => session.id === resource.id)).toMatchObject({ headRevision: 1, model: "support-model" });

    const deleted = await requestJson(`${server.url}/v1/sessions/${resource.id}`, { method: "DELETE" });
    expect(deleted).toMatchObject({ status: 200, body: { id: resource.id, deleted: true } });
    expect(await storedSessionIds(server)).toEqual([defaultSession]);
    expect(await requestJson(`${server.url}/v1/sessions/${resource.id}`)).toMatchObject({
      status: 404,
      body: { error: { code: "session_not_found" } },
    });
    expect(await requestJson(`${server.url}/v1/sessions/${resource.id}`, { method: "DELETE" })).toMatchObject({ status: 404 });
  });

  it("pages through the listing with cursors, each session once", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]) });
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await createSession(server));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = sessionListResponseSchema.parse(
        (await requestJson(`${server.url}/v1/sessions?limit=2${cursor === undefined ? "" : `&cursor=${cursor}`}`)).body,
      );
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((session) => session.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
  });
});

describe("bad input: a 4xx with the error shape, and nothing stored", () => {
  it("refuses malformed JSON, unknown fields, oversize bodies, other media types and unknown profiles", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]), limits: { maxBodyBytes: 1024 } });
    const url = `${server.url}/v1/sessions`;
    const cases: Array<{ name: string; request: Parameters<typeof requestJson>[1]; status: number; code: string }> = [
      { name: "malformed JSON", request: { rawBody: "{ not json" }, status: 400, code: "malformed_json" },
      { name: "not an object", request: { rawBody: "[1, 2]" }, status: 400, code: "invalid_request" },
      { name: "unknown field", request: { body: { profile: "default", tenant: "x" } }, status: 400, code: "invalid_request" },
      { name: "bad metadata", request: { body: { metadata: { key: 7 } } }, status: 400, code: "invalid_request" },
      { name: "oversize body", request: { body: { metadata: { key: "x".repeat(2000) } } }, status: 413, code: "payload_too_large" },
      { name: "deeply nested", request: { rawBody: `${"[".repeat(100)}${"]".repeat(100)}` }, status: 400, code: "malformed_json" },
      { name: "unknown profile", request: { body: { profile: "nobody" } }, status: 400, code: "unknown_profile" },
      {
        name: "text body",
        request: { rawBody: "{}", headers: { "content-type": "text/plain" } },
        status: 415,
        code: "unsupported_media_type",
      },
    ];
    for (const entry of cases) {
      const response = await requestJson(url, { method: "POST", ...entry.request });
      expect(response.status, entry.name).toBe(entry.status);
      expect(response.body, entry.name).toMatchObject({ error: { code: entry.code, message: expect.any(String) } });
    }
    const unknown = await requestJson(url, { body: { profile: "default", tenant: "x" } });
    expect((unknown.body as { error: { details: { issues: { message: string }[] } } }).error.details.issues[0]?.message).toContain(
      "tenant",
    );
    // What a client sent is echoed back bounded.
    const long = await requestJson(url, { body: { ["k".repeat(500)]: 1 } });
    expect((long.body as { error: { message: string } }).error.message.length).toBeLessThan(300);
    expect(await storedSessionIds(server)).toEqual([]);
  });

  it("refuses bad turn bodies, cursors, ids and unknown sessions without storing anything", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("never")]) });
    const sessionId = await createSession(server);
    const turns = `${server.url}/v1/sessions/${sessionId}/turns`;
    for (const body of [{}, { input: [] }, { input: "hi", model: "gpt-x" }, { input: [{ type: "image", data: "x" }] }, { input: 5 }]) {
      const response = await requestJson(turns, { body });
      expect(response, JSON.stringify(body)).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    }
    expect(await requestJson(turns, { rawBody: "{" })).toMatchObject({ status: 400, body: { error: { code: "malformed_json" } } });
    expect(await requestJson(`${server.url}/v1/sessions/no-such-session/turns`, { body: { input: "hi" } })).toMatchObject({
      status: 404,
      body: { error: { code: "session_not_found" } },
    });
    expect(await requestJson(`${server.url}/v1/sessions/bad%20id`)).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    for (const cursor of ["garbage", "bGFzaC52MTo", "%2F%2F", "bm90LWEtY3Vyc29y"]) {
      const response = await requestJson(`${server.url}/v1/sessions?cursor=${cursor}`);
      expect(response.status, cursor).toBe(400);
    }
    expect(await requestJson(`${server.url}/v1/sessions?cursor=garbage`)).toMatchObject({ body: { error: { code: "invalid_cursor" } } });
    expect(await requestJson(`${server.url}/v1/sessions?limit=0`)).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    expect(await requestJson(`${server.url}/v1/sessions?limit=2&limit=3`)).toMatchObject({ status: 400 });
    expect(await requestJson(`${server.url}/v1/nothing`)).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    const wrongMethod = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { method: "GET" });
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: "method_not_allowed" } } });
    expect(wrongMethod.headers.get("allow")).toBe("POST");

    expect(await storedSessionIds(server)).toEqual([sessionId]);
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    expect(state.body).toMatchObject({ turnIndex: 0, messages: [] });
  });
});

describe("probes and the API document", () => {
  it("answers /healthz, /readyz, /openapi.json and the /reference page", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]) });
    expect(await requestJson(`${server.url}/healthz`)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await requestJson(`${server.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready" } });
    const document = await requestJson(`${server.url}/openapi.json`);
    expect(document).toMatchObject({ status: 200, body: { openapi: "3.1.0" } });
    expect(Object.keys((document.body as { paths: object }).paths)).toContain("/v1/sessions/{sessionId}/turns");
    // The API reference page, without credentials, as HTML that loads nothing else.
    const page = await fetch(`${server.url}/reference`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("<code>/v1/sessions/{sessionId}/turns</code>");
    expect(html).toContain('href="/openapi.json"');
    expect((await fetch(`${server.url}/reference`, { method: "POST" })).status).toBe(405);
  });
});
