import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey, isLoopbackAddress, openServerStore, startServer, UnprotectedBindError } from "../src/index.js";
import { requestJson } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: KeyedServer | undefined;
const directories: string[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

const APP = "https://app.example.com";

function corsHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith("access-control-")));
}

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
  });
}

describe("CORS", () => {
  it("is off by default: no CORS header on any answer, preflights included", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme"] });
    const answered = await fetch(`${server.url}/v1/sessions`, { headers: { origin: APP, ...bearer(server.keys.acme!) } });
    expect(answered.status).toBe(200);
    expect(corsHeaders(answered.headers)).toEqual({});
    expect(answered.headers.get("vary")).toBeNull();
    const asked = await preflight(`${server.url}/v1/sessions`, APP);
    expect(asked.status).toBe(401);
    expect(corsHeaders(asked.headers)).toEqual({});
  });

  it("answers allowed origins (their errors too) and preflights, and says nothing to other origins", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: ["acme"], cors: { origins: [APP] } });
    const url = `${server.url}/v1/sessions`;

    const allowed = await fetch(url, { headers: { origin: APP, ...bearer(server.keys.acme!) } });
    expect(allowed.status).toBe(200);
    expect(corsHeaders(allowed.headers)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-expose-headers": "lash-turn-id, location, retry-after, www-authenticate",
    });
    expect(allowed.headers.get("vary")).toContain("Origin");
    // A page may read why it was refused.
    const refused = await fetch(url, { headers: { origin: APP } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(APP);

    const other = await fetch(url, { headers: { origin: "https://evil.example", ...bearer(server.keys.acme!) } });
    expect(other.status).toBe(200);
    expect(corsHeaders(other.headers)).toEqual({});
    expect(other.headers.get("vary")).toContain("Origin");

    // Preflights carry no key: answered before authentication.
    const asked = await preflight(url, APP);
    expect(asked.status).toBe(204);
    expect(corsHeaders(asked.headers)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
      "access-control-allow-headers": "authorization, content-type",
      "access-control-max-age": "600",
    });
    const askedByOther = await preflight(url, "https://evil.example");
    expect(askedByOther.status).toBe(204);
    expect(corsHeaders(askedByOther.headers)).toEqual({});
    // A plain OPTIONS (no preflight) is not CORS's: it goes on to authentication.
    expect((await fetch(url, { method: "OPTIONS", headers: { origin: APP } })).status).toBe(401);
  });

  it("puts its headers on a streamed turn too, whose events are written straight to the socket", async () => {
    server = await startKeyedServer({
      provider: new ScriptedProvider([textStep("Streamed.")]),
      tenants: ["acme"],
      cors: { origins: [APP] },
    });
    const key = server.keys.acme!;
    const sessionId = await createSessionAs(server, key);
    const response = await fetch(`${server.url}/v1/sessions/${sessionId}/turns`, {
      method: "POST",
      headers: { origin: APP, accept: "text/event-stream", "content-type": "application/json", ...bearer(key) },
      body: JSON.stringify({ input: "Hi" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("lash-turn-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(corsHeaders(response.headers)).toEqual({
      "access-control-allow-origin": APP,
      "access-control-expose-headers": "lash-turn-id, location, retry-after, www-authenticate",
    });
    expect(response.headers.get("vary")).toContain("Origin");
    const text = await response.text();
    expect(text).toContain("event: result");
    expect(text).toContain("Streamed.");
  });

  it("answers any origin with * when configured so", async () => {
    server = await startKeyedServer({ provider: new ScriptedProvider([]), tenants: [], cors: { origins: ["*"] } });
    const answered = await fetch(`${server.url}/v1/sessions`, { headers: { origin: "https://anywhere.example" } });
    expect(answered.headers.get("access-control-allow-origin")).toBe("*");
    expect(answered.headers.get("vary")).toBeNull();
  });
});

describe("binding without keys", () => {
  async function freshStore() {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-binding-"));
    directories.push(directory);
    return openServerStore(`sqlite:${join(directory, "lash.db")}`);
  }

  it("serves loopback only: any other address is refused before anything listens", async () => {
    const store = await freshStore();
    try {
      for (const host of ["0.0.0.0", "::", "192.0.2.10"]) {
        const refused = startServer({ store, port: 0, host, profiles: { default: { provider: new ScriptedProvider([]) } } });
        await expect(refused, host).rejects.toBeInstanceOf(UnprotectedBindError);
        await expect(refused, host).rejects.toThrow(/--insecure-no-auth/);
      }
    } finally {
      await store.close();
    }
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"])
      expect(isLoopbackAddress(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com", "::ffff:10.0.0.1", "127.0.0.1.example.com"]) {
      expect(isLoopbackAddress(host), host).toBe(false);
    }
  });

  it("serves on every address once the store holds a key, and says whether keys are required", async () => {
    const store = await freshStore();
    const { key } = await createApiKey(store.access, { tenant: "acme" });
    const running = await startServer({ store, port: 0, host: "0.0.0.0", profiles: { default: { provider: new ScriptedProvider([]) } } });
    try {
      expect(running.requiresApiKeys).toBe(true);
      const local = `http://127.0.0.1:${running.port}`;
      expect((await requestJson(`${local}/v1/sessions`)).status).toBe(401);
      expect((await requestJson(`${local}/v1/sessions`, { headers: bearer(key) })).status).toBe(200);
    } finally {
      await running.close();
    }
  });
});
