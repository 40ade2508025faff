import {
  createBackgroundRuntimeHost,
  createEmbeddedRuntimeHost,
  createRuntimeCoreConfig,
  InMemorySessionDatabase,
  LashRuntime,
  RuntimeEnvironment,
} from "@lash/core";
import type { BackgroundTaskRecord } from "@lash/protocol";
import { UnknownBackgroundTaskError } from "@lash/protocol";
import { ScriptedProvider } from "@lash/testkit";
import { lastValueFrom, take, toArray } from "rxjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fromBackgroundTaskStream } from "../local/background-task-stream.js";
import { LocalBackgroundTaskHost } from "../local/local-background-task-host.js";

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("background tasks in the runtime", () => {
  let host: LocalBackgroundTaskHost;
  let database: InMemorySessionDatabase;
  let environment: RuntimeEnvironment;

  beforeEach(() => {
    host = new LocalBackgroundTaskHost();
    database = new InMemorySessionDatabase();
    environment = RuntimeEnvironment.builder()
      .withProvider(new ScriptedProvider([], { providerId: "scripted", defaultModel: "model" }))
      .withSessionStoreFactory(database)
      .withBackgroundTaskHost(host)
      .build();
  });

  afterEach(async () => {
    await host.close();
  });

  function runtimeFor(sessionId: string): Promise<LashRuntime> {
    return LashRuntime.builder()
      .withEnvironment(environment)
      .withSessionId(sessionId)
      .withPolicy({ model: "model", maxContextTokens: 100_000 })
      .withStore(database.openSession(sessionId))
      .build();
  }

  it("withBackgroundTaskHost reaches every runtime of the environment, scoped by session id", async () => {
    expect(environment.backgroundTaskHost).toBe(host);
    const runtime = await runtimeFor("root");
    const tasks = runtime.backgroundTasks();
    expect(tasks.host).toBe(host);
    expect(tasks.scope).toEqual({ sessionId: "root" });
    const release = gate();
    const spawned = await tasks.spawn({ id: "monitor:files", kind: "monitor", producer: "test" }, async () => {
      await release.promise;
      return { summary: "watched" };
    });
    expect(spawned.scope).toEqual({ sessionId: "root" });
    expect((await host.list({ sessionId: "root" })).map((task) => task.id)).toEqual(["monitor:files"]);
    const other = await runtimeFor("other");
    expect(await other.backgroundTasks().list()).toEqual([]);
    await expect(other.backgroundTasks().cancel("monitor:files")).rejects.toSatisfy(UnknownBackgroundTaskError.isInstance);
    release.open();
    expect((await tasks.waitFor("monitor:files")).result?.summary).toBe("watched");
  });

  it("park does not orphan tasks: they keep running and the resumed runtime sees, watches and cancels them", async () => {
    const runtime = await runtimeFor("root");
    const release = gate();
    let sawAbort = false;
    await runtime.backgroundTasks().spawn({ id: "first-finishes", kind: "monitor", producer: "test" }, async () => {
      await release.promise;
      return { summary: "done after resume" };
    });
    await runtime.backgroundTasks().spawn({ id: "second-cancelled", kind: "observer", producer: "test" }, async (work) => {
      await new Promise<void>((resolve) => work.signal.addEventListener("abort", () => resolve(), { once: true }));
      sawAbort = true;
    });

    const parked = await runtime.park();
    expect((await host.list({ sessionId: "root" })).map((task) => [task.id, task.state])).toEqual([
      ["first-finishes", "running"],
      ["second-cancelled", "running"],
    ]);

    const resumed = await LashRuntime.resume(parked, environment);
    const tasks = resumed.backgroundTasks();
    const watched = lastValueFrom(fromBackgroundTaskStream(tasks.watch()).pipe(take(3), toArray()));
    expect((await tasks.list()).map((task) => task.id)).toEqual(["first-finishes", "second-cancelled"]);
    release.open();
    expect((await tasks.waitFor("first-finishes")).result?.summary).toBe("done after resume");
    const cancelled = await tasks.cancel("second-cancelled", "no longer needed");
    expect(["cancel_requested", "cancelled"]).toContain(cancelled.state);
    const ended = await tasks.waitFor("second-cancelled");
    expect(ended.state).toBe("cancelled");
    expect(ended.failure?.summary).toBe("no longer needed");
    expect(sawAbort).toBe(true);
    const items = await watched;
    expect(items[0]).toMatchObject({ type: "snapshot" });
    expect(items.slice(1).map((item) => (item.type === "snapshot" ? "snapshot" : `${item.type}:${item.taskId}`))).toEqual([
      "completed:first-finishes",
      "state_changed:second-cancelled",
    ]);
  });

  it("closing a child session applies its tasks' close policies: keep, cancel, transfer to the parent", async () => {
    const runtime = await runtimeFor("root");
    const childId = await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });
    const child = { sessionId: childId };
    let hookCalls = 0;
    await host.registerExternal(child, { id: "keep", kind: "other", producer: "test", closePolicy: "keep" });
    await host.registerExternal(child, { id: "cancel", kind: "other", producer: "test", closePolicy: "cancel" }, async () => {
      hookCalls += 1;
    });
    await host.registerExternal(child, { id: "transfer", kind: "other", producer: "test", closePolicy: "transfer" });

    await runtime.sessions.closeSession(childId);

    const byId = async (id: string): Promise<BackgroundTaskRecord | undefined> => host.get(id);
    expect(await byId("keep")).toMatchObject({ state: "running", scope: { sessionId: "child" } });
    expect(await byId("cancel")).toMatchObject({ state: "cancelled", failure: { summary: "session closed" } });
    expect(hookCalls).toBe(1);
    expect(await byId("transfer")).toMatchObject({ state: "running", scope: { sessionId: "root" } });
    expect((await runtime.backgroundTasks().list()).map((task) => task.id)).toEqual(["transfer"]);
  });

  it("a root session's close applies the policies without a parent (a cooperative task without a hook waits for its owner); withBackgroundRuntimeHost wires a host too", async () => {
    const paired = RuntimeEnvironment.builder()
      .withBackgroundRuntimeHost(createBackgroundRuntimeHost(createEmbeddedRuntimeHost(createRuntimeCoreConfig(), database), host))
      .build();
    expect(paired.backgroundTaskHost).toBe(host);
    expect(paired.sessionStoreFactory).toBe(database);
    const runtime = await LashRuntime.builder()
      .withEnvironment(paired)
      .withSessionId("solo")
      .withPolicy({ model: "m", maxContextTokens: 1_000 })
      .withProvider(new ScriptedProvider([], { providerId: "scripted", defaultModel: "m" }))
      .build();
    await host.registerExternal({ sessionId: "solo" }, { id: "moving", kind: "other", producer: "test", closePolicy: "transfer" });
    await host.registerExternal({ sessionId: "solo" }, { id: "stopping", kind: "other", producer: "test", closePolicy: "cancel" });
    const report = await runtime.backgroundTasks().close();
    expect(report.kept.map((task) => task.id)).toEqual(["moving"]);
    expect(report.cancelled.map((task) => [task.id, task.state])).toEqual([["stopping", "cancel_requested"]]);
  });
});
