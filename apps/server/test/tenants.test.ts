import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import { approvalListResponseSchema, errorBodySchema, sessionListResponseSchema, turnResultSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../src/index.js";
import { gateTool, readEvents, requestJson, waitUntil } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: KeyedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function deployTool() {
  return defineTool({
    name: "deploy",
    description: "Deploy a service.",
    inputSchema: z.object({ service: z.string() }),
    needsApproval: true,
    execute: ({ service }) => `${service} is live`,
  });
}

describe("API keys", () => {
  it("answers every request without an active key with one 401, and lets the probes through", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme"] });
    const acme = server.keys.acme!;
    const revoked = await createApiKey(server.store.access, { tenant: "acme" });
    expect(await revokeApiKey(server.store.access, revoked.info.id)).toMatchObject({ id: revoked.info.id, revokedAt: expect.any(String) });
    const id = acme.slice("lsk_".length, "lsk_".length + 12);
    const secret = acme.slice("lsk_".length + 13);
    const otherSecret = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    const refusals: Array<[string, Record<string, string>]> = [
      ["no header", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["another scheme", { authorization: `Basic ${acme}` }],
      ["not a key", { authorization: "Bearer hunter2" }],
      ["unknown id", bearer(`lsk_000000000000_${secret}`)],
      ["known id, wrong secret", bearer(`lsk_${id}_${otherSecret}`)],
      ["revoked", bearer(revoked.key)],
      ["oversized", bearer(`lsk_${id}_${"A".repeat(10_000)}`)],
    ];
    const bodies = new Set<string>();
    for (const [name, headers] of refusals) {
      const response = await requestJson(`${server.url}/v1/sessions`, { headers });
      expect(response.status, name).toBe(401);
      expect(errorBodySchema.parse(response.body).error.code, name).toBe("unauthorized");
      expect(response.headers.get("www-authenticate"), name).toBe('Bearer realm="lash"');
      bodies.add(JSON.stringify(response.body));
    }
    // One answer for every failure: nothing tells whether an id exists.
    expect(bodies.size).toBe(1);
    // Bad requests and unknown routes under /v1 are 401 too, before anything else is said.
    expect((await requestJson(`${server.url}/v1/sessions`, { rawBody: "{" })).status).toBe(401);
    expect((await requestJson(`${server.url}/v1/no-such-route`)).status).toBe(401);

    for (const path of ["/healthz", "/readyz", "/openapi.json"]) expect((await requestJson(`${server.url}${path}`)).status, path).toBe(200);
    expect(await requestJson(`${server.url}/v1/sessions`, { headers: bearer(acme) })).toMatchObject({
      status: 200,
      body: { sessions: [] },
    });
    expect(await requestJson(`${server.url}/v1/sessions`, { headers: { authorization: `bearer ${acme}` } })).toMatchObject({ status: 200 });

    // Revoking takes effect at once, on the running server.
    await revokeApiKey(server.store.access, `lsk_${id}`);
    expect((await requestJson(`${server.url}/v1/sessions`, { headers: bearer(acme) })).status).toBe(401);
  });

  it("keeps keys hashed at rest: the database holds each key's hash, never the key", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme", "globex"] });
    const created = await createApiKey(server.store.access, { tenant: "acme", name: "ci" });
    const keys = [created.key, ...Object.values(server.keys)];
    let stored = "";
    for (const file of ["lash.db", "lash.db-wal"]) {
      stored += await readFile(join(server.directory, file), "latin1").catch(() => "");
    }
    for (const key of keys) {
      expect(stored).not.toContain(key);
      // Not even the secret part, in any encoding that could be searched for.
      expect(stored).not.toContain(key.slice(-43));
      expect(stored).not.toContain(Buffer.from(key.slice(-43), "base64url").toString("latin1"));
    }
    for (const key of keys) expect(stored).toContain(createHash("sha256").update(key).digest("hex"));

    // A listing says what each key is, never its secret.
    const listed = await listApiKeys(server.store.access);
    expect(listed.map((key) => key.tenant).sort()).toEqual(["acme", "acme", "globex"]);
    expect(listed.find((key) => key.id === created.info.id)).toEqual({
      id: created.info.id,
      prefix: `lsk_${created.info.id}`,
      tenant: "acme",
      name: "ci",
      createdAt: created.info.createdAt,
    });
    for (const key of keys) expect(JSON.stringify(listed)).not.toContain(key.slice(-43));
  });
});

describe("tenants", () => {
  it("keep each tenant's sessions to itself: another tenant's session is a 404 on every route", async () => {
    const { gate, tool } = gateTool();
    server = await startKeyedServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "deploy-1", name: "deploy", args: { service: "api" } }]),
        toolCallStep([{ callId: "gate-1", name: "wait_for_gate", args: {} }]),
        textStep("Past the gate."),
        textStep("api is live."),
      ]),
      tenants: ["acme", "globex"],
      profile: { tools: [deployTool(), tool] },
    });
    const acme = bearer(server.keys.acme!);
    const globex = bearer(server.keys.globex!);
    const url = server.url;

    // acme: one session waits for an approval, another runs a turn held at the gate.
    const waiting = await createSessionAs(server, server.keys.acme!);
    const suspended = turnResultSchema.parse(
      (await requestJson(`${url}/v1/sessions/${waiting}/turns`, { body: { input: "Deploy" }, headers: acme })).body,
    );
    expect(suspended.outcome).toMatchObject({ type: "stopped", stop: { type: "awaiting_approval" } });
    const approval = approvalListResponseSchema.parse(
      (await requestJson(`${url}/v1/sessions/${waiting}/approvals`, { headers: acme })).body,
    ).approvals[0]!;
    const running = await createSessionAs(server, server.keys.acme!);
    const held = fetch(`${url}/v1/sessions/${running}/turns`, {
      method: "POST",
      headers: { ...acme, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: "Wait" }),
    });
    await gate.reached;
    const turnId = (await held).headers.get("lash-turn-id") ?? "";
    const stream = held.then((response) => readEvents(response));
    const own = await createSessionAs(server, server.keys.globex!);

    // globex: every route on acme's sessions answers as for a session that does not exist.
    const missing = await requestJson(`${url}/v1/sessions/no-such-session`, { headers: globex });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: "session_not_found" } } });
    const attempts: Array<[string, string, { method?: string; body?: unknown }]> = [
      ["read", `/v1/sessions/${waiting}`, {}],
      ["usage", `/v1/sessions/${waiting}/usage`, {}],
      ["turn", `/v1/sessions/${waiting}/turns`, { body: { input: "Hello" } }],
      ["turn on the busy one", `/v1/sessions/${running}/turns`, { body: { input: "Hello" } }],
      ["events", `/v1/sessions/${running}/turns/${turnId}/events`, {}],
      ["cancel", `/v1/sessions/${running}/turns/${turnId}/cancel`, { method: "POST" }],
      ["approvals", `/v1/sessions/${waiting}/approvals`, {}],
      ["approve", `/v1/sessions/${waiting}/approvals/${approval.id}`, { body: { decision: "approve" } }],
      ["approve on the busy one", `/v1/sessions/${running}/approvals/${approval.id}`, { body: { decision: "approve" } }],
      ["delete", `/v1/sessions/${waiting}`, { method: "DELETE" }],
      ["delete the busy one", `/v1/sessions/${running}`, { method: "DELETE" }],
    ];
    for (const [name, path, request] of attempts) {
      const response = await requestJson(`${url}${path}`, { ...request, headers: globex });
      expect(response.status, name).toBe(404);
      expect(errorBodySchema.parse(response.body).error.code, name).toBe("session_not_found");
    }
    const globexList = sessionListResponseSchema.parse((await requestJson(`${url}/v1/sessions`, { headers: globex })).body);
    expect(globexList.sessions.map((session) => session.id)).toEqual([own]);

    // Nothing globex tried touched acme's sessions: the turn still runs, the approval still waits.
    expect(server.running.server.stats().runningTurns).toBe(1);
    const acmeList = sessionListResponseSchema.parse((await requestJson(`${url}/v1/sessions`, { headers: acme })).body);
    expect(acmeList.sessions.map((session) => session.id)).toEqual([waiting, running].sort());
    expect((await requestJson(`${url}/v1/sessions/${own}`, { headers: acme })).status).toBe(404);
    gate.open();
    expect((await stream).at(-1)).toMatchObject({ event: "result", data: { answer: { text: "Past the gate." } } });
    await waitUntil(() => server?.running.server.stats().runningTurns === 0);
    const decided = await requestJson(`${url}/v1/sessions/${waiting}/approvals/${approval.id}`, {
      body: { decision: "approve" },
      headers: acme,
    });
    expect(decided).toMatchObject({ status: 200, body: { turnId: suspended.turnId, answer: { text: "api is live." } } });
    expect((await requestJson(`${url}/v1/sessions/${waiting}/usage`, { headers: acme })).status).toBe(200);
  });

  it("list only their own sessions, page by page, each once", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme", "globex", "initech"] });
    const mine: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      mine.push(await createSessionAs(server, server.keys.acme!));
      await createSessionAs(server, server.keys.globex!);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = sessionListResponseSchema.parse(
        (
          await requestJson(`${server.url}/v1/sessions?limit=2${cursor === undefined ? "" : `&cursor=${cursor}`}`, {
            headers: bearer(server.keys.acme!),
          })
        ).body,
      );
      expect(page.sessions).toHaveLength(pages < 2 ? 2 : 1);
      for (const session of page.sessions)
        expect(session).toMatchObject({ headRevision: 1, model: expect.any(String), createdAt: expect.any(String) });
      seen.push(...page.sessions.map((session) => session.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...mine].sort());
    expect((await requestJson(`${server.url}/v1/sessions`, { headers: bearer(server.keys.initech!) })).body).toEqual({ sessions: [] });

    // A deleted session leaves its tenant's listing.
    expect(
      (await requestJson(`${server.url}/v1/sessions/${mine[0]}`, { method: "DELETE", headers: bearer(server.keys.acme!) })).status,
    ).toBe(200);
    const after = sessionListResponseSchema.parse(
      (await requestJson(`${server.url}/v1/sessions?limit=100`, { headers: bearer(server.keys.acme!) })).body,
    );
    expect(after.sessions.map((session) => session.id)).toEqual(mine.slice(1).sort());
  });
});

describe("sessions the server did not create", () => {
  it("belong to local, or to their parent's owner: a subagent's session is its root's tenant's", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme", "globex", "local"] });
    const parent = await createSessionAs(server, server.keys.acme!);
    const meta = (sessionId: string, relation: { type: "root" } | { type: "child"; parentSessionId: string }) => ({
      sessionId,
      sessionName: sessionId,
      createdAt: new Date().toISOString(),
      model: "scripted-model",
      ...(relation.type === "child" ? { parentSessionId: relation.parentSessionId } : {}),
      relation,
    });
    // As a subagent's turn and the `lash` command would write them: listing data, no server record.
    const child = randomUUID();
    await server.store.openSession(child).saveSessionMeta(meta(child, { type: "child", parentSessionId: parent }));
    const grandchild = randomUUID();
    await server.store.openSession(grandchild).saveSessionMeta(meta(grandchild, { type: "child", parentSessionId: child }));
    const orphan = randomUUID();
    await server.store.openSession(orphan).saveSessionMeta(meta(orphan, { type: "child", parentSessionId: "deleted-parent" }));
    const command = randomUUID();
    await server.store.openSession(command).saveSessionMeta(meta(command, { type: "root" }));

    const status = async (tenant: string, sessionId: string) =>
      (await requestJson(`${server?.url}/v1/sessions/${sessionId}`, { headers: bearer(server?.keys[tenant] ?? "") })).status;
    expect(await status("acme", child)).toBe(200);
    expect(await status("acme", grandchild)).toBe(200);
    expect(await status("globex", child)).toBe(404);
    expect(await status("local", grandchild)).toBe(404);
    expect(await status("acme", orphan)).toBe(404);
    expect(await status("local", orphan)).toBe(404);
    expect(await status("local", command)).toBe(200);
    expect(await status("acme", command)).toBe(404);

    const list = async (tenant: string) =>
      sessionListResponseSchema
        .parse((await requestJson(`${server?.url}/v1/sessions`, { headers: bearer(server?.keys[tenant] ?? "") })).body)
        .sessions.map((session) => session.id);
    expect(await list("acme")).toEqual([parent]);
    // `local` lists what no other tenant owns; children are never listed.
    expect(await list("local")).toEqual([command]);
  });
});

describe("rate limits", () => {
  it("give each key a token bucket: 429 with Retry-After after the burst, tokens back as the clock moves", async () => {
    let now = 1_000_000;
    server = await startKeyedServer({
      provider: new ScriptedProvider([]),
      tenants: ["acme", "globex"],
      access: { rateLimit: { requestsPerSecond: 0.5, burst: 3 }, now: () => now },
    });
    const list = (key: string) => requestJson(`${server?.url}/v1/sessions`, { headers: bearer(key) });
    const acme = server.keys.acme!;
    for (let index = 0; index < 3; index += 1) expect((await list(acme)).status).toBe(200);
    const limited = await list(acme);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      error: { code: "rate_limited", message: expect.stringContaining("retry in 2 s"), details: { retryAfterSeconds: 2 } },
    });
    expect(limited.headers.get("retry-after")).toBe("2");
    // Another key has a bucket of its own; the probes have none.
    expect((await list(server.keys.globex!)).status).toBe(200);
    expect((await requestJson(`${server.url}/healthz`)).status).toBe(200);

    now += 1_000;
    expect((await list(acme)).headers.get("retry-after")).toBe("1");
    now += 1_000;
    expect((await list(acme)).status).toBe(200);
    expect((await list(acme)).status).toBe(429);
    // A long quiet spell refills the bucket up to the burst, not beyond.
    now += 60_000;
    for (let index = 0; index < 3; index += 1) expect((await list(acme)).status).toBe(200);
    expect((await list(acme)).status).toBe(429);
  });
});
