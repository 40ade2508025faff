import { InMemorySessionDatabase, LashRuntime, RuntimeEnvironment } from "@lash/core";
import type { BackgroundTaskWatchItem } from "@lash/protocol";
import { ScriptedProvider } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { LocalBackgroundTaskHost } from "./index.js";

// The README's examples, run as written (console output captured instead of printed).
describe("README examples", () => {
  it("local host: watch, spawn with progress, wait", async () => {
    const seen: BackgroundTaskWatchItem[] = [];
    const host = new LocalBackgroundTaskHost({ maxConcurrentTasks: 4 });
    const scope = { sessionId: "session-1" };
    host.watch({ sessionId: "session-1" }).subscribe((item) => seen.push(item));
    await host.spawnManaged(
      scope,
      { id: "monitor:build", kind: "monitor", producer: "example", attempt: { attempt: 0, maxAttempts: 3 } },
      async (work) => {
        await work.progress("compiling");
        if (work.signal.aborted) throw new Error("stopped");
        return { summary: "build green" };
      },
    );
    const ended = await host.waitForTerminal("monitor:build");
    expect([ended.state, ended.result?.summary]).toEqual(["completed", "build green"]);
    await host.close();
    expect(seen.map((item) => item.type)).toEqual(["snapshot", "registered", "progress", "completed"]);
  });

  it("in a runtime: a monitor survives park and is listed by the resumed runtime", async () => {
    const provider = new ScriptedProvider([], { providerId: "scripted", defaultModel: "my-model" });
    const store = new InMemorySessionDatabase().openSession("session-1");
    const host = new LocalBackgroundTaskHost();
    const environment = RuntimeEnvironment.builder().withProvider(provider).withBackgroundTaskHost(host).build();
    const runtime = await LashRuntime.builder().withEnvironment(environment).withModel("my-model").withStore(store).build();
    await runtime.backgroundTasks().spawn({ id: "monitor:inbox", kind: "monitor", producer: "app" }, async ({ signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    });
    const parked = await runtime.park();
    const resumed = await LashRuntime.resume(parked, environment);
    expect((await resumed.backgroundTasks().list()).map((task) => [task.id, task.state])).toEqual([["monitor:inbox", "running"]]);
    await host.close();
    expect((await host.get("monitor:inbox"))?.state).toBe("cancelled");
  });
});
