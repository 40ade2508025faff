import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { openServerStore, startServer } from "../src/index.js";
import { createSession, gateTool, requestJson, startTestServer, type TestServer, waitUntil } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function turn(test: TestServer, sessionId: string, input: string): Promise<{ turnIndex: number; answer: { text: string } }> {
  const response = await requestJson(`${test.url}/v1/sessions/${sessionId}/turns`, { body: { input } });
  expect(response.status).toBe(200);
  return response.body as { turnIndex: number; answer: { text: string } };
}

/**
 * Waits until the pool's counts are `expected`: parking the runtimes beyond the bounds happens after
 * a request's response is sent (it commits to the store), so it may still be under way when the
 * client has its answer. A pool that never gets there fails the test by its timeout.
 */
async function poolSettlesAt(test: TestServer, expected: Record<string, number>): Promise<void> {
  const matches = (): boolean => {
    const stats = test.running.server.stats() as unknown as Record<string, number>;
    return Object.entries(expected).every(([key, value]) => stats[key] === value);
  };
  await waitUntil(matches);
  expect(test.running.server.stats()).toMatchObject(expected);
}

describe("park per request", () => {
  it("parks the least recently used idle runtime beyond the bound, and a later request resumes it where it was", async () => {
    const provider = new ScriptedProvider([textStep("A one."), textStep("B one."), textStep("A two.")], { recordRequests: true });
    server = await startTestServer({ provider, limits: { maxLiveRuntimes: 1 } });
    const first = await createSession(server);
    const second = await createSession(server);
    await poolSettlesAt(server, { liveRuntimes: 0, parkedSessions: 2 });

    await turn(server, first, "first, turn one");
    await poolSettlesAt(server, { liveRuntimes: 1, parkedSessions: 1 });
    await turn(server, second, "second, turn one");
    // The bound is one: the first session's runtime was parked when the second's request ended.
    await poolSettlesAt(server, { liveRuntimes: 1, parkedSessions: 1 });

    const resumed = await turn(server, first, "first, turn two");
    expect(resumed).toMatchObject({ turnIndex: 2, answer: { text: "A two." } });
    // The resumed runtime sent the model the session's history.
    const history = JSON.stringify(provider.requests.at(-1));
    expect(history).toContain("first, turn one");
    expect(history).toContain("A one.");
    expect(history).not.toContain("second, turn one");
  });

  it("parks idle runtimes once their estimated memory passes the byte bound, whatever their number", async () => {
    // One turn's history (a 300 KB answer) is over the 200 KB bound: after each request, the other runtime is parked.
    const big = "x".repeat(150_000);
    const provider = new ScriptedProvider([textStep(big), textStep("B one."), textStep("A two.")], { recordRequests: true });
    server = await startTestServer({ provider, limits: { maxLiveRuntimes: 10, maxLiveRuntimeBytes: 200_000 } });
    const first = await createSession(server);
    const second = await createSession(server);

    await turn(server, first, "first, turn one");
    // Alone over the bound, and idle: it is parked too (the bound holds between requests).
    await poolSettlesAt(server, { liveRuntimes: 0, parkedSessions: 2 });

    await turn(server, second, "second, turn one");
    await poolSettlesAt(server, { liveRuntimes: 1, parkedSessions: 1 });
    const small = server.running.server.stats();
    expect(small.liveRuntimeBytes).toBeGreaterThan(0);
    expect(small.liveRuntimeBytes).toBeLessThan(200_000);

    const resumed = await turn(server, first, "first, turn two");
    expect(resumed).toMatchObject({ turnIndex: 2, answer: { text: "A two." } });
    expect(JSON.stringify(provider.requests.at(-1))).toContain(big);
    // The least recently used (the second) went first; the first, over the bound alone, after it.
    await poolSettlesAt(server, { liveRuntimes: 0, parkedSessions: 2 });
  });

  it("counts the live runtimes and their bytes through turns and deletes, back to none", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Kept live.")], { repeat: true }) });
    const sessions = [await createSession(server), await createSession(server), await createSession(server)];
    for (const sessionId of sessions) await turn(server, sessionId, "Go");
    await poolSettlesAt(server, { liveRuntimes: 3 });
    const three = server.running.server.stats().liveRuntimeBytes;
    expect(three).toBeGreaterThan(0);
    expect((await requestJson(`${server.url}/v1/sessions/${sessions[0]}`, { method: "DELETE" })).status).toBe(200);
    await poolSettlesAt(server, { liveRuntimes: 2 });
    expect(server.running.server.stats().liveRuntimeBytes).toBeLessThan(three);
    for (const sessionId of sessions.slice(1)) {
      expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`, { method: "DELETE" })).status).toBe(200);
    }
    await poolSettlesAt(server, { liveRuntimes: 0, liveRuntimeBytes: 0 });
  });

  it("with a bound of 0 parks every runtime after its request, but never one whose turn runs", async () => {
    const { gate, tool } = gateTool();
    server = await startTestServer({
      provider: new ScriptedProvider([toolCallStep([{ callId: "call-1", name: "wait_for_gate", args: {} }]), textStep("Done.")]),
      profile: { tools: [tool] },
      limits: { maxLiveRuntimes: 0 },
    });
    const busy = await createSession(server);
    const idle = await createSession(server);
    const running = requestJson(`${server.url}/v1/sessions/${busy}/turns`, { body: { input: "Wait" } });
    await gate.reached;
    // Another session's request comes and goes: its runtime is parked, the busy one stays live.
    expect((await requestJson(`${server.url}/v1/sessions/${idle}`)).status).toBe(200);
    await poolSettlesAt(server, { liveRuntimes: 1, runningTurns: 1 });
    gate.open();
    expect((await running).body).toMatchObject({ outcome: { type: "finished" } });
    await poolSettlesAt(server, { liveRuntimes: 0, runningTurns: 0 });
    expect((await requestJson(`${server.url}/v1/sessions/${busy}`)).body).toMatchObject({ turnIndex: 1 });
  });

  it("a restarted server reads a session's profile and metadata back from the store", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-restart-"));
    try {
      const location = `sqlite:${join(directory, "lash.db")}`;
      const profiles = () => ({
        default: { provider: new ScriptedProvider([textStep("default answers")], { providerId: "default-scripted" }) },
        support: {
          provider: new ScriptedProvider([textStep("support answers")], { providerId: "support-scripted" }),
          model: "support-model",
        },
      });
      const first = await startServer({ store: await openServerStore(location), port: 0, profiles: profiles() });
      const created = await requestJson(`${first.url}/v1/sessions`, { body: { profile: "support", metadata: { ticket: "7" } } });
      const sessionId = (created.body as { id: string }).id;
      await first.close();

      const second = await startServer({ store: await openServerStore(location), port: 0, profiles: profiles() });
      try {
        expect((await requestJson(`${second.url}/v1/sessions/${sessionId}`)).body).toMatchObject({
          profile: "support",
          metadata: { ticket: "7" },
          model: "support-model",
        });
        const answer = await requestJson(`${second.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hello" } });
        expect(answer.body).toMatchObject({ answer: { text: "support answers" } });
      } finally {
        await second.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
