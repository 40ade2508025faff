import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { openServerStore, type RunningServer, type ServerLimits, startServer } from "../src/index.js";
import { requestJson } from "./server-harness.js";

const started: RunningServer[] = [];
const directories: string[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) await server.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** Servers of one process on one SQLite file: each keeps its own runtimes, as separate processes would. */
async function serversOnOneFile(limits: readonly Partial<ServerLimits>[]): Promise<RunningServer[]> {
  const directory = await mkdtemp(join(tmpdir(), "lash-server-shared-"));
  directories.push(directory);
  const servers: RunningServer[] = [];
  for (const serverLimits of limits) {
    const server = await startServer({
      store: await openServerStore(`sqlite:${join(directory, "shared.db")}`),
      port: 0,
      profiles: { default: { provider: new ScriptedProvider([textStep("One."), textStep("Two.")]) } },
      limits: serverLimits,
      onUnexpectedError: () => undefined,
    });
    started.push(server);
    servers.push(server);
  }
  return servers;
}

async function createSession(server: RunningServer): Promise<string> {
  return ((await requestJson(`${server.url}/v1/sessions`, { body: {} })).body as { id: string }).id;
}

describe("servers sharing a store", () => {
  it("do not answer from a live runtime for a session another one deleted", async () => {
    const [a, b] = await serversOnOneFile([{}, {}]);
    const sessionId = await createSession(a!);
    expect((await requestJson(`${a!.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" } })).status).toBe(200);
    expect(a!.server.stats().liveRuntimes).toBe(1);
    expect((await requestJson(`${b!.url}/v1/sessions/${sessionId}`, { method: "DELETE" })).status).toBe(200);
    for (const path of ["", "/usage", "/approvals"]) {
      const answer = await requestJson(`${a!.url}/v1/sessions/${sessionId}${path}`);
      expect(answer, path).toMatchObject({ status: 404, body: { error: { code: "session_not_found" } } });
    }
    expect(a!.server.stats().liveRuntimes).toBe(0);
  });

  it("do not start again, empty, a parked session another one deleted", async () => {
    const [a, b] = await serversOnOneFile([{ maxLiveRuntimes: 0 }, {}]);
    const sessionId = await createSession(a!);
    expect(a!.server.stats()).toMatchObject({ liveRuntimes: 0, parkedSessions: 1 });
    expect((await requestJson(`${b!.url}/v1/sessions/${sessionId}`, { method: "DELETE" })).status).toBe(200);
    const turn = await requestJson(`${a!.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Hi" } });
    expect(turn).toMatchObject({ status: 404, body: { error: { code: "session_not_found" } } });
    expect((await requestJson(`${b!.url}/v1/sessions/${sessionId}`)).status).toBe(404);
  });
});
