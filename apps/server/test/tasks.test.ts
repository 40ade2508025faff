import { ScriptedProvider } from "@lash/adapter-scripted";
import { LocalBackgroundTaskHost } from "@lash/background";
import type { BackgroundTaskWork } from "@lash/protocol";
import { errorBodySchema, taskListResponseSchema, taskResourceSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { requestJson, startTestServer, type TestServer } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: KeyedServer | TestServer | undefined;
const hosts: LocalBackgroundTaskHost[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const host of hosts.splice(0)) await host.close();
});

/** Work that runs until it is cancelled, as a subagent waiting on its model would. */
const untilCancelled: BackgroundTaskWork = (context) =>
  new Promise((_resolve, reject) => context.signal.addEventListener("abort", () => reject(new Error("cancelled")), { once: true }));

async function tenantsWithTasks() {
  const host = new LocalBackgroundTaskHost();
  hosts.push(host);
  const keyed = await startKeyedServer({
    provider: new ScriptedProvider([]),
    tenants: ["acme", "globex"],
    profile: { configureEnvironment: (builder) => builder.withBackgroundTaskHost(host) },
  });
  server = keyed;
  const acme = bearer(keyed.keys.acme ?? "");
  const globex = bearer(keyed.keys.globex ?? "");
  const acmeSession = await createSessionAs(keyed, keyed.keys.acme ?? "");
  const globexSession = await createSessionAs(keyed, keyed.keys.globex ?? "");
  await host.spawnManaged({ sessionId: acmeSession }, { id: "acme-running-1", kind: "subagent", producer: "spawn_agent" }, untilCancelled);
  await host.spawnManaged({ sessionId: acmeSession }, { id: "acme-running-2", kind: "monitor", producer: "test" }, untilCancelled);
  await host.spawnManaged({ sessionId: acmeSession }, { id: "acme-done", kind: "other", producer: "test" }, async () => ({
    summary: "done",
  }));
  await host.waitForTerminal("acme-done");
  await host.spawnManaged(
    { sessionId: globexSession },
    { id: "globex-running", kind: "subagent", producer: "spawn_agent" },
    untilCancelled,
  );
  return { url: keyed.url, host, acme, globex, acmeSession, globexSession };
}

describe("GET /v1/tasks and POST /v1/tasks/{id}/cancel", () => {
  it("lists the tenant's own live tasks, ended ones on request, a page at a time", async () => {
    const { url, acme, globex, acmeSession, globexSession } = await tenantsWithTasks();
    const live = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks`, { headers: acme })).body);
    expect(live.tasks.map((task) => task.id)).toEqual(["acme-running-1", "acme-running-2"]);
    expect(live.tasks[0]).toMatchObject({ kind: "subagent", producer: "spawn_agent", scope: { sessionId: acmeSession }, state: "running" });
    expect(live.nextCursor).toBeUndefined();

    const all = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks?state=all`, { headers: acme })).body);
    expect(Object.fromEntries(all.tasks.map((task) => [task.id, task.state]))).toEqual({
      "acme-running-1": "running",
      "acme-running-2": "running",
      "acme-done": "completed",
    });
    // Oldest first, as the host lists them: by creation time, then id.
    const positions = all.tasks.map((task) => [task.createdAt, task.id] as const);
    expect(positions).toEqual([...positions].sort((left, right) => left[0] - right[0] || (left[1] < right[1] ? -1 : 1)));

    const first = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks?state=all&limit=2`, { headers: acme })).body);
    expect(first.tasks).toEqual(all.tasks.slice(0, 2));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = taskListResponseSchema.parse(
      (await requestJson(`${url}/v1/tasks?state=all&limit=2&cursor=${first.nextCursor}`, { headers: acme })).body,
    );
    expect(second).toEqual({ tasks: all.tasks.slice(2) });

    const globexTasks = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks?state=all`, { headers: globex })).body);
    expect(globexTasks.tasks.map((task) => task.id)).toEqual(["globex-running"]);
    const bySession = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks?sessionId=${acmeSession}`, { headers: acme })).body);
    expect(bySession.tasks).toHaveLength(2);
    // Another tenant's session is a 404, as one that does not exist.
    const foreign = await requestJson(`${url}/v1/tasks?sessionId=${globexSession}`, { headers: acme });
    const missing = await requestJson(`${url}/v1/tasks?sessionId=no-such-session`, { headers: acme });
    expect(foreign.status).toBe(404);
    expect(errorBodySchema.parse(foreign.body).error.code).toBe("session_not_found");
    expect(missing.status).toBe(404);
  });

  it("cancels the tenant's own task, and answers another tenant's task exactly as one that does not exist", async () => {
    const { url, host, acme } = await tenantsWithTasks();
    const foreign = await requestJson(`${url}/v1/tasks/globex-running/cancel`, { method: "POST", headers: acme });
    const unknown = await requestJson(`${url}/v1/tasks/no-such-task/cancel`, { method: "POST", headers: acme });
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(errorBodySchema.parse(foreign.body).error.code).toBe("task_not_found");
    expect(JSON.stringify(foreign.body).replaceAll("globex-running", "no-such-task")).toBe(JSON.stringify(unknown.body));
    expect((await host.get("globex-running"))?.state).toBe("running");

    const cancelled = await requestJson(`${url}/v1/tasks/acme-running-1/cancel`, { method: "POST", headers: acme });
    expect(cancelled.status).toBe(200);
    const task = taskResourceSchema.parse(cancelled.body);
    expect(task).toMatchObject({ id: "acme-running-1" });
    expect(["cancel_requested", "cancelled"]).toContain(task.state);
    expect(await host.waitForTerminal("acme-running-1")).toMatchObject({ state: "cancelled", failure: { summary: expect.any(String) } });
    // An ended task is answered as it is.
    const again = await requestJson(`${url}/v1/tasks/acme-running-1/cancel`, { method: "POST", headers: acme });
    expect(again).toMatchObject({ status: 200, body: { id: "acme-running-1", state: "cancelled" } });
    const live = taskListResponseSchema.parse((await requestJson(`${url}/v1/tasks`, { headers: acme })).body);
    expect(live.tasks.map((entry) => entry.id)).toEqual(["acme-running-2"]);
  });

  it("refuses bad queries, cursors and ids with a 400, and requires a key", async () => {
    const { url, acme } = await tenantsWithTasks();
    const refusals: Array<[string, string]> = [
      ["/v1/tasks?state=running", "invalid_request"],
      ["/v1/tasks?limit=0", "invalid_request"],
      ["/v1/tasks?limit=1&limit=2", "invalid_request"],
      ["/v1/tasks?kind=subagent", "invalid_request"],
      ["/v1/tasks?sessionId=a%2Fb", "invalid_request"],
      ["/v1/tasks?cursor=not-a-cursor", "invalid_cursor"],
      [`/v1/tasks?cursor=${Buffer.from("lash.tasks.v1:x:y").toString("base64url")}`, "invalid_cursor"],
    ];
    for (const [path, code] of refusals) {
      const response = await requestJson(`${url}${path}`, { headers: acme });
      expect(response.status, path).toBe(400);
      expect(errorBodySchema.parse(response.body).error.code, path).toBe(code);
    }
    expect((await requestJson(`${url}/v1/tasks/bad%20id/cancel`, { method: "POST", headers: acme })).status).toBe(400);
    expect((await requestJson(`${url}/v1/tasks`)).status).toBe(401);
    expect((await requestJson(`${url}/v1/tasks/acme-running-1/cancel`, { method: "POST" })).status).toBe(401);
    expect((await requestJson(`${url}/v1/tasks`, { method: "DELETE", headers: acme })).status).toBe(405);
  });

  it("lists nothing when no profile has a task host", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]) });
    expect(await requestJson(`${server.url}/v1/tasks?state=all`)).toMatchObject({ status: 200, body: { tasks: [] } });
    expect((await requestJson(`${server.url}/v1/tasks/anything/cancel`, { method: "POST" })).status).toBe(404);
  });
});
